package local

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestNew(t *testing.T) {
	dir := t.TempDir()
	b, err := New(dir, Options{})
	require.NoError(t, err)
	assert.Equal(t, "local "+dir, b.String())
	require.NoError(t, b.Check(context.Background()))

	rel, err := New(".", Options{})
	require.NoError(t, err)
	wd, _ := os.Getwd()
	assert.Equal(t, "local "+wd, rel.String(), "the root is made absolute")

	missing := filepath.Join(dir, "missing")
	_, err = New(missing, Options{})
	require.ErrorIs(t, err, storage.ErrBucketNotFound)
	assert.Equal(t, storage.Fatal, storage.Classify(err))
	assert.Contains(t, err.Error(), missing)

	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = New(file, Options{})
	require.ErrorIs(t, err, storage.ErrBucketNotFound)
	assert.Contains(t, err.Error(), file+" is not a directory")

	require.NoError(t, os.Remove(file))
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	b, err = New(sub, Options{})
	require.NoError(t, err)
	require.NoError(t, os.Remove(sub))
	assert.ErrorIs(t, b.Check(context.Background()), storage.ErrBucketNotFound)
}

func TestPutStatOpenRoundTrip(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 123456789, time.UTC)
	info, err := b.Put(ctx, "dir/sub/obj.txt", strings.NewReader("hello"),
		storage.ObjectInfo{Size: 5, ModTime: mtime, ContentType: "text/plain", ETag: "ignored"})
	require.NoError(t, err)
	assert.Equal(t, "dir/sub/obj.txt", info.Key)
	assert.Equal(t, int64(5), info.Size)
	assert.True(t, mtime.Equal(info.ModTime))
	assert.Empty(t, info.ETag, "a file has no ETag")
	assert.False(t, info.HasCRC64)

	st, err := b.Stat(ctx, "dir/sub/obj.txt")
	require.NoError(t, err)
	assert.Equal(t, storage.ObjectInfo{Key: "dir/sub/obj.txt", Size: 5, ModTime: st.ModTime}, st)
	assert.True(t, mtime.Equal(st.ModTime))

	fi, err := os.Stat(filepath.Join(b.Root(), "dir", "sub", "obj.txt"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o644), fi.Mode().Perm())
	assert.Equal(t, "hello", get(t, b, "dir/sub/obj.txt", 0, -1))

	// Without a ModTime the file keeps the time it was written.
	before := time.Now().Add(-time.Second)
	info = put(t, b, "now", "x")
	assert.True(t, info.ModTime.After(before))

	// Overwrite replaces the content.
	put(t, b, "dir/sub/obj.txt", "bye")
	assert.Equal(t, "bye", get(t, b, "dir/sub/obj.txt", 0, -1))
	assert.Empty(t, leftovers(t, b.Root(), "dir/sub/obj.txt", "now"))
}

func TestOpenRanges(t *testing.T) {
	b := newTestBackend(t, Options{})
	put(t, b, "ten", "0123456789")
	put(t, b, "empty", "")
	cases := []struct {
		key            string
		offset, length int64
		want           string
		err            error
	}{
		{"ten", 0, -1, "0123456789", nil},
		{"ten", 3, 4, "3456", nil},
		{"ten", 9, -1, "9", nil},
		{"ten", 8, 100, "89", nil}, // past the end: fewer bytes, no error
		{"ten", 0, 0, "", nil},
		{"ten", 10, -1, "", storage.ErrInvalidRange}, // starts at the end
		{"ten", 11, 1, "", storage.ErrInvalidRange},
		{"ten", -1, 1, "", storage.ErrInvalidRange},
		{"empty", 0, -1, "", nil},
		{"empty", 0, 10, "", nil},
		{"empty", 5, -1, "", storage.ErrInvalidRange},
		{"missing", 0, -1, "", storage.ErrNotFound},
	}
	for _, tc := range cases {
		r, info, err := b.Open(context.Background(), tc.key, tc.offset, tc.length)
		if tc.err != nil {
			require.ErrorIs(t, err, tc.err, "%s %d+%d", tc.key, tc.offset, tc.length)
			assert.Equal(t, storage.Permanent, storage.Classify(err))
			continue
		}
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		assert.Equal(t, tc.want, string(data), "%s %d+%d", tc.key, tc.offset, tc.length)
		assert.Equal(t, tc.key, info.Key)
		assert.Equal(t, int64(len(get(t, b, tc.key, 0, -1))), info.Size, "Size is the whole object's")
	}
}

