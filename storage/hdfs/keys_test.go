package hdfs

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestPathToKey(t *testing.T) {
	cases := []struct {
		root, key, path string
	}{
		{"/data/src", "a", "/data/src/a"},
		{"/data/src/", "a", "/data/src/a"}, // trailing slash on the root
		{"/data//src/./", "a/b", "/data/src/a/b"},
		{"/", "a/b/c", "/a/b/c"},
		{"/data/src", "nested/dir/file.txt", "/data/src/nested/dir/file.txt"},
		{"/data/src", "with space/and more ", "/data/src/with space/and more "},
		{"/data/src", "日本語/ключ/é", "/data/src/日本語/ключ/é"},
		{"/data/src", "odd+%?#&=;:'\"", "/data/src/odd+%?#&=;:'\""},
		{"/data/src", "...", "/data/src/..."}, // a name, not a parent
	}
	for _, tc := range cases {
		t.Run(tc.root+"|"+tc.key, func(t *testing.T) {
			b, err := newBackend(newFake(tc.root, nil), "fake", tc.root, Options{})
			require.NoError(t, err)
			got, err := b.path(tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.path, got)
		})
	}
}

// Keys listed under any root come back as paths relative to it, and Stat
// and Open find them again.
func TestKeysRoundTrip(t *testing.T) {
	keys := []string{"top", "nested/dir/file.txt", "with space/x ", "日本語/ключ", "a+b%20c"}
	for _, root := range []string{"/data/src", "/data/src/", "/"} {
		t.Run(root, func(t *testing.T) {
			f := newFake(root, keyMap(keys...))
			f.put("/outside", []byte("not under root")) // only visible when root is "/"
			b, err := newBackend(f, "fake", root, Options{})
			require.NoError(t, err)
			listed := listKeys(t, b, "", "")
			for _, k := range keys {
				assert.Contains(t, listed, k)
				st, err := b.Stat(t.Context(), k)
				require.NoError(t, err, k)
				assert.Equal(t, k, st.Key)
				rc, _, err := b.Open(t.Context(), k, 0, -1)
				require.NoError(t, err, k)
				data, err := io.ReadAll(rc)
				require.NoError(t, err)
				require.NoError(t, rc.Close())
				assert.Equal(t, k, string(data))
			}
		})
	}
}

func TestInvalidKeys(t *testing.T) {
	b, _ := fakeBackend(t, keyMap("a/b"), Options{})
	for _, k := range []string{"", "/a/b", "a/b/", "a//b", "./a", "a/../b", "..", "a\x00b", "\xff", strings.Repeat("x", storage.MaxKeyLen+1)} {
		_, err := b.Stat(t.Context(), k)
		assert.ErrorIs(t, err, storage.ErrInvalidKey, "%q", k)
		_, _, err = b.Open(t.Context(), k, 0, -1)
		assert.ErrorIs(t, err, storage.ErrInvalidKey, "%q", k)
	}
}

func TestNewRefusesRelativeRoot(t *testing.T) {
	_, err := newBackend(newFake("/", nil), "fake", "data/src", Options{})
	assert.ErrorIs(t, err, storage.ErrConfig)
	_, err = New(Config{Root: "/data"}, Options{})
	assert.ErrorIs(t, err, storage.ErrConfig, "no namenode")
}

func TestNotObjects(t *testing.T) {
	b, f := fakeBackend(t, keyMap("dir/x"), Options{})
	f.symlink(testRoot + "/link")
	for _, k := range []string{"dir", "link"} {
		_, err := b.Stat(t.Context(), k)
		assert.ErrorIs(t, err, storage.ErrNotFound, "%s is not an object", k)
	}
}

func TestReaderClosesOnCancel(t *testing.T) {
	b, f := fakeBackend(t, map[string][]byte{"k": []byte("0123456789")}, Options{})
	var opened *fakeFile
	wrapped := &openSpy{fakeFS: f, onOpen: func(ff *fakeFile) { opened = ff }}
	b.fs = wrapped
	ctx, cancel := context.WithCancel(t.Context())
	rc, _, err := b.Open(ctx, "k", 2, 5)
	require.NoError(t, err)
	buf := make([]byte, 3)
	_, err = io.ReadFull(rc, buf)
	require.NoError(t, err)
	assert.Equal(t, "234", string(buf))
	cancel()
	_, err = rc.Read(buf)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, opened.closed, "the file is closed as soon as ctx is seen done")
	assert.NoError(t, rc.Close(), "closing again is harmless")
}

func TestHDFSChecksumIsEvidenceOnly(t *testing.T) {
	b, _ := fakeBackend(t, map[string][]byte{"k": []byte("abc")}, Options{})
	sum, err := b.HDFSChecksum(t.Context(), "k")
	require.NoError(t, err)
	assert.Equal(t, "900150983cd24fb0d6963f7d28e17f72", sum, "the fake's digest, hex-encoded")
	st, err := b.Stat(t.Context(), "k")
	require.NoError(t, err)
	assert.Empty(t, st.Checksum, "not offered to the copier for comparison")
	_, err = b.HDFSChecksum(t.Context(), "missing")
	assert.ErrorIs(t, err, storage.ErrNotFound)
}

type openSpy struct {
	*fakeFS
	onOpen func(*fakeFile)
}

func (s *openSpy) Open(p string) (file, error) {
	f, err := s.fakeFS.Open(p)
	if err == nil {
		s.onOpen(f.(*fakeFile))
	}
	return f, err
}
