package storagetest

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// SourceHarness runs the cases that apply to a read-only source (an HTTP
// URL list, HDFS read through ferry): listing order and continuation,
// prefixes, ranged reads, empty objects, odd keys, missing keys and
// context cancellation. Fixtures go in through the harness, not Put.
type SourceHarness struct {
	// New returns a fresh, empty source and a function that stores an
	// object in it by another route (a file served by nginx, an HDFS
	// write). Objects put after the first List/Stat/Open need not be
	// seen: every case puts all its fixtures first, then reads.
	New func(t *testing.T) (b storage.Backend, put func(key string, data []byte))
	// MaxSegment is as in Harness.
	MaxSegment int
	// SkipOddKeys lists odd keys (see testOddKeys) the store cannot hold,
	// each with the reason in the test's log.
	SkipOddKeys map[string]string
}

// RunSource runs every source case as a subtest of t.
func RunSource(t *testing.T, h SourceHarness) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, h SourceHarness)
	}{
		{"ListOrder", srcListOrder},
		{"ListStartAfter", srcListStartAfter},
		{"ListPrefix", srcListPrefix},
		{"RangedReads", srcRangedReads},
		{"EmptyObject", srcEmptyObject},
		{"OddKeys", srcOddKeys},
		{"NotFound", srcNotFound},
		{"ContextCanceled", srcContextCanceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}

func srcListOrder(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	keys := orderKeys
	for i, k := range keys {
		put(k, randomBytes(i, uint64(i)))
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	got := listAll(t, b, "", "")
	require.Equal(t, want, keysOf(got), "listing is byte-wise lexicographic")
	for _, o := range got {
		assert.Equal(t, int64(slices.Index(keys, o.Key)), o.Size, "size of %q", o.Key)
		assert.False(t, o.ModTime.IsZero(), "list reports ModTime of %q", o.Key)
	}
}

func srcListStartAfter(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	var keys []string
	for i := 0; i < 25; i++ {
		keys = append(keys, string(rune('a'+i%5))+"/"+string(rune('a'+i/5)))
	}
	slices.Sort(keys)
	for _, k := range keys {
		put(k, []byte(k))
	}
	require.Equal(t, keys, keysOf(listAll(t, b, "", "")))
	for i, k := range keys {
		assert.Equal(t, nilIfEmpty(keys[i+1:]), keysOf(listAll(t, b, "", k)), "after %q", k)
	}
	assert.Equal(t, keys[5:], keysOf(listAll(t, b, "", "a/zzz")), "startAfter need not exist")
	assert.Equal(t, keys, keysOf(listAll(t, b, "", "a/")))
	assert.Empty(t, listAll(t, b, "", "zzz"))

	stop := errors.New("stop here")
	var first []string
	err := b.List(ctxT(t), "", "", func(o storage.ObjectInfo) error {
		first = append(first, o.Key)
		if len(first) == 7 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop, "List returns the callback's error unchanged")
	rest := keysOf(listAll(t, b, "", first[len(first)-1]))
	assert.Equal(t, keys, append(first, rest...), "no gap, no duplicate")
}

func srcListPrefix(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	for _, k := range []string{"p/1", "p/2", "p/x/3", "pa", "q", "p-dash"} {
		put(k, []byte(k))
	}
	cases := []struct {
		prefix, after string
		want          []string
	}{
		{"p/", "", []string{"p/1", "p/2", "p/x/3"}},
		{"p", "", []string{"p-dash", "p/1", "p/2", "p/x/3", "pa"}},
		{"p/x/", "", []string{"p/x/3"}},
		{"p/", "p/1", []string{"p/2", "p/x/3"}},
		{"p/", "a", []string{"p/1", "p/2", "p/x/3"}},
		{"nope", "", nil},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, keysOf(listAll(t, b, tc.prefix, tc.after)), "prefix %q after %q", tc.prefix, tc.after)
	}
}

func srcRangedReads(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	data := randomBytes(1000, 2)
	put("ranged", data)
	cases := []struct {
		name        string
		off, n      int64
		from, until int
	}{
		{"head", 0, 10, 0, 10},
		{"tail exact", 990, 10, 990, 1000},
		{"tail past end", 990, 100, 990, 1000},
		{"from offset to end", 500, -1, 500, 1000},
		{"whole", 0, -1, 0, 1000},
		{"last byte", 999, 1, 999, 1000},
		{"zero length", 10, 0, 10, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, data[tc.from:tc.until], read(t, b, "ranged", tc.off, tc.n))
		})
	}
	rc, info, err := b.Open(ctxT(t), "ranged", 100, 10)
	require.NoError(t, err)
	rc.Close()
	assert.Equal(t, int64(1000), info.Size, "info describes the whole object")
	st, err := b.Stat(ctxT(t), "ranged")
	require.NoError(t, err)
	assert.Equal(t, int64(1000), st.Size)
	assert.Empty(t, storage.Changed(st, info), "Stat and Open describe the same object")
	for _, off := range []int64{1000, 5000} {
		_, _, err := b.Open(ctxT(t), "ranged", off, -1)
		assert.ErrorIs(t, err, storage.ErrInvalidRange, "offset %d of a 1000-byte object", off)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
	}
}

