package deploytest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// externalSecrets are the Secrets the operator creates with kubectl
// before applying the manifests (deploy/kubernetes/README.md, "Secrets"):
// their contents are keys and tokens, which do not belong in git, and a
// placeholder committed instead would be applied as if it were real.
var externalSecrets = []string{"ferry-token", "ferry-master-tls", "ferry-ca", "ferry-storage-credentials"}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "repo root not found above the test's directory")
	return root
}

func kubeDir(t *testing.T) string    { return filepath.Join(repoRoot(t), "deploy", "kubernetes") }
func composeDir(t *testing.T) string { return filepath.Join(repoRoot(t), "deploy", "compose") }

// ferry is built once for all tests that read its help; binDir is removed
// by TestMain.
var (
	buildOnce sync.Once
	binDir    string
	ferryBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// ferryHelp returns a help function for CheckFlags backed by the ferry
// binary built from this checkout.
func ferryHelp(t *testing.T) func(string) (map[string]bool, error) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "ferry-deploytest-")
		if buildErr != nil {
			return
		}
		ferryBin = filepath.Join(binDir, "ferry")
		cmd := exec.Command("go", "build", "-o", ferryBin, "./cmd/ferry")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/ferry: " + err.Error() + ": " + string(out))
		}
	})
	require.NoError(t, buildErr)
	var mu sync.Mutex
	cache := map[string]map[string]bool{}
	return func(cmd string) (map[string]bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if f, ok := cache[cmd]; ok {
			return f, nil
		}
		f, err := HelpFlags(ferryBin, cmd)
		if err == nil {
			cache[cmd] = f
		}
		return f, err
	}
}

// requireNoProblems fails with every problem on its own line.
func requireNoProblems(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}
