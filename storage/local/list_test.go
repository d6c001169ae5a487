package local

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// orderKeys are chosen so that a plain filesystem walk gets the order
// wrong: '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < '0', and multi-byte UTF-8
// sorts after ASCII.
func orderKeys() []string {
	return []string{
		"a-b", "a.b", "a/b", "a/c/d", "a/c-d", "a/c.d", "a0",
		"b", "b b/x", "b!", "bz/+%?#", "c/d/e/f", "c/d-e", "é", "中/文",
		"x/.ferry-multipart/y", // reserved only at the root
	}
}

func orderTree(t *testing.T) *Backend {
	t.Helper()
	b := newTestBackend(t, Options{})
	for _, k := range orderKeys() {
		put(t, b, k, "body of "+k)
	}
	return b
}

func TestListByteOrderAcrossDirectories(t *testing.T) {
	b := orderTree(t)
	want := orderKeys()
	slices.Sort(want)
	assert.Equal(t, want, listKeys(t, b, "", ""))
	// Spelled out, the case a filesystem walk gets wrong.
	assert.Equal(t, []string{"a-b", "a.b", "a/b", "a/c-d", "a/c.d", "a/c/d", "a0"}, listKeys(t, b, "a", ""))
}

// Every (prefix, startAfter) pair agrees with filtering the sorted keys.
func TestListPrefixAndStartAfter(t *testing.T) {
	b := orderTree(t)
	all := orderKeys()
	slices.Sort(all)
	prefixes := []string{"", "a", "a/", "a/c", "a/c/", "a.", "b", "b/", "c/d", "c/d/", "c/d/e/f", "é", "中/", "zz", "a//", "x/.ferry-multipart/"}
	starts := append([]string{"", "a", "a/", "a/c", "a/c/", "a/c/z", "b ", "c/d/", "zzz", "\xff"}, all...)
	for _, prefix := range prefixes {
		for _, after := range starts {
			var want []string
			for _, k := range all {
				if strings.HasPrefix(k, prefix) && k > after {
					want = append(want, k)
				}
			}
			got := listKeys(t, b, prefix, after)
			assert.Equal(t, want, got, "prefix %q startAfter %q", prefix, after)
		}
	}
}

// A listing stopped after any key resumes exactly with startAfter = key.
func TestListResumesAfterInterruption(t *testing.T) {
	b := orderTree(t)
	stop := errors.New("page full")
	var pages [][]string
	after := ""
	for {
		var page []string
		err := b.List(context.Background(), "", after, func(oi storage.ObjectInfo) error {
			page = append(page, oi.Key)
			if len(page) == 3 {
				return stop
			}
			return nil
		})
		if len(page) == 0 {
			require.NoError(t, err)
			break
		}
		if len(page) == 3 {
			require.ErrorIs(t, err, stop)
			assert.Same(t, stop, err, "the callback's error comes back unchanged")
		}
		pages = append(pages, page)
		after = page[len(page)-1]
	}
	assert.Equal(t, listKeys(t, b, "", ""), slices.Concat(pages...))
}

func TestListObjectInfo(t *testing.T) {
	b := newTestBackend(t, Options{})
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	_, err := b.Put(context.Background(), "d/f", strings.NewReader("12345"), storage.ObjectInfo{Size: 5, ModTime: mtime})
	require.NoError(t, err)
	put(t, b, "empty", "")
	var got []storage.ObjectInfo
	require.NoError(t, b.List(context.Background(), "", "", func(oi storage.ObjectInfo) error {
		got = append(got, oi)
		return nil
	}))
	require.Len(t, got, 2)
	assert.Equal(t, "d/f", got[0].Key)
	assert.Equal(t, int64(5), got[0].Size)
	assert.True(t, mtime.Equal(got[0].ModTime), "mtime %v", got[0].ModTime)
	assert.False(t, got[0].HasCRC64)
	assert.Equal(t, storage.ObjectInfo{Key: "empty", Size: 0, ModTime: got[1].ModTime}, got[1])
}

