package hdfs

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// oddTree has the names that break a naive walk: directory "dir/b" whose
// keys ("dir/b/...") sort between files "dir/b.c" ('.' 0x2E) and "dir/b0"
// ('0' 0x30), since '/' is 0x2F; directory "z" after file "z.y"; spaces
// and '+' (below '-'), unicode (above ASCII), upper case (below lower).
var oddTree = []string{
	"a", "a b", "a+b", "a-b", "a.b", "a0", "A",
	"dir/b/c", "dir/b.c", "dir/b-c", "dir/b0", "dir/b/c d", "dir/b/ü",
	"日本/ключ", "é", "~tilde", "z/y/x/w", "z.y", "spaces in/a name .txt",
}

func TestListOrder(t *testing.T) {
	b, _ := fakeBackend(t, keyMap(oddTree...), Options{})
	want := slices.Sorted(slices.Values(oddTree))
	assert.Equal(t, want, listKeys(t, b, "", ""), "byte-wise order, whatever the walk order")
	// A walk that lists directory "dir/b" where its name sorts ("b" <
	// "b-c") would put "dir/b/c" before "dir/b-c" and "dir/b.c".
	got := listKeys(t, b, "dir/", "")
	assert.Equal(t, []string{"dir/b-c", "dir/b.c", "dir/b/c", "dir/b/c d", "dir/b/ü", "dir/b0"}, got)
}

func TestListResumeFromEveryKey(t *testing.T) {
	b, _ := fakeBackend(t, keyMap(oddTree...), Options{})
	all := listKeys(t, b, "", "")
	for i, k := range all {
		var want []string
		if i+1 < len(all) {
			want = all[i+1:]
		}
		assert.Equal(t, want, listKeys(t, b, "", k), "resume after %q yields exactly the rest", k)
	}
}

func TestListResumeReadsOnlyWhatItNeeds(t *testing.T) {
	b, f := fakeBackend(t, keyMap("a/1", "a/2", "b/x/1", "b/y/1", "c/1"), Options{})
	assert.Equal(t, []string{"b/y/1", "c/1"}, listKeys(t, b, "", "b/x/1"))
	assert.Zero(t, f.readsUnder(testRoot+"/a"), "a subtree wholly before startAfter is never read")
	assert.Zero(t, f.readsUnder(testRoot+"/b/x/1"), "a file is never read as a directory")

	f.reads = nil
	assert.Equal(t, []string{"b/x/1"}, listKeys(t, b, "b/x/", ""))
	assert.Equal(t, []string{testRoot + "/b/x"}, f.reads, "a deep prefix stats its way down instead of reading directories")
}

func TestListSkips(t *testing.T) {
	objs := keyMap("a/ok", "b/hidden/x", "c")
	denied := &os.PathError{Op: "readdir", Path: testRoot + "/b", Err: os.ErrPermission}

	t.Run("reported and skipped", func(t *testing.T) {
		skipped := map[string]error{}
		b, f := fakeBackend(t, objs, Options{OnSkip: func(k string, err error) { skipped[k] = err }})
		f.symlink(testRoot + "/a/link")
		f.fail(testRoot+"/b", denied)
		assert.Equal(t, []string{"a/ok", "c"}, listKeys(t, b, "", ""))
		require.Len(t, skipped, 2)
		assert.ErrorIs(t, skipped["a/link"], ErrSymlink)
		assert.ErrorIs(t, skipped["b/"], storage.ErrAccessDenied, "an unreadable directory is one skipped entry, not a failed listing")
	})
	t.Run("without OnSkip the listing fails", func(t *testing.T) {
		b, f := fakeBackend(t, objs, Options{})
		f.fail(testRoot+"/b", denied)
		var got []string
		err := b.List(t.Context(), "", "", func(o storage.ObjectInfo) error { got = append(got, o.Key); return nil })
		assert.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Contains(t, err.Error(), `"b/"`)
		assert.Equal(t, []string{"a/ok"}, got, "nothing is lost silently: the listing stops where it failed")
	})
	t.Run("unreadable root fails the listing", func(t *testing.T) {
		skipped := 0
		b, f := fakeBackend(t, objs, Options{OnSkip: func(string, error) { skipped++ }})
		f.fail(testRoot, &os.PathError{Op: "readdir", Path: testRoot, Err: os.ErrPermission})
		err := b.List(t.Context(), "", "", func(storage.ObjectInfo) error { return nil })
		assert.ErrorIs(t, err, storage.ErrAccessDenied)
		assert.Zero(t, skipped)
	})
	t.Run("a directory gone since its parent was read", func(t *testing.T) {
		b, f := fakeBackend(t, objs, Options{})
		f.fail(testRoot+"/b", &os.PathError{Op: "readdir", Path: testRoot + "/b", Err: os.ErrNotExist})
		assert.Equal(t, []string{"a/ok", "c"}, listKeys(t, b, "", ""))
	})
	t.Run("a namenode failure mid-walk is retryable", func(t *testing.T) {
		b, f := fakeBackend(t, objs, Options{OnSkip: func(string, error) {}})
		f.fail(testRoot+"/b", remoteErr("org.apache.hadoop.ipc.StandbyException"))
		err := b.List(t.Context(), "", "", func(storage.ObjectInfo) error { return nil })
		require.Error(t, err, "a transient failure is not a skipped directory")
		assert.True(t, storage.IsRetryable(err), "%v", err)
	})
}

func TestListCallbackErrorStops(t *testing.T) {
	b, _ := fakeBackend(t, keyMap("a", "b", "c"), Options{})
	stop := errors.New("stop")
	n := 0
	err := b.List(t.Context(), "", "", func(storage.ObjectInfo) error { n++; return stop })
	assert.Same(t, stop, err, "the callback's error comes back unchanged")
	assert.Equal(t, 1, n)
}

func TestListInfo(t *testing.T) {
	b, f := fakeBackend(t, map[string][]byte{"x": []byte("12345")}, Options{})
	var got []storage.ObjectInfo
	require.NoError(t, b.List(t.Context(), "", "", func(o storage.ObjectInfo) error { got = append(got, o); return nil }))
	require.Len(t, got, 1)
	assert.Equal(t, int64(5), got[0].Size)
	assert.Equal(t, f.nodes[testRoot+"/x"].mtime, got[0].ModTime)
	assert.False(t, got[0].HasCRC64)
	assert.Empty(t, got[0].Checksum, "HDFS's checksum is never offered for comparison")
	assert.Empty(t, f.stats, "size and mtime come from the directory listing")
}
