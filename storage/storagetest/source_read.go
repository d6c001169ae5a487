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

// The read cases of RunSource (see SourceHarness).

func srcStat(t *testing.T, h SourceHarness) {
	data := randomBytes(100_000, 1)
	b := h.Seed(t, map[string][]byte{"dir/obj.bin": data, "empty": nil})
	st, err := b.Stat(ctxT(t), "dir/obj.bin")
	require.NoError(t, err)
	assert.Equal(t, "dir/obj.bin", st.Key)
	assert.Equal(t, int64(len(data)), st.Size)
	assert.False(t, st.ModTime.IsZero(), "Stat reports a modification time")
	assert.Equal(t, data, read(t, b, "dir/obj.bin", 0, -1))

	st, err = b.Stat(ctxT(t), "empty")
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.Size)
	assert.Empty(t, read(t, b, "empty", 0, -1))
	list := listAll(t, b, "", "")
	require.Len(t, list, 2)
	assert.Equal(t, "empty", list[1].Key)
	assert.Equal(t, int64(0), list[1].Size, "an empty object is listed with size 0")

	_, err = b.Stat(ctxT(t), "dir")
	assert.ErrorIs(t, err, storage.ErrNotFound, "a directory is not an object")
}

func srcRangedReads(t *testing.T, h SourceHarness) {
	data := randomBytes(1000, 2)
	b := h.Seed(t, map[string][]byte{"ranged": data})
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
	t.Run("info describes whole object", func(t *testing.T) {
		rc, info, err := b.Open(ctxT(t), "ranged", 100, 10)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		assert.Equal(t, int64(1000), info.Size)
	})
	for _, off := range []int64{1000, 5000} {
		_, _, err := b.Open(ctxT(t), "ranged", off, -1)
		assert.ErrorIs(t, err, storage.ErrInvalidRange, "offset %d of a 1000-byte object", off)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
	}
}

func srcOddKeys(t *testing.T, h SourceHarness) {
	seg := 200
	if h.MaxSegment > 0 && h.MaxSegment < seg {
		seg = h.MaxSegment
	}
	keys := []string{
		"with space", "trailing space ", "plus+sign", "percent%20sign", "percent%", "question?mark", "hash#tag",
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
	objs := make(map[string][]byte)
	for i, k := range keys {
		objs[k] = randomBytes(10+i, uint64(100+i))
	}
	b := h.Seed(t, objs)
	for _, k := range keys {
		t.Run(strings.ReplaceAll(k[:min(len(k), 20)], "/", "|"), func(t *testing.T) {
			st, err := b.Stat(ctxT(t), k)
			require.NoError(t, err)
			assert.Equal(t, k, st.Key)
			assert.Equal(t, int64(len(objs[k])), st.Size)
			assert.Equal(t, objs[k], read(t, b, k, 0, -1))
			assert.Contains(t, keysOf(listAll(t, b, k, "")), k, "listed under its own prefix")
		})
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	assert.Equal(t, want, keysOf(listAll(t, b, "", "")), "every odd key listed once, in order")

	t.Run("invalid keys", func(t *testing.T) {
		for _, k := range []string{"", longKey(storage.MaxKeyLen+1, seg)} {
			_, err := b.Stat(ctxT(t), k)
			assert.ErrorIs(t, err, storage.ErrInvalidKey, "stat of a %d-byte key", len(k))
			assert.Equal(t, storage.Permanent, storage.Classify(err))
		}
	})
}

func srcNotFound(t *testing.T, h SourceHarness) {
	b := seedKeys(t, h, "present", "dir/present")
	for _, key := range []string{"missing/key", "dir/missing", "present/below"} {
		check := func(op string, err error) {
			t.Helper()
			require.Error(t, err, op)
			assert.ErrorIs(t, err, storage.ErrNotFound, "%s %q", op, key)
			assert.Equal(t, storage.Permanent, storage.Classify(err), op)
			assert.Contains(t, err.Error(), key, "%s error names the key", op)
			var se *storage.Error
			if assert.True(t, errors.As(err, &se), "%s returns a *storage.Error", op) {
				assert.Equal(t, b.String(), se.Backend)
			}
		}
		_, err := b.Stat(ctxT(t), key)
		check("stat", err)
		_, _, err = b.Open(ctxT(t), key, 0, -1)
		check("open", err)
		_, _, err = b.Open(ctxT(t), key, 10, 5)
		check("ranged open", err)
	}
}

func srcContextCanceled(t *testing.T, h SourceHarness) {
	data := randomBytes(4<<20, 7)
	b := h.Seed(t, map[string][]byte{"big": data, "dir/a": nil})
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
	err = b.List(canceled, "", "", func(storage.ObjectInfo) error { return nil })
	isCanceled("list", err)

	t.Run("mid-list", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxT(t))
		n := 0
		err := b.List(ctx, "", "", func(storage.ObjectInfo) error {
			n++
			cancel()
			return nil
		})
		isCanceled("list after cancel", err)
		assert.Equal(t, 1, n, "no object is listed after cancel")
	})
	t.Run("mid-read", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxT(t))
		rc, _, err := b.Open(ctx, "big", 0, -1)
		require.NoError(t, err)
		defer rc.Close()
		_, err = io.ReadFull(rc, make([]byte, 1024))
		require.NoError(t, err)
		cancel()
		_, err = io.Copy(io.Discard, rc)
		isCanceled("read after cancel", err)
	})
}
