package storagetest

import (
	"bytes"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// testPartLimits checks what the backend states about its multipart limits
// (storage.PartLimits): the figures agree with each other and with
// MinPartSize, parts of the claimed minimum complete an upload, and part
// number MaxParts is accepted while MaxParts+1 is refused. Parts of
// MaxPart bytes (5 GiB on S3 and OSS) are not tried: too big for a test.
func testPartLimits(t *testing.T, h Harness) {
	b, _ := h.New(t)
	m := multipart(t, b)
	lim := storage.LimitsOf(m)
	assert.Equal(t, m.MinPartSize(), lim.MinPart, "MinPart is MinPartSize")
	assert.Positive(t, lim.MinPart)
	assert.Positive(t, lim.MaxParts)
	if lim.MaxPart > 0 {
		assert.GreaterOrEqual(t, lim.MaxPart, lim.MinPart)
	}
	if lim.MaxPart > 0 && lim.MaxObject > 0 {
		assert.LessOrEqual(t, lim.MaxObject/int64(lim.MaxParts), lim.MaxPart,
			"an object of MaxObject bytes must fit in MaxParts parts of MaxPart")
	}

	ps := lim.MinPart
	if h.StoreMinPart > ps {
		t.Logf("parts of %d bytes: this store refuses the claimed minimum (%d), which is not checked here", h.StoreMinPart, ps)
		ps = h.StoreMinPart
	}
	chunks := [][]byte{randomBytes(int(ps), 41), randomBytes(int(ps), 42), []byte("z")}
	u, err := m.CreateUpload(ctxT(t), "limits/object", storage.ObjectInfo{})
	require.NoError(t, err)
	parts := []storage.Part{
		uploadPart(t, m, u, 1, chunks[0]),
		uploadPart(t, m, u, 2, chunks[1]),
		uploadPart(t, m, u, lim.MaxParts, chunks[2]), // numbers may skip
	}
	_, err = m.UploadPart(ctxT(t), u, lim.MaxParts+1, bytes.NewReader([]byte("x")), 1)
	assert.Error(t, err, "part number %d is beyond MaxParts", lim.MaxParts+1)
	info, err := m.CompleteUpload(ctxT(t), u, parts)
	require.NoError(t, err, "parts of MinPart bytes and a last part of one byte")
	want := slices.Concat(chunks...)
	assert.Equal(t, int64(len(want)), info.Size)
	assert.Equal(t, want, read(t, b, "limits/object", 0, -1))
}
