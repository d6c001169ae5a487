package storagetest

import (
	"bytes"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

// splitParts cuts data into parts of ps bytes (the last one shorter).
func splitParts(data []byte, ps int64) [][]byte {
	var parts [][]byte
	for off := int64(0); off < int64(len(data)); off += ps {
		parts = append(parts, data[off:min(off+ps, int64(len(data)))])
	}
	return parts
}

func uploadPart(t *testing.T, m storage.Multipart, u storage.Upload, n int, data []byte) storage.Part {
	t.Helper()
	p, err := m.UploadPart(ctxT(t), u, n, bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err, "upload part %d", n)
	assert.Equal(t, n, p.Number)
	assert.Equal(t, int64(len(data)), p.Size)
	if p.HasCRC64 {
		assert.Equal(t, crc.Checksum(data), p.CRC64, "part %d CRC64", n)
	}
	return p
}

func uploads(t *testing.T, m storage.Multipart, prefix string) []storage.Upload {
	t.Helper()
	var out []storage.Upload
	require.NoError(t, m.ListUploads(ctxT(t), prefix, func(u storage.Upload) error {
		out = append(out, u)
		return nil
	}))
	return out
}

func testMultipart(t *testing.T, h Harness) {
	b, _ := h.New(t)
	m := multipart(t, b)
	ps := h.partSize(m)
	data := randomBytes(int(2*ps+1234), 10)
	info := storage.ObjectInfo{ContentType: "application/x-ferry-test", Metadata: map[string]string{"origin": "multipart"}}
	u, err := m.CreateUpload(ctxT(t), "mp/object", info)
	require.NoError(t, err)
	assert.Equal(t, "mp/object", u.Key)
	assert.NotEmpty(t, u.ID)
	assert.Contains(t, uploads(t, m, "mp/"), u, "an unfinished upload is listed")

	chunks := splitParts(data, ps)
	require.Len(t, chunks, 3)
	parts := make([]storage.Part, len(chunks))
	var wg sync.WaitGroup
	for _, n := range []int{3, 1, 2} { // out of order and concurrent
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := m.UploadPart(ctxT(t), u, n, bytes.NewReader(chunks[n-1]), int64(len(chunks[n-1])))
			if assert.NoError(t, err, "part %d", n) {
				parts[n-1] = p
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())

	listed, err := m.ListParts(ctxT(t), u)
	require.NoError(t, err)
	require.Len(t, listed, 3)
	for i, p := range listed {
		assert.Equal(t, i+1, p.Number, "parts listed in order")
		assert.Equal(t, int64(len(chunks[i])), p.Size)
		assert.True(t, storage.ETagEqual(parts[i].ETag, p.ETag), "part %d ETag", i+1)
	}
	_, err = b.Stat(ctxT(t), "mp/object")
	assert.ErrorIs(t, err, storage.ErrNotFound, "nothing visible before Complete")

	res, err := m.CompleteUpload(ctxT(t), u, parts)
	require.NoError(t, err)
	if res.HasCRC64 {
		assert.Equal(t, crc.Checksum(data), res.CRC64, "completed object's CRC64")
	}
	assert.Equal(t, data, read(t, b, "mp/object", 0, -1))
	assert.Equal(t, data[ps-10:ps+10], read(t, b, "mp/object", ps-10, 20), "range across a part boundary")
	st, err := b.Stat(ctxT(t), "mp/object")
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), st.Size)
	if !h.NoMetadata {
		assert.Equal(t, info.ContentType, st.ContentType)
		assert.Equal(t, info.Metadata, st.Metadata)
	}
	assert.NotContains(t, uploads(t, m, ""), u, "a completed upload is no longer listed")
}

func testMultipartResume(t *testing.T, h Harness) {
	b, reopen := h.New(t)
	m := multipart(t, b)
	ps := h.partSize(m)
	data := randomBytes(int(3*ps+7), 11)
	chunks := splitParts(data, ps)
	require.Len(t, chunks, 4)

	u, err := m.CreateUpload(ctxT(t), "resume/object", storage.ObjectInfo{})
	require.NoError(t, err)
	first := []storage.Part{uploadPart(t, m, u, 1, chunks[0]), uploadPart(t, m, u, 3, chunks[2])}

	// "Crash": a new backend instance knows only the stored Upload value.
	m2 := multipart(t, reopen())
	assert.Contains(t, uploads(t, m2, "resume/"), u, "the new process finds the orphan upload")
	held, err := m2.ListParts(ctxT(t), u)
	require.NoError(t, err)
	require.Len(t, held, 2, "parts sent before the crash are held")
	for i, p := range held {
		assert.Equal(t, first[i].Number, p.Number)
		assert.True(t, storage.ETagEqual(first[i].ETag, p.ETag))
	}
	// Send only what is missing, then complete with the listed parts.
	all := append(slices.Clone(held), uploadPart(t, m2, u, 2, chunks[1]), uploadPart(t, m2, u, 4, chunks[3]))
	slices.SortFunc(all, func(a, b storage.Part) int { return a.Number - b.Number })
	res, err := m2.CompleteUpload(ctxT(t), u, all)
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), res.Size)
	if res.HasCRC64 {
		assert.Equal(t, crc.Checksum(data), res.CRC64)
	}
	assert.Equal(t, data, read(t, b, "resume/object", 0, -1))
}

func testMultipartAbort(t *testing.T, h Harness) {
	b, _ := h.New(t)
	m := multipart(t, b)
	u, err := m.CreateUpload(ctxT(t), "abort/object", storage.ObjectInfo{})
	require.NoError(t, err)
	uploadPart(t, m, u, 1, randomBytes(int(h.partSize(m)), 12))
	require.NoError(t, m.AbortUpload(ctxT(t), u))
	_, err = m.ListParts(ctxT(t), u)
	assert.ErrorIs(t, err, storage.ErrNoSuchUpload)
	assert.Equal(t, storage.Permanent, storage.Classify(err))
	_, err = b.Stat(ctxT(t), "abort/object")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	assert.NoError(t, m.AbortUpload(ctxT(t), u), "abort is safe to repeat")
	assert.NotContains(t, uploads(t, m, ""), u)
	_, err = m.ListParts(ctxT(t), storage.Upload{Key: "abort/object", ID: "no-such-upload-id"})
	assert.ErrorIs(t, err, storage.ErrNoSuchUpload, "unknown upload id")
}