func srcEmptyObject(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	put("empty", nil)
	st, err := b.Stat(ctxT(t), "empty")
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.Size)
	assert.Empty(t, read(t, b, "empty", 0, -1))
	assert.Empty(t, read(t, b, "empty", 0, 10))
	list := listAll(t, b, "", "")
	require.Len(t, list, 1)
	assert.Equal(t, int64(0), list[0].Size)
}

func srcOddKeys(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	seg := 200
	if h.MaxSegment > 0 && h.MaxSegment < seg {
		seg = h.MaxSegment
	}
	keys := []string{
		"with space", "plus+sign", "percent%20sign", "percent%", "question?mark", "hash#tag",
		"amp&and=eq", `quote'"`, "semicolon;colon:", "brackets[]{}()", "comma,dollar$at@",
		"unicode/日本語/ключ", "emoji 🚀", "deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t",
		longKey(storage.MaxKeyLen, seg),
	}
	keys = slices.DeleteFunc(keys, func(k string) bool {
		if why, ok := h.SkipOddKeys[k]; ok {
			t.Logf("odd key %q not tested: %s", k, why)
			return true
		}
		return false
	})
	data := map[string][]byte{}
	for i, k := range keys {
		data[k] = randomBytes(10+i, uint64(100+i))
		put(k, data[k])
	}
	for _, k := range keys {
		t.Run(strings.ReplaceAll(k[:min(len(k), 20)], "/", "|"), func(t *testing.T) {
			st, err := b.Stat(ctxT(t), k)
			require.NoError(t, err)
			assert.Equal(t, k, st.Key)
			assert.Equal(t, int64(len(data[k])), st.Size)
			assert.Equal(t, data[k], read(t, b, k, 0, -1))
		})
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	assert.Equal(t, want, keysOf(listAll(t, b, "", "")), "every odd key listed once, in order")
	_, err := b.Stat(ctxT(t), "")
	assert.ErrorIs(t, err, storage.ErrInvalidKey, "empty key")
}

func srcNotFound(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	put("present", []byte("x"))
	for _, op := range []string{"stat", "open", "ranged open"} {
		var err error
		switch op {
		case "stat":
			_, err = b.Stat(ctxT(t), "missing/key")
		case "open":
			_, _, err = b.Open(ctxT(t), "missing/key", 0, -1)
		default:
			_, _, err = b.Open(ctxT(t), "missing/key", 10, 5)
		}
		require.Error(t, err, op)
		assert.ErrorIs(t, err, storage.ErrNotFound, op)
		assert.Equal(t, storage.Permanent, storage.Classify(err), op)
		assert.Contains(t, err.Error(), "missing/key", "%s error names the key", op)
		var se *storage.Error
		if assert.True(t, errors.As(err, &se), "%s returns a *storage.Error", op) {
			assert.Equal(t, b.String(), se.Backend)
		}
	}
}

func srcContextCanceled(t *testing.T, h SourceHarness) {
	b, put := h.New(t)
	put("big", randomBytes(4<<20, 7))
	canceled, cancel := context.WithCancel(ctxT(t))
	cancel()
	isCanceled := func(op string, err error) {
		t.Helper()
		require.Error(t, err, op)
		assert.ErrorIs(t, err, context.Canceled, op)
		assert.Equal(t, storage.Canceled, storage.Classify(err), op)
	}
	_, err := b.Stat(canceled, "big")
	isCanceled("stat", err)
	_, _, err = b.Open(canceled, "big", 0, -1)
	isCanceled("open", err)
	isCanceled("list", b.List(canceled, "", "", func(storage.ObjectInfo) error { return nil }))

	ctx, cancel2 := context.WithCancel(ctxT(t))
	rc, _, err := b.Open(ctx, "big", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	_, err = io.ReadFull(rc, make([]byte, 1024))
	require.NoError(t, err)
	cancel2()
	_, err = io.Copy(io.Discard, rc)
	isCanceled("read after cancel", err)
}
