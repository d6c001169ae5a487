package storagetest

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// orderKeys are chosen so a naive directory walk gets the order wrong:
// '-' < '.' < '/' < '0' byte-wise, and upper case sorts before lower.
var orderKeys = []string{"a-b", "a.b", "a/b", "a/c/d", "a0", "A", "a b", "a+b", "b", "z/y", "é", "~tilde"}

func testListOrder(t *testing.T, h Harness) {
	b, _ := h.New(t)
	for i, k := range orderKeys {
		put(t, b, k, randomBytes(i, uint64(i)))
	}
	want := slices.Clone(orderKeys)
	slices.Sort(want) // Go string order is byte-wise
	got := listAll(t, b, "", "")
	require.Equal(t, want, keysOf(got), "listing is byte-wise lexicographic")
	for _, o := range got {
		assert.Equal(t, int64(slices.Index(orderKeys, o.Key)), o.Size, "size of %q", o.Key)
		assert.False(t, o.ModTime.IsZero(), "list reports ModTime of %q", o.Key)
	}
}

func testListStartAfter(t *testing.T, h Harness) {
	b, _ := h.New(t)
	var keys []string
	for i := 0; i < 25; i++ {
		keys = append(keys, string(rune('a'+i%5))+"/"+string(rune('a'+i/5))) // nested, more than two pages
	}
	slices.Sort(keys)
	for _, k := range keys {
		put(t, b, k, []byte(k))
	}
	require.Equal(t, keys, keysOf(listAll(t, b, "", "")))
	for i, k := range keys {
		assert.Equal(t, nilIfEmpty(keys[i+1:]), keysOf(listAll(t, b, "", k)), "after %q", k)
	}
	assert.Equal(t, keys[5:], keysOf(listAll(t, b, "", "a/zzz")), "startAfter need not exist")
	assert.Equal(t, keys, keysOf(listAll(t, b, "", "a/")), "startAfter a directory name: its contents sort after it")
	assert.Equal(t, keys[5:], keysOf(listAll(t, b, "", "a/\xff")), "startAfter past every key of a directory")
	assert.Empty(t, listAll(t, b, "", "zzz"))

	t.Run("interrupt and resume", func(t *testing.T) {
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
	})
}

func testListPrefix(t *testing.T, h Harness) {
	b, _ := h.New(t)
	all := []string{"p/1", "p/2", "p/x/3", "pa", "q", "p-dash"}
	for _, k := range all {
		put(t, b, k, []byte(k))
	}
	cases := []struct {
		prefix, after string
		want          []string
	}{
		{"p/", "", []string{"p/1", "p/2", "p/x/3"}},
		{"p", "", []string{"p-dash", "p/1", "p/2", "p/x/3", "pa"}},
		{"p/x", "", []string{"p/x/3"}},
		{"p/x/", "", []string{"p/x/3"}},
		{"p/", "p/1", []string{"p/2", "p/x/3"}},
		{"p/", "p/x/3", nil},
		{"p/", "a", []string{"p/1", "p/2", "p/x/3"}},
		{"nope", "", nil},
		{"q", "", []string{"q"}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.prefix+"_after_"+tc.after, "/", "|"), func(t *testing.T) {
			assert.Equal(t, tc.want, keysOf(listAll(t, b, tc.prefix, tc.after)))
		})
	}
}

func testOddKeys(t *testing.T, h Harness) {
	b, _ := h.New(t)
	seg := 200
	if h.MaxSegment > 0 && h.MaxSegment < seg {
		seg = h.MaxSegment
	}
	long := longKey(storage.MaxKeyLen, seg)
	keys := []string{
		"with space", "trailing space ", "plus+sign", "percent%20sign", "percent%", "question?mark", "hash#tag",
		"amp&and=eq", `quote'"`, "semicolon;colon:", "brackets[]{}()", "comma,dollar$at@",
		"unicode/日本語/ключ", "emoji 🚀", "deep/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t",
		long,
	}
	for i, k := range keys {
		data := randomBytes(10+i, uint64(100+i))
		t.Run(strings.ReplaceAll(k[:min(len(k), 20)], "/", "|"), func(t *testing.T) {
			put(t, b, k, data)
			st, err := b.Stat(ctxT(t), k)
			require.NoError(t, err)
			assert.Equal(t, k, st.Key)
			assert.Equal(t, int64(len(data)), st.Size)
			assert.Equal(t, data, read(t, b, k, 0, -1))
			assert.Contains(t, keysOf(listAll(t, b, k, "")), k, "listed under its own prefix")
		})
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	assert.Equal(t, want, keysOf(listAll(t, b, "", "")), "every odd key listed once, in order")

	t.Run("too long", func(t *testing.T) {
		k := longKey(storage.MaxKeyLen+1, seg)
		_, err := b.Put(ctxT(t), k, strings.NewReader("x"), storage.ObjectInfo{Size: 1})
		assert.ErrorIs(t, err, storage.ErrInvalidKey)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
	})
	t.Run("empty key", func(t *testing.T) {
		_, err := b.Stat(ctxT(t), "")
		assert.ErrorIs(t, err, storage.ErrInvalidKey)
	})
}

// longKey builds an n-byte key of segments at most seg bytes long.
func longKey(n, seg int) string {
	var sb strings.Builder
	for sb.Len() < n {
		if sb.Len() > 0 {
			sb.WriteByte('/')
		}
		take := min(seg, n-sb.Len())
		sb.WriteString(strings.Repeat(string(rune('a'+sb.Len()%26)), take))
	}
	s := sb.String()
	if strings.HasSuffix(s, "/") { // never end in a separator
		s = s[:len(s)-1] + "z"
	}
	return s
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func testListLevel(t *testing.T, h Harness) {
	b, _ := h.New(t)
	ll, ok := b.(storage.LevelLister)
	if !ok {
		t.Skipf("%s does not implement storage.LevelLister", b)
	}
	for _, k := range []string{"top1", "top2", "dir1/x", "dir1/sub/y", "dir2/z", "mid", "dir1/sub2/w"} {
		put(t, b, k, []byte(k))
	}
	cases := []struct {
		prefix     string
		objs, dirs []string
	}{
		{"", []string{"mid", "top1", "top2"}, []string{"dir1/", "dir2/"}},
		{"dir1/", []string{"dir1/x"}, []string{"dir1/sub/", "dir1/sub2/"}},
		{"dir1/sub/", []string{"dir1/sub/y"}, nil},
		{"nope/", nil, nil},
	}
	for _, tc := range cases {
		t.Run("level_"+strings.ReplaceAll(tc.prefix, "/", "|"), func(t *testing.T) {
			var objs, dirs, all []string
			err := ll.ListLevel(ctxT(t), tc.prefix, func(o storage.ObjectInfo) error {
				objs = append(objs, o.Key)
				all = append(all, o.Key)
				return nil
			}, func(d string) error {
				dirs = append(dirs, d)
				all = append(all, d)
				return nil
			})
			require.NoError(t, err)
			assert.Equal(t, tc.objs, objs)
			assert.Equal(t, tc.dirs, dirs)
			assert.True(t, slices.IsSorted(all), "objects and prefixes interleave in key order: %q", all)
		})
	}
}