func TestOpenReaderStopsOnCancel(t *testing.T) {
	b := newTestBackend(t, Options{})
	put(t, b, "obj", strings.Repeat("x", 1<<16))
	ctx, cancel := context.WithCancel(context.Background())
	r, _, err := b.Open(ctx, "obj", 0, -1)
	require.NoError(t, err)
	defer func() { _ = r.Close() }()
	buf := make([]byte, 10)
	_, err = r.Read(buf)
	require.NoError(t, err)
	cancel()
	_, err = r.Read(buf)
	assert.ErrorIs(t, err, context.Canceled)

	_, _, err = b.Open(ctx, "obj", 0, -1)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPutSizeMismatchStoresNothing(t *testing.T) {
	cases := []struct {
		name string
		body func() io.Reader
		size int64
		want error
	}{
		{"short", func() io.Reader { return strings.NewReader("abc") }, 4, storage.ErrSizeMismatch},
		{"long", func() io.Reader { return strings.NewReader("abcde") }, 4, storage.ErrSizeMismatch},
		{"negative", func() io.Reader { return strings.NewReader("") }, -1, storage.ErrSizeMismatch},
		{"body fails", func() io.Reader {
			return io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(storage.ErrUnavailable))
		}, 4, storage.ErrUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newTestBackend(t, Options{})
			put(t, b, "keep/old", "old")
			for _, key := range []string{"new/deep/obj", "keep/old"} {
				_, err := b.Put(context.Background(), key, tc.body(), storage.ObjectInfo{Size: tc.size})
				require.ErrorIs(t, err, tc.want)
				assert.Contains(t, err.Error(), key)
			}
			assert.Equal(t, "old", get(t, b, "keep/old", 0, -1), "the old object survives a failed overwrite")
			assert.Empty(t, leftovers(t, b.Root(), "keep/old"), "no temp file, no new directories")
		})
	}
	t.Run("retryable body error stays retryable", func(t *testing.T) {
		b := newTestBackend(t, Options{})
		_, err := b.Put(context.Background(), "k", iotest.ErrReader(storage.ErrUnavailable), storage.ObjectInfo{Size: 1})
		assert.Equal(t, storage.Retryable, storage.Classify(err))
	})
}

