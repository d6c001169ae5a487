package local

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func newTestBackend(t *testing.T, opts Options) *Backend {
	t.Helper()
	b, err := New(t.TempDir(), opts)
	require.NoError(t, err)
	return b
}

func put(t *testing.T, b *Backend, key, body string) storage.ObjectInfo {
	t.Helper()
	info, err := b.Put(context.Background(), key, strings.NewReader(body), storage.ObjectInfo{Size: int64(len(body))})
	require.NoError(t, err, "put %q", key)
	return info
}

func get(t *testing.T, b *Backend, key string, offset, length int64) string {
	t.Helper()
	r, _, err := b.Open(context.Background(), key, offset, length)
	require.NoError(t, err, "open %q", key)
	defer func() { require.NoError(t, r.Close()) }()
	data, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(data)
}

// writeFile creates root/rel directly, as files appear in a source tree
// that ferry did not write.
func writeFile(t *testing.T, root, rel, body string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
}

// listKeys lists and collects keys; skips are recorded when opts has no
// OnSkip of its own.
func listKeys(t *testing.T, b *Backend, prefix, startAfter string) []string {
	t.Helper()
	var keys []string
	err := b.List(context.Background(), prefix, startAfter, func(oi storage.ObjectInfo) error {
		keys = append(keys, oi.Key)
		return nil
	})
	require.NoError(t, err)
	return keys
}

type skipped struct {
	key    string
	reason error
}

// withSkips returns a backend over root that records what List skips.
func withSkips(t *testing.T, root string, follow bool) (*Backend, *[]skipped) {
	t.Helper()
	var got []skipped
	b, err := New(root, Options{FollowSymlinks: follow, OnSkip: func(key string, reason error) {
		got = append(got, skipped{key, reason})
	}})
	require.NoError(t, err)
	return b, &got
}

// leftovers returns every path under root that is not one of keys' files
// or their directories: temporary files, staging, stray directories.
func leftovers(t *testing.T, root string, keys ...string) []string {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		for p := k; p != "."; p = filepath.Dir(p) {
			want[p] = true
		}
	}
	var extra []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if !want[filepath.ToSlash(rel)] {
			extra = append(extra, rel)
		}
		return nil
	})
	require.NoError(t, err)
	return extra
}
