package testserver

import (
	"os/exec"
	"testing"
)

// Chromium finds a Chromium (Debian's `chromium` package) for the browser
// tests. Missing, it fails the test under CI=true, like a missing server,
// and skips it elsewhere with the command that installs it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const fix = "apt-get install -y chromium (`.ci/run` does it)"
	if InCI() {
		t.Fatalf("browser unavailable (CI=true, so this fails): no chromium on $PATH; %s", fix)
	}
	t.Skipf("browser unavailable: no chromium on $PATH; %s", fix)
	return ""
}
