package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnreadableSourceFile: a source file ferry may not read is reported
// failed with its path and cause, the rest is copied, and once the
// operator fixes the permission, retry + run finish the job. Tests run as
// root, whom chmod 000 does not stop, so the binary runs as nobody then.
func TestUnreadableSourceFile(t *testing.T) {
	base, err := os.MkdirTemp("", "ferry-perm-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o777))
	bin := filepath.Join(base, "ferry")
	copyFile(t, ferryBin, bin, 0o755)

	src := filepath.Join(base, "src")
	require.NoError(t, os.MkdirAll(filepath.Join(src, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "ok.txt"), []byte("readable"), 0o644))
	secret := filepath.Join(src, "d", "locked.bin")
	require.NoError(t, os.WriteFile(secret, []byte("locked content"), 0o000))
	cfg := filepath.Join(base, "job.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte("jobName=perm\nsrcType=local\nsrcPrefix="+src+"/\n"+
		"destType=local\ndestPrefix="+filepath.Join(base, "dst")+"/\n"), 0o644))
	data := filepath.Join(base, "data")

	run := func(args ...string) result {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = ferryEnv()
		if os.Geteuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		return result{args: args, code: exitCode(err), stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	}

	r := run("run", "--data-dir", data, "--progress", "none", cfg)
	wantExit(t, r, 1)
	assert.Contains(t, r.stdout, `FAILED "d/locked.bin"`, "the report names the object")
	assert.Contains(t, r.stdout, "access denied")
	assert.Contains(t, r.stdout, secret, "the error names the file")
	got, err := os.ReadFile(filepath.Join(base, "dst", "ok.txt"))
	require.NoError(t, err)
	assert.Equal(t, "readable", string(got), "the readable file was copied")

	f := run("failed", "--data-dir", data, "perm")
	wantExit(t, f, 0)
	assert.Equal(t, 1, strings.Count(f.stdout, "\n"), "exactly one failed object:\n%s", f)
	assert.Contains(t, f.stdout, "d/locked.bin\tpermanent\t")

	// The operator fixes the permission; retry + run finish the job.
	require.NoError(t, os.Chmod(secret, 0o644))
	wantExit(t, run("retry", "--data-dir", data, "perm"), 0)
	r = run("run", "--data-dir", data, "--progress", "none", cfg)
	wantExit(t, r, 0)
	got, err = os.ReadFile(filepath.Join(base, "dst", "d", "locked.bin"))
	require.NoError(t, err)
	assert.Equal(t, "locked content", string(got))
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