func TestPutCanceledMidway(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	body := io.MultiReader(strings.NewReader("first"), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, nil
	}), strings.NewReader("second"))
	_, err := b.Put(ctx, "k", body, storage.ObjectInfo{Size: 11})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, leftovers(t, b.Root()))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestPutParentChildConflicts(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	put(t, b, "a", "file")
	_, err := b.Put(ctx, "a/b/c", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	require.ErrorIs(t, err, storage.ErrInvalidKey)
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	assert.Contains(t, err.Error(), `"a" is an object`)
	assert.Contains(t, err.Error(), `"a/b/c"`)

	put(t, b, "d/e", "x")
	_, err = b.Put(ctx, "d", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
	require.ErrorIs(t, err, storage.ErrInvalidKey)
	assert.Contains(t, err.Error(), "directory holding other keys")
	assert.Contains(t, err.Error(), `"d/..."`)
	assert.Empty(t, leftovers(t, b.Root(), "a", "d/e"))

	// Stat/Open of a key below an object, or of a directory, is "not found".
	for _, key := range []string{"a/b", "d"} {
		_, err = b.Stat(ctx, key)
		assert.ErrorIs(t, err, storage.ErrNotFound, key)
		_, _, err = b.Open(ctx, key, 0, -1)
		assert.ErrorIs(t, err, storage.ErrNotFound, key)
	}

	// Once "d/e" is gone, "d" can be an object: Delete pruned the directory.
	require.NoError(t, b.Delete(ctx, "d/e"))
	put(t, b, "d", "now a file")

	// An empty directory (left by some other tool) holds no object.
	require.NoError(t, os.Mkdir(filepath.Join(b.Root(), "empty"), 0o755))
	put(t, b, "empty", "x")
	assert.Equal(t, "x", get(t, b, "empty", 0, -1))
}

func TestDelete(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	put(t, b, "x/y/z/obj", "1")
	put(t, b, "x/keep", "2")
	require.NoError(t, b.Delete(ctx, "x/y/z/obj"))
	_, err := b.Stat(ctx, "x/y/z/obj")
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.Empty(t, leftovers(t, b.Root(), "x/keep"), "empty parents are removed")

	require.NoError(t, b.Delete(ctx, "x/keep"))
	entries, err := os.ReadDir(b.Root())
	require.NoError(t, err)
	assert.Empty(t, entries)
	_, err = os.Stat(b.Root())
	require.NoError(t, err, "the root itself stays")

	require.NoError(t, b.Delete(ctx, "never/existed"))
	put(t, b, "file", "x")
	require.NoError(t, b.Delete(ctx, "file/below"), "below a file: missing, so fine")

	put(t, b, "dir/child", "x")
	require.NoError(t, b.Delete(ctx, "dir"), "a directory is not an object")
	assert.Equal(t, "x", get(t, b, "dir/child", 0, -1))
}

func TestErrorsNameBackendOpKeyAndPath(t *testing.T) {
	b := newTestBackend(t, Options{})
	_, err := b.Stat(context.Background(), "no/such")
	require.ErrorIs(t, err, storage.ErrNotFound)
	require.ErrorIs(t, err, fs.ErrNotExist, "the OS error stays in the chain")
	var se *storage.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, b.String(), se.Backend)
	assert.Equal(t, "stat", se.Op)
	assert.Equal(t, "no/such", se.Key)
	assert.Contains(t, err.Error(), filepath.Join(b.Root(), "no", "such"))
}

func TestClassifyOS(t *testing.T) {
	pathErr := func(errno syscall.Errno) error { return &fs.PathError{Op: "open", Path: "/r/k", Err: errno} }
	cases := []struct {
		err  error
		want error // nil: passed through unchanged
	}{
		{pathErr(syscall.ENOENT), storage.ErrNotFound},
		{pathErr(syscall.ENOTDIR), storage.ErrNotFound},
		{pathErr(syscall.EACCES), storage.ErrAccessDenied},
		{pathErr(syscall.EPERM), storage.ErrAccessDenied},
		{pathErr(syscall.EROFS), storage.ErrAccessDenied},
		{pathErr(syscall.ENAMETOOLONG), storage.ErrInvalidKey},
		{pathErr(syscall.EIO), nil},
		{context.Canceled, nil},
		{errors.Join(storage.ErrNoSuchUpload, pathErr(syscall.ENOENT)), nil},
	}
	for _, tc := range cases {
		got := classifyOS(tc.err)
		if tc.want == nil {
			assert.Same(t, tc.err, got, "%v", tc.err)
			continue
		}
		assert.ErrorIs(t, got, tc.want, "%v", tc.err)
		assert.ErrorIs(t, got, tc.err, "%v", tc.err)
		assert.Contains(t, got.Error(), "/r/k")
	}
}

// A root deep enough that root+key exceeds PATH_MAX: the OS says
// ENAMETOOLONG, which is a key the backend cannot store here.
func TestPathTooLongIsInvalidKey(t *testing.T) {
	seg := strings.Repeat("r", 250)
	root := t.TempDir()
	for range 14 {
		root = filepath.Join(root, seg)
	}
	require.NoError(t, os.MkdirAll(root, 0o755))
	b, err := New(root, Options{})
	require.NoError(t, err)
	key := strings.Join([]string{seg, seg, seg}, "/")
	_, err = b.Stat(context.Background(), key)
	require.ErrorIs(t, err, storage.ErrInvalidKey)
	require.ErrorIs(t, err, syscall.ENAMETOOLONG)
	_, err = b.Put(context.Background(), key, strings.NewReader(""), storage.ObjectInfo{})
	require.ErrorIs(t, err, storage.ErrInvalidKey)
}

func TestSymlinksAndSpecialFilesAsObjects(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "target", "data")
	require.NoError(t, os.Symlink("target", filepath.Join(root, "link")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	ctx := context.Background()

	plain, err := New(root, Options{})
	require.NoError(t, err)
	_, err = plain.Stat(ctx, "link")
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.ErrorIs(t, err, ErrSymlink)
	_, _, err = plain.Open(ctx, "link", 0, -1)
	require.ErrorIs(t, err, storage.ErrNotFound)
	// Opening a fifo would block; it is not an object.
	_, _, err = plain.Open(ctx, "fifo", 0, -1)
	require.ErrorIs(t, err, storage.ErrNotFound)
	assert.ErrorIs(t, err, ErrSpecialFile)
	require.NoError(t, plain.Delete(ctx, "link"))
	_, err = os.Lstat(filepath.Join(root, "link"))
	require.NoError(t, err, "an unfollowed link is not an object and is left alone")

	follow, err := New(root, Options{FollowSymlinks: true})
	require.NoError(t, err)
	st, err := follow.Stat(ctx, "link")
	require.NoError(t, err)
	assert.Equal(t, int64(4), st.Size)
	assert.Equal(t, "data", get(t, follow, "link", 0, -1))
	require.NoError(t, follow.Delete(ctx, "link"))
	assert.Equal(t, "data", get(t, follow, "target", 0, -1), "deleting a link keeps its target")
}

// Delete prunes directories that a concurrent Put of a sibling has just
// created; Put must cope, and no reader may ever see a partial object.
func TestConcurrentPutDeleteSameDirectory(t *testing.T) {
	b := newTestBackend(t, Options{})
	ctx := context.Background()
	const workers, rounds = 4, 50
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			key := "shared/dir/k" + string(rune('0'+w))
			body := strings.Repeat(string(rune('a'+w)), 1000)
			for range rounds {
				if _, err := b.Put(ctx, key, strings.NewReader(body), storage.ObjectInfo{Size: 1000}); err != nil {
					errs <- err
					return
				}
				r, _, err := b.Open(ctx, key, 0, -1)
				if err == nil {
					var data []byte
					data, err = io.ReadAll(r)
					_ = r.Close()
					if err == nil && string(data) != body {
						err = errors.New("read a different body than was put")
					}
				}
				if err == nil {
					err = b.Delete(ctx, key)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var failed []error
	for range workers {
		if err := <-errs; err != nil {
			failed = append(failed, err)
		}
	}
	require.Empty(t, failed)
	assert.Empty(t, leftovers(t, b.Root()))
}
