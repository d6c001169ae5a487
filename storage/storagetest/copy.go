package storagetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// The server-side copy cases (storage.ServerCopier). A copy's condition is
// held to the harness's Put claims: the contract says it applies "exactly
// as in Put".

func copier(t *testing.T, b storage.Backend) storage.ServerCopier {
	t.Helper()
	c, ok := b.(storage.ServerCopier)
	if !ok {
		t.Skipf("%s does not implement storage.ServerCopier", b)
	}
	return c
}

// copyMeta is what the copy cases give their sources: the copy must keep
// it where the backend keeps metadata at all.
var copyMeta = storage.ObjectInfo{
	ContentType:  "text/x-ferry-copy",
	CacheControl: "max-age=7",
	Metadata:     map[string]string{"color": "green", "mixed-case": "Kept As Is"},
}

func putMeta(t *testing.T, b storage.Backend, key string, data []byte) {
	t.Helper()
	info := copyMeta
	info.Size = int64(len(data))
	_, err := b.Put(ctxT(t), key, bytes.NewReader(data), info)
	require.NoError(t, err, "put %q", key)
}

// checkCopy asserts dst holds data with src's metadata, and that res
// describes it.
func checkCopy(t *testing.T, h Harness, b storage.Backend, dst string, data []byte, res storage.ObjectInfo) {
	t.Helper()
	assert.Equal(t, int64(len(data)), res.Size, "the copy's result reports its size")
	if storage.EvidenceOf(b).ETagMD5 {
		assert.NotEmpty(t, res.ETag, "the copy's result carries the store's ETag")
	}
	assert.True(t, bytes.Equal(data, read(t, b, dst, 0, -1)), "dst holds src's bytes")
	st := stat(t, b, dst)
	assert.Equal(t, int64(len(data)), st.Size)
	if res.HasCRC64 && st.HasCRC64 {
		assert.Equal(t, st.CRC64, res.CRC64, "the result's CRC64 is the object's")
	}
	if !h.NoMetadata {
		assert.Equal(t, copyMeta.ContentType, st.ContentType, "content type kept")
		assert.Equal(t, copyMeta.CacheControl, st.CacheControl, "cache control kept")
		assert.Equal(t, copyMeta.Metadata, st.Metadata, "user metadata kept")
	}
}

func testCopy(t *testing.T, h Harness) {
	b, _ := h.New(t)
	c := copier(t, b)
	copyTo := func(t *testing.T, src, dst string, cond storage.Condition) (storage.ObjectInfo, error) {
		return c.Copy(ctxT(t), src, dst, storage.ObjectInfo{Condition: cond, ContentType: "ignored/by-copy"})
	}

	t.Run("round trip", func(t *testing.T) {
		data := randomBytes(70<<10, 31)
		putMeta(t, b, "rt/src", data)
		res, err := copyTo(t, "rt/src", "rt/dst", storage.Condition{})
		require.NoError(t, err)
		assert.Equal(t, "rt/dst", res.Key)
		checkCopy(t, h, b, "rt/dst", data, res)
		assert.True(t, bytes.Equal(data, read(t, b, "rt/src", 0, -1)), "src is untouched")
	})
	t.Run("empty object", func(t *testing.T) {
		putMeta(t, b, "empty/src", nil)
		res, err := copyTo(t, "empty/src", "empty/dst", storage.Condition{})
		require.NoError(t, err)
		checkCopy(t, h, b, "empty/dst", []byte{}, res)
	})
	t.Run("odd keys", func(t *testing.T) {
		odd := []string{"with space", "plus+sign", "percent%20sign", "percent%", "question?mark",
			"hash#tag", "amp&and=eq", "unicode/日本語/ключ", "emoji 🚀"}
		for i, k := range odd {
			t.Run(strings.ReplaceAll(k, "/", "|"), func(t *testing.T) {
				data := randomBytes(100+i, uint64(300+i))
				putMeta(t, b, "odd-src/"+k, data)
				res, err := copyTo(t, "odd-src/"+k, "odd-dst/"+k+" copy", storage.Condition{})
				require.NoError(t, err)
				checkCopy(t, h, b, "odd-dst/"+k+" copy", data, res)
			})
		}
	})
	t.Run("missing source", func(t *testing.T) {
		_, err := copyTo(t, "missing/src", "missing/dst", storage.Condition{})
		require.ErrorIs(t, err, storage.ErrNotFound)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
		_, err = b.Stat(ctxT(t), "missing/dst")
		assert.ErrorIs(t, err, storage.ErrNotFound, "nothing was written")
	})
	t.Run("replaces an existing destination", func(t *testing.T) {
		data := randomBytes(5000, 32)
		putMeta(t, b, "over/src", data)
		put(t, b, "over/dst", []byte("an older, different object"))
		res, err := copyTo(t, "over/src", "over/dst", storage.Condition{})
		require.NoError(t, err)
		checkCopy(t, h, b, "over/dst", data, res)
	})
	testCopyConditions(t, h, b, copyTo)
	if m, ok := b.(storage.Multipart); ok {
		assert.Empty(t, uploads(t, m, ""), "copies leave no upload behind")
	}
}

