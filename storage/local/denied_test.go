package local

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// envAsNobody marks the child process that runs a test as user nobody.
const envAsNobody = "FERRY_LOCAL_AS_NOBODY"

// nobody is the conventional unprivileged uid and gid.
const nobody = 65534

// reexecAsNobody runs the current top-level test again in a child process
// as user nobody, and reports whether it did so (the caller then returns:
// the checks ran in the child). Permission checks mean nothing as root,
// which reads any file whatever its mode, and tests run as root here and
// in CI.
func reexecAsNobody(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 || os.Getenv(envAsNobody) == "1" {
		return false
	}
	// A directory nobody may use: the test binary is copied there, since
	// go test builds it under a directory only root can enter, and the
	// child's t.TempDir() lands there through TMPDIR.
	shared, err := os.MkdirTemp("", "ferry-local-nobody-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(shared) })
	require.NoError(t, os.Chmod(shared, 0o777))
	self, err := os.Executable()
	require.NoError(t, err)
	bin := filepath.Join(shared, "local.test")
	copyFile(t, self, bin)

	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Dir = shared
	cmd.Env = append(os.Environ(), envAsNobody+"=1", "TMPDIR="+shared, "GOCOVERDIR="+shared)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "test as nobody (uid %d) failed:\n%s", nobody, out)
	require.Contains(t, string(out), "PASS", "child output:\n%s", out)
	t.Logf("ran as uid %d:\n%s", nobody, out)
	return true
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer func() { _ = in.Close() }()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// TestAccessDeniedAsNobody checks that permission errors come back as
// ErrAccessDenied (Permanent) naming the path, for every operation that
// can meet one.
func TestAccessDeniedAsNobody(t *testing.T) {
	if reexecAsNobody(t) {
		return
	}
	require.NotZero(t, os.Geteuid(), "these checks mean nothing as root")
	ctx := context.Background()

	t.Run("open unreadable file", func(t *testing.T) {
		b, key := deniedHarness(t)
		_, _, err := b.Open(ctx, key, 0, -1)
		require.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
		assert.Contains(t, err.Error(), filepath.Join(b.(*Backend).Root(), key))
		_, err = b.Stat(ctx, key)
		require.NoError(t, err, "stat needs no read permission")
	})

	t.Run("put into read-only directory", func(t *testing.T) {
		b := newTestBackend(t, Options{})
		ro := filepath.Join(b.Root(), "ro")
		require.NoError(t, os.Mkdir(ro, 0o555))
		_, err := b.Put(ctx, "ro/obj", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
		require.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
		assert.Contains(t, err.Error(), ro)
		_, err = b.Put(ctx, "ro/sub/obj", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
		require.ErrorIs(t, err, storage.ErrAccessDenied)
	})

	t.Run("list unreadable directory", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, root, "a", "x")
		writeFile(t, root, "locked/secret", "x")
		writeFile(t, root, "z", "x")
		locked := filepath.Join(root, "locked")
		require.NoError(t, os.Chmod(locked, 0))
		t.Cleanup(func() { _ = os.Chmod(locked, 0o755) }) // so that TempDir can remove it

		b, skips := withSkips(t, root, false)
		assert.Equal(t, []string{"a", "z"}, listKeys(t, b, "", ""))
		require.Len(t, *skips, 1)
		assert.Equal(t, "locked/", (*skips)[0].key)
		assert.ErrorIs(t, (*skips)[0].reason, storage.ErrAccessDenied)
		assert.Contains(t, (*skips)[0].reason.Error(), locked)

		strict, err := New(root, Options{})
		require.NoError(t, err)
		err = strict.List(ctx, "", "", func(storage.ObjectInfo) error { return nil })
		require.ErrorIs(t, err, storage.ErrAccessDenied, "without OnSkip, never skip silently")
		assert.Contains(t, err.Error(), locked)

		// With a prefix inside it, the directory is met by name, not by
		// reading its parent: still reported.
		*skips = nil
		assert.Empty(t, listKeys(t, b, "locked/s", ""))
		require.Len(t, *skips, 1)
		assert.ErrorIs(t, (*skips)[0].reason, storage.ErrAccessDenied)
	})
}

// deniedHarness returns a backend and a key it may not read: a file of
// mode 0000. Only meaningful when not running as root.
func deniedHarness(t *testing.T) (storage.Backend, string) {
	t.Helper()
	b := newTestBackend(t, Options{})
	require.NoError(t, os.WriteFile(filepath.Join(b.Root(), "denied"), []byte("secret"), 0))
	return b, "denied"
}
