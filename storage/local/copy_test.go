package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// TestCopyFailures: a copy that cannot be made names the copy and the
// destination, leaves the destination as it was, and leaves no temporary
// file or directory behind.
func TestCopyFailures(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(t *testing.T, b *Backend)
		src     string
		cond    storage.Condition
		wantErr error
	}{
		{"missing source", nil, "nope", storage.Condition{}, storage.ErrNotFound},
		{"source is a directory of keys", func(t *testing.T, b *Backend) { put(t, b, "dir/inner", "x") },
			"dir", storage.Condition{}, storage.ErrNotFound},
		{"source is an unfollowed link", func(t *testing.T, b *Backend) {
			put(t, b, "target", "linked")
			require.NoError(t, os.Symlink(filepath.Join(b.Root(), "target"), filepath.Join(b.Root(), "link")))
		}, "link", storage.Condition{}, ErrSymlink},
		{"if-absent over an existing object", func(t *testing.T, b *Backend) { put(t, b, "src", "new") },
			"src", storage.IfAbsent(), storage.ErrPrecondition},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBackend(t, Options{})
			put(t, b, "out/dst", "kept")
			if tc.setup != nil {
				tc.setup(t, b)
			}
			before := leftovers(t, b.Root(), "out/dst")
			_, err := b.Copy(context.Background(), tc.src, "out/dst", storage.ObjectInfo{Condition: tc.cond})
			require.ErrorIs(t, err, tc.wantErr)
			var se *storage.Error
			require.True(t, errors.As(err, &se))
			assert.Equal(t, "copy", se.Op)
			assert.Equal(t, "out/dst", se.Key)
			assert.Equal(t, "kept", get(t, b, "out/dst", 0, -1), "the destination is untouched")
			assert.Equal(t, before, leftovers(t, b.Root(), "out/dst"), "nothing left behind")
		})
	}
}

// TestCopyIsIndependent: the copy is a file of its own, not a link to the
// source: replacing or deleting the source leaves it as it was.
func TestCopyIsIndependent(t *testing.T) {
	b := newTestBackend(t, Options{})
	put(t, b, "a/src", "original")
	res, err := b.Copy(context.Background(), "a/src", "b/dst", storage.ObjectInfo{})
	require.NoError(t, err)
	assert.Equal(t, int64(len("original")), res.Size)
	put(t, b, "a/src", "replaced")
	require.NoError(t, b.Delete(context.Background(), "a/src"))
	assert.Equal(t, "original", get(t, b, "b/dst", 0, -1))
}