// Pruned subtrees are never read: if they were, the fifo inside would be
// reported.
func TestListPrunesSubtreesWithoutReadingThem(t *testing.T) {
	root := t.TempDir()
	for _, k := range []string{"a/1", "b/1", "c/1"} {
		writeFile(t, root, k, "x")
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "a", "fifo"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "c", "fifo"), 0o644))
	b, skips := withSkips(t, root, false)
	cases := []struct {
		prefix, after string
		want          []string
	}{
		{"b", "", []string{"b/1"}},
		{"b/", "", []string{"b/1"}},
		{"", "a0", []string{"b/1"}}, // a/ is entirely <= "a0"; c/ is never reached (stop below)
	}
	for _, tc := range cases {
		*skips = nil
		var got []string
		stop := errors.New("stop")
		err := b.List(context.Background(), tc.prefix, tc.after, func(oi storage.ObjectInfo) error {
			got = append(got, oi.Key)
			if oi.Key == "b/1" {
				return stop // c/ is never reached
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		assert.Equal(t, tc.want, got)
		assert.Empty(t, *skips, "prefix %q after %q read a pruned subtree", tc.prefix, tc.after)
	}
}

func TestListHidesOwnBookkeeping(t *testing.T) {
	b := newTestBackend(t, Options{})
	put(t, b, "d/real", "x")
	writeFile(t, b.Root(), "d/.ferry-tmp-123", "partial")
	writeFile(t, b.Root(), ".ferry-tmp-9", "partial")
	_, err := b.CreateUpload(context.Background(), "big", storage.ObjectInfo{})
	require.NoError(t, err)
	assert.Equal(t, []string{"d/real"}, listKeys(t, b, "", ""))
	assert.Empty(t, listKeys(t, b, ".ferry-multipart/", ""))
	assert.Empty(t, listKeys(t, b, ".", ""))
}

func TestListSkipsAndReports(t *testing.T) {
	root := t.TempDir()
	writeFile(t, root, "dir/file", "0123456789")
	writeFile(t, root, "plain", "p")
	require.NoError(t, os.Symlink("plain", filepath.Join(root, "link-file")))
	require.NoError(t, os.Symlink("dir", filepath.Join(root, "link-dir")))
	require.NoError(t, os.Symlink("nowhere", filepath.Join(root, "link-dangling")))
	require.NoError(t, os.Symlink("..", filepath.Join(root, "dir", "link-up"))) // a cycle
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	sock := filepath.Join(root, "sock")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	require.NoError(t, os.WriteFile(filepath.Join(root, "bad\xffname"), nil, 0o644))

	t.Run("links not followed", func(t *testing.T) {
		b, skips := withSkips(t, root, false)
		assert.Equal(t, []string{"dir/file", "plain"}, listKeys(t, b, "", ""))
		reasons := map[string]error{}
		for _, s := range *skips {
			reasons[s.key] = s.reason
		}
		assert.Len(t, reasons, 7, "%v", *skips)
		for _, k := range []string{"link-file", "link-dir", "link-dangling", "dir/link-up"} {
			assert.ErrorIs(t, reasons[k], ErrSymlink, k)
		}
		assert.ErrorIs(t, reasons["fifo"], ErrSpecialFile)
		assert.Contains(t, reasons["fifo"].Error(), filepath.Join(root, "fifo"))
		assert.Contains(t, reasons["fifo"].Error(), "named pipe")
		assert.ErrorIs(t, reasons["sock"], ErrSpecialFile)
		assert.ErrorIs(t, reasons["bad\xffname"], storage.ErrInvalidKey)
		assert.Contains(t, reasons["bad\xffname"].Error(), "not valid UTF-8")
	})

	t.Run("links followed", func(t *testing.T) {
		b, skips := withSkips(t, root, true)
		var infos []storage.ObjectInfo
		require.NoError(t, b.List(context.Background(), "", "", func(oi storage.ObjectInfo) error {
			infos = append(infos, oi)
			return nil
		}))
		var keys []string
		for _, oi := range infos {
			keys = append(keys, oi.Key)
		}
		assert.Equal(t, []string{"dir/file", "link-dir/file", "link-file", "plain"}, keys)
		assert.Equal(t, int64(10), infos[1].Size, "a followed link reports its target")
		reasons := map[string]error{}
		for _, s := range *skips {
			reasons[s.key] = s.reason
		}
		assert.ErrorIs(t, reasons["dir/link-up/"], ErrLinkCycle)
		assert.ErrorIs(t, reasons["link-dir/link-up/"], ErrLinkCycle)
		assert.ErrorIs(t, reasons["link-dangling"], storage.ErrNotFound)
		assert.Contains(t, reasons["link-dangling"].Error(), filepath.Join(root, "link-dangling"))
	})

	t.Run("without OnSkip the listing fails", func(t *testing.T) {
		root := t.TempDir()
		writeFile(t, root, "dir/file", "x")
		writeFile(t, root, "later", "x")
		require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
		b, err := New(root, Options{})
		require.NoError(t, err)
		var keys []string
		err = b.List(context.Background(), "", "", func(oi storage.ObjectInfo) error {
			keys = append(keys, oi.Key)
			return nil
		})
		require.ErrorIs(t, err, ErrSpecialFile)
		assert.Contains(t, err.Error(), filepath.Join(root, "fifo"))
		assert.Equal(t, []string{"dir/file"}, keys)
	})
}

// Directories so deep that no key under them fits in 1023 bytes are
// reported, not silently dropped.
func TestListReportsKeysTooLong(t *testing.T) {
	root := t.TempDir()
	seg := strings.Repeat("d", 250)
	deep := strings.Join([]string{seg, seg, seg, seg, seg}, "/") + "/f" // > 1023 bytes
	writeFile(t, root, deep, "x")
	long := strings.Join([]string{seg, seg, seg, seg}, "/") + "/" + strings.Repeat("f", 40)
	writeFile(t, root, long, "x") // 1044 bytes: the file itself is too long
	writeFile(t, root, "ok", "x")
	b, skips := withSkips(t, root, false)
	assert.Equal(t, []string{"ok"}, listKeys(t, b, "", ""))
	require.Len(t, *skips, 2)
	for _, s := range *skips {
		assert.ErrorIs(t, s.reason, storage.ErrInvalidKey)
		assert.Contains(t, s.reason.Error(), "1023-byte limit")
	}
}

func TestListHonoursContext(t *testing.T) {
	b := orderTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := b.List(ctx, "", "", func(storage.ObjectInfo) error {
		n++
		cancel()
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, storage.Canceled, storage.Classify(err))
	assert.Equal(t, 1, n)

	err = b.List(ctx, "", "", func(storage.ObjectInfo) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

// Only one directory listing per level is held, so a wide flat directory
// and a deep narrow one both list correctly and in order.
func TestListWideAndDeep(t *testing.T) {
	b := newTestBackend(t, Options{})
	var want []string
	for i := range 300 {
		k := "wide/" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "-" + time.Duration(i).String()
		want = append(want, k)
	}
	deep := strings.TrimSuffix(strings.Repeat("n/", 200), "/")
	want = append(want, deep)
	for _, k := range want {
		writeFile(t, b.Root(), k, "")
	}
	slices.Sort(want)
	assert.Equal(t, want, listKeys(t, b, "", ""))
}

// A random tree over an alphabet of bytes around '/' agrees with sorting,
// for random prefixes and resume points (including ones cut mid-segment).
func TestListRandomTreeMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	alphabet := []string{"a", "b", "-", ".", "0", "é", "~"}
	segment := func() string {
		var sb strings.Builder
		for range 1 + rng.IntN(3) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	b := newTestBackend(t, Options{})
	var keys []string
	isFile := map[string]bool{}
	isDir := map[string]bool{}
	for range 400 {
		segs := make([]string, 1+rng.IntN(4))
		for i := range segs {
			segs[i] = segment()
		}
		key := strings.Join(segs, "/")
		// A filesystem cannot hold "x" and "x/y" at once; skip such keys.
		ok := validateKey(key) == nil && !isFile[key] && !isDir[key]
		for i := 1; ok && i < len(segs); i++ {
			ok = !isFile[strings.Join(segs[:i], "/")]
		}
		if !ok {
			continue
		}
		for i := 1; i < len(segs); i++ {
			isDir[strings.Join(segs[:i], "/")] = true
		}
		isFile[key] = true
		keys = append(keys, key)
		writeFile(t, b.Root(), key, "")
	}
	slices.Sort(keys)
	require.Equal(t, keys, listKeys(t, b, "", ""))
	cut := func() string {
		k := keys[rng.IntN(len(keys))]
		return k[:rng.IntN(len(k)+1)]
	}
	for range 300 {
		prefix, after := cut(), cut()
		if rng.IntN(4) == 0 {
			prefix = ""
		}
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) && k > after {
				want = append(want, k)
			}
		}
		require.Equal(t, want, listKeys(t, b, prefix, after), "prefix %q startAfter %q", prefix, after)
	}
}
