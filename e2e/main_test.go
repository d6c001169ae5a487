// Package e2e runs the real ferry binary against real S3 servers
// (versitygw over TLS), an OSS look-alike proxy in front of one, and local
// directories, and checks every result independently of ferry's own report:
// destinations are listed and read back with a plain SDK client or the
// filesystem, and compared by key, size, CRC64 and metadata.
//
// TestMain builds the binary once (without -race, so the copies run at
// speed while the tests themselves run under the race detector). Every
// invocation goes through runFerry/startFerry, which also check that no
// secret key ever shows in ferry's output.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// ferryBin is the binary under test, built by TestMain.
var ferryBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	root, err := testserver.ModuleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "ferry-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	ferryBin = filepath.Join(tmp, "ferry")
	build := exec.Command("go", "build", "-o", ferryBin, "./cmd/ferry")
	build.Dir = root
	// The binary is built without the race detector whatever the tests run
	// with: the suite's time budget assumes full-speed copies.
	var flags []string
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if f != "-race" && f != "-race=true" {
			flags = append(flags, f)
		}
	}
	build.Env = append(os.Environ(), "GOFLAGS="+strings.Join(flags, " "))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/ferry: %v\n%s", err, out)
		return 2
	}
	return m.Run()
}