func testCopyConditions(t *testing.T, h Harness, b storage.Backend,
	copyTo func(t *testing.T, src, dst string, cond storage.Condition) (storage.ObjectInfo, error)) {
	cl := h.Conditions
	old, data := []byte("written by the application"), randomBytes(3000, 33)
	putMeta(t, b, "cond/src", data)

	t.Run("if-absent over an existing object is refused", func(t *testing.T) {
		put(t, b, "cond/exists", old)
		_, err := copyTo(t, "cond/src", "cond/exists", storage.IfAbsent())
		refusedBy(t, cl.PutIfAbsent, err, "create-only copy over an existing key")
		assert.Equal(t, old, read(t, b, "cond/exists", 0, -1), "the existing object is untouched")
	})
	t.Run("if-absent on a missing key copies", func(t *testing.T) {
		res, err := copyTo(t, "cond/src", "cond/new", storage.IfAbsent())
		if !cl.PutIfAbsent {
			refusedBy(t, false, err, "create-only copy")
			return
		}
		require.NoError(t, err)
		checkCopy(t, h, b, "cond/new", data, res)
	})
	t.Run("if-absent copy of an empty object", func(t *testing.T) {
		putMeta(t, b, "cond/empty", nil)
		put(t, b, "cond/empty-exists", old)
		_, err := copyTo(t, "cond/empty", "cond/empty-exists", storage.IfAbsent())
		refusedBy(t, cl.PutIfAbsent, err, "create-only copy of an empty object over an existing key")
		assert.Equal(t, old, read(t, b, "cond/empty-exists", 0, -1))
		res, err := copyTo(t, "cond/empty", "cond/empty-new", storage.IfAbsent())
		if !cl.PutIfAbsent {
			refusedBy(t, false, err, "create-only copy")
			return
		}
		require.NoError(t, err)
		checkCopy(t, h, b, "cond/empty-new", []byte{}, res)
	})
	t.Run("if-match with another version is refused", func(t *testing.T) {
		put(t, b, "cond/other", old)
		_, err := copyTo(t, "cond/src", "cond/other", wrongVersion(stat(t, b, "cond/other")))
		refusedBy(t, cl.PutIfMatch, err, "if-match copy onto a different version")
		assert.Equal(t, old, read(t, b, "cond/other", 0, -1), "the existing object is untouched")
	})
	t.Run("if-match with the version checked replaces it", func(t *testing.T) {
		put(t, b, "cond/same", old)
		res, err := copyTo(t, "cond/src", "cond/same", storage.IfMatch(stat(t, b, "cond/same")))
		if !cl.PutIfMatch {
			refusedBy(t, false, err, "if-match copy")
			assert.Equal(t, old, read(t, b, "cond/same", 0, -1))
			return
		}
		require.NoError(t, err)
		checkCopy(t, h, b, "cond/same", data, res)
	})
}

// testCopyLarge copies an object above the backend's single-request copy
// limit, lowered by the harness, so the multipart copy runs.
func testCopyLarge(t *testing.T, h Harness) {
	b, _ := h.New(t)
	c := copier(t, b)
	if h.CopyLimit == nil {
		t.Skip("the harness sets no copy limit: the backend copies any size in one step")
	}
	limit := int64(64 << 10)
	if m, ok := b.(storage.Multipart); ok {
		limit = h.partSize(m)
	}
	h.CopyLimit(b, limit)
	data := randomBytes(int(2*limit+limit/2+1), 34)
	putMeta(t, b, "large/src", data)
	for _, tc := range []struct {
		name string
		cond storage.Condition
		ok   bool
	}{
		{"unconditional", storage.Condition{}, true},
		{"if-absent", storage.IfAbsent(), h.Conditions.PutIfAbsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := "large/dst-" + tc.name
			res, err := c.Copy(ctxT(t), "large/src", dst, storage.ObjectInfo{Condition: tc.cond})
			if !tc.ok {
				refusedBy(t, false, err, "create-only copy")
				return
			}
			require.NoError(t, err)
			checkCopy(t, h, b, dst, data, res)
			_, err = c.Copy(ctxT(t), "large/src", dst, storage.ObjectInfo{Condition: storage.IfAbsent()})
			refusedBy(t, h.Conditions.PutIfAbsent, err, "create-only multipart copy over an existing key")
			assert.True(t, bytes.Equal(data, read(t, b, dst, 0, -1)))
		})
	}
	if m, ok := b.(storage.Multipart); ok {
		assert.Empty(t, uploads(t, m, ""), "refused and completed copies leave no upload behind")
	}
}
