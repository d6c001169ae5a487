package storagetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func testRoundTrip(t *testing.T, h Harness) {
	b, _ := h.New(t)
	data := randomBytes(100_000, 1)
	mtime := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	res, err := b.Put(ctxT(t), "dir/obj.bin", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), ModTime: mtime})
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), res.Size)

	st, err := b.Stat(ctxT(t), "dir/obj.bin")
	require.NoError(t, err)
	assert.Equal(t, "dir/obj.bin", st.Key)
	assert.Equal(t, int64(len(data)), st.Size)
	assert.False(t, st.ModTime.IsZero(), "Stat reports a modification time")
	if res.ETag != "" {
		assert.True(t, storage.ETagEqual(res.ETag, st.ETag), "Put ETag %q = Stat ETag %q", res.ETag, st.ETag)
	}

	assert.Equal(t, data, read(t, b, "dir/obj.bin", 0, -1))
	assert.Equal(t, []string{"dir/obj.bin"}, keysOf(listAll(t, b, "", "")))

	require.NoError(t, b.Delete(ctxT(t), "dir/obj.bin"))
	_, err = b.Stat(ctxT(t), "dir/obj.bin")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.Empty(t, listAll(t, b, "", ""))
	assert.NoError(t, b.Delete(ctxT(t), "dir/obj.bin"), "deleting a missing key succeeds")
}

func testEmptyObject(t *testing.T, h Harness) {
	b, _ := h.New(t)
	put(t, b, "empty", nil)
	st, err := b.Stat(ctxT(t), "empty")
	require.NoError(t, err)
	assert.Equal(t, int64(0), st.Size)
	assert.Empty(t, read(t, b, "empty", 0, -1))
	list := listAll(t, b, "", "")
	require.Len(t, list, 1)
	assert.Equal(t, "empty", list[0].Key)
	assert.Equal(t, int64(0), list[0].Size)
}

func testRangedReads(t *testing.T, h Harness) {
	b, _ := h.New(t)
	data := randomBytes(1000, 2)
	put(t, b, "ranged", data)
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
			got := read(t, b, "ranged", tc.off, tc.n)
			assert.Equal(t, data[tc.from:tc.until], got)
		})
	}
	t.Run("info describes whole object", func(t *testing.T) {
		rc, info, err := b.Open(ctxT(t), "ranged", 100, 10)
		require.NoError(t, err)
		rc.Close()
		assert.Equal(t, int64(1000), info.Size)
	})
	for _, off := range []int64{1000, 5000} {
		_, _, err := b.Open(ctxT(t), "ranged", off, -1)
		assert.ErrorIs(t, err, storage.ErrInvalidRange, "offset %d of a 1000-byte object", off)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
	}
}

func testOverwrite(t *testing.T, h Harness) {
	b, _ := h.New(t)
	put(t, b, "k", randomBytes(5000, 3))
	v2 := randomBytes(1234, 4)
	put(t, b, "k", v2)
	assert.Equal(t, v2, read(t, b, "k", 0, -1))
	st, err := b.Stat(ctxT(t), "k")
	require.NoError(t, err)
	assert.Equal(t, int64(1234), st.Size)
	assert.Len(t, listAll(t, b, "", ""), 1)
}

func testPutSizeMismatch(t *testing.T, h Harness) {
	b, _ := h.New(t)
	cases := []struct {
		name     string
		body     []byte
		declared int64
	}{
		{"body shorter", randomBytes(100, 5), 200},
		{"body longer", randomBytes(300, 6), 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "mismatch-" + strings.ReplaceAll(tc.name, " ", "-")
			_, err := b.Put(ctxT(t), key, bytes.NewReader(tc.body), storage.ObjectInfo{Size: tc.declared})
			require.Error(t, err)
			assert.True(t, errors.Is(err, storage.ErrSizeMismatch), "error %v wraps ErrSizeMismatch", err)
			_, err = b.Stat(ctxT(t), key)
			assert.ErrorIs(t, err, storage.ErrNotFound, "nothing stored after a size mismatch")
		})
	}
}

func testMetadata(t *testing.T, h Harness) {
	if h.NoMetadata {
		t.Skip("backend declares NoMetadata: it stores bytes and mtime only")
	}
	b, _ := h.New(t)
	in := storage.ObjectInfo{
		Size:               5,
		ContentType:        "text/x-ferry",
		CacheControl:       "max-age=60",
		ContentDisposition: `attachment; filename="a b.txt"`,
		Metadata:           map[string]string{"color": "blue", "mixed-case": "Value With Spaces"},
	}
	_, err := b.Put(ctxT(t), "meta", strings.NewReader("hello"), in)
	require.NoError(t, err)
	st, err := b.Stat(ctxT(t), "meta")
	require.NoError(t, err)
	check := func(what string, got storage.ObjectInfo) {
		assert.Equal(t, in.ContentType, got.ContentType, what)
		assert.Equal(t, in.CacheControl, got.CacheControl, what)
		assert.Equal(t, in.ContentDisposition, got.ContentDisposition, what)
		assert.Equal(t, in.Metadata, got.Metadata, what)
	}
	check("stat", st)
	rc, info, err := b.Open(ctxT(t), "meta", 0, -1)
	require.NoError(t, err)
	rc.Close()
	check("open", info)
}
