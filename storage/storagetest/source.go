package storagetest

import (
	"context"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// SourceHarness runs the conformance cases that apply to a read-only
// source (HDFS, an HTTP URL list, ...), which cannot Put its own
// fixtures: the harness seeds them some other way.
//
//	func TestSourceConformance(t *testing.T) { storagetest.RunSource(t, harness) }
//
// The cases: listing order (including '-' < '.' < '/' < '0' across
// directories), startAfter and resume from every key, prefixes, level
// listing (when implemented), ranged reads and ranges past the end, Stat,
// empty objects, odd keys, missing keys and context cancellation.
type SourceHarness struct {
	// Seed stores objs (key → content) in a fresh, empty place and
	// returns a backend reading it. Everything is cleaned up by t. Keys
	// never hold both "a" and "a/b", so file-system-like sources can
	// seed them all.
	Seed func(t *testing.T, objs map[string][]byte) storage.Backend

	// MaxSegment is the longest "/"-separated key segment the source can
	// hold (255 on POSIX filesystems); 0 means no limit.
	MaxSegment int
	// SkipOddKeys lists odd keys (see srcOddKeys) the source cannot
	// hold, each with the reason, which the test's log shows.
	SkipOddKeys map[string]string
}

// RunSource runs every source conformance case as a subtest of t.
func RunSource(t *testing.T, h SourceHarness) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, h SourceHarness)
	}{
		{"ListOrder", srcListOrder},
		{"StartAfterFromEveryKey", srcStartAfter},
		{"ListPrefix", srcListPrefix},
		{"ListLevel", srcListLevel},
		{"StatAndEmpty", srcStat},
		{"RangedReads", srcRangedReads},
		{"OddKeys", srcOddKeys},
		{"NotFound", srcNotFound},
		{"ContextCanceled", srcContextCanceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}

// seedKeys seeds each key with its own name as content.
func seedKeys(t *testing.T, h SourceHarness, keys ...string) storage.Backend {
	objs := make(map[string][]byte, len(keys))
	for _, k := range keys {
		objs[k] = []byte(k)
	}
	return h.Seed(t, objs)
}

func srcListOrder(t *testing.T, h SourceHarness) {
	objs := make(map[string][]byte)
	for i, k := range orderKeys {
		objs[k] = randomBytes(i, uint64(i))
	}
	// A directory whose name is a prefix of files around it: its keys
	// ("d/x") sort after "d.x" and "d-x" but before "d0" and "dx".
	for _, k := range []string{"d/x", "d.x", "d-x", "d0", "dx", "d/.hidden", "d/sub/deep", "d/sub.x"} {
		objs[k] = []byte(k)
	}
	b := h.Seed(t, objs)
	want := slices.Sorted(maps.Keys(objs))
	got := listAll(t, b, "", "")
	require.Equal(t, want, keysOf(got), "listing is byte-wise lexicographic")
	for _, o := range got {
		assert.Equal(t, int64(len(objs[o.Key])), o.Size, "size of %q", o.Key)
		assert.False(t, o.ModTime.IsZero(), "list reports ModTime of %q", o.Key)
	}
}

func srcStartAfter(t *testing.T, h SourceHarness) {
	keys := []string{"a b", "a+b", "a-b", "a.b", "a/b", "a/b/c", "a/b.c", "a/b0", "a0", "b/é/x", "b/日本/y", "z"}
	// "a/b" and "a/b/c" cannot coexist on a filesystem: keep the file.
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "a/b" })
	b := seedKeys(t, h, keys...)
	slices.Sort(keys)
	require.Equal(t, keys, keysOf(listAll(t, b, "", "")))
	for i, k := range keys {
		assert.Equal(t, nilIfEmpty(keys[i+1:]), keysOf(listAll(t, b, "", k)), "after %q", k)
	}
	for _, after := range []string{"a/", "a/b/", "a/\xff", "a.", "b/", "0", "zz"} {
		var want []string
		for _, k := range keys {
			if k > after {
				want = append(want, k)
			}
		}
		assert.Equal(t, want, keysOf(listAll(t, b, "", after)), "after %q (not a key)", after)
	}

	t.Run("interrupt and resume", func(t *testing.T) {
		stop := context.Canceled // any error: List returns it unchanged
		var first []string
		err := b.List(ctxT(t), "", "", func(o storage.ObjectInfo) error {
			first = append(first, o.Key)
			if len(first) == 5 {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		rest := keysOf(listAll(t, b, "", first[len(first)-1]))
		assert.Equal(t, keys, append(first, rest...), "no gap, no duplicate")
	})
}

func srcListPrefix(t *testing.T, h SourceHarness) {
	b := seedKeys(t, h, "p/1", "p/2", "p/x/3", "pa", "q", "p-dash", "p.dot")
	cases := []struct {
		prefix, after string
		want          []string
	}{
		{"p/", "", []string{"p/1", "p/2", "p/x/3"}},
		{"p", "", []string{"p-dash", "p.dot", "p/1", "p/2", "p/x/3", "pa"}},
		{"p/x", "", []string{"p/x/3"}},
		{"p/x/", "", []string{"p/x/3"}},
		{"p/", "p/1", []string{"p/2", "p/x/3"}},
		{"p/", "p/x/3", nil},
		{"p/", "a", []string{"p/1", "p/2", "p/x/3"}},
		{"nope", "", nil},
		{"nope/deeper/", "", nil},
		{"q", "", []string{"q"}},
		{"q/", "", nil},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.prefix+"_after_"+tc.after, "/", "|"), func(t *testing.T) {
			assert.Equal(t, tc.want, keysOf(listAll(t, b, tc.prefix, tc.after)))
		})
	}
}

func srcListLevel(t *testing.T, h SourceHarness) {
	b := seedKeys(t, h, "top1", "top2", "dir1/x", "dir1/sub/y", "dir2/z", "mid", "dir1/sub2/w")
	if _, ok := b.(storage.LevelLister); !ok {
		t.Skipf("%s does not implement storage.LevelLister", b)
	}
	testListLevel(t, Harness{New: func(*testing.T) (storage.Backend, func() storage.Backend) {
		return seeded{b}, nil
	}})
}

// seeded lets the read-write ListLevel case run on a seeded source: its
// Put does nothing, since the objects are already there.
type seeded struct{ storage.Backend }

func (s seeded) Put(_ context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	_, err := io.Copy(io.Discard, body)
	return storage.ObjectInfo{Key: key, Size: info.Size}, err
}

func (s seeded) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	return s.Backend.(storage.LevelLister).ListLevel(ctx, prefix, fn, dirFn)
}
