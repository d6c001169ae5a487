package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether tests run under CI=true, where a missing server is a
// failure, never a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops the test because a server cannot be had: a failure in CI,
// a skip (with what to run) elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("test server unavailable (CI=true, so this fails): %s", msg)
	}
	t.Skipf("test server unavailable: %s (run `make testservers`)", msg)
}

// Binary finds name in the project cache (.cache/bin above the test's
// directory), then in $FERRY_CACHE/bin, then on $PATH.
func Binary(t testing.TB, name string) string {
	t.Helper()
	var candidates []string
	if c := os.Getenv("FERRY_CACHE"); c != "" {
		candidates = append(candidates, filepath.Join(c, "bin", name))
	}
	if root, err := ModuleRoot(); err == nil {
		candidates = append(candidates, filepath.Join(root, ".cache", "bin", name))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Unavailable(t, "%s not found in %v or $PATH", name, candidates)
	return ""
}

// ModuleRoot walks up from the working directory to the directory holding
// go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
