package s3_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// nvmeSum is the ObjectInfo.Checksum form of data's CRC64NVME, computed
// here so the backend's answers are checked against an independent value.
func nvmeSum(data []byte) string {
	return storage.FormatChecksum(storage.ChecksumCRC64NVME, binary.BigEndian.AppendUint64(nil, crc.ChecksumNVME(data)))
}

func checksumBackend(t *testing.T, srv *testserver.S3Server, bucket, mode string) *s3.Backend {
	t.Helper()
	srv.CreateBucket(t, bucket)
	c := s3Config(srv)
	c.Bucket, c.Checksums = bucket, mode
	b, err := s3.New(t.Context(), c)
	require.NoError(t, err)
	return b
}

// TestChecksumPassthrough: versitygw, like AWS, keeps a CRC64NVME of every
// object; the backend reads it on whole reads and HEADs, and a write given
// one is validated by the store (a wrong one stores nothing).
func TestChecksumPassthrough(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	ctx := t.Context()
	b := checksumBackend(t, srv, "sums", "")
	data := make([]byte, 300<<10)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := nvmeSum(data)
	wrong := nvmeSum(data[1:])

	assert.Equal(t, storage.Evidence{ETagMD5: true, Checksums: true}, b.Evidence())

	t.Run("stored checksum read on whole reads only", func(t *testing.T) {
		_, err := b.Put(ctx, "plain", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
		require.NoError(t, err)
		rc, info, err := b.Open(ctx, "plain", 0, -1)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, rc)
		require.NoError(t, rc.Close())
		assert.Equal(t, want, info.Checksum)
		rc, info, err = b.Open(ctx, "plain", 10, 100)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		assert.Empty(t, info.Checksum, "a ranged read carries no whole-object checksum")
		st, err := b.Stat(ctx, "plain")
		require.NoError(t, err)
		assert.Equal(t, want, st.Checksum)
	})
	t.Run("put validates a declared checksum", func(t *testing.T) {
		res, err := b.Put(ctx, "declared", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), Checksum: want})
		require.NoError(t, err)
		assert.Equal(t, want, res.Checksum, "the store reports the checksum of what it stored")

		_, err = b.Put(ctx, "refused", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), Checksum: wrong})
		require.ErrorIs(t, err, storage.ErrCorrupt)
		_, err = b.Stat(ctx, "refused")
		assert.ErrorIs(t, err, storage.ErrNotFound, "a refused write stores nothing")
	})
	t.Run("multipart validates the declared whole-object checksum", func(t *testing.T) {
		big := bytes.Repeat(data, 40) // 12 MiB: parts of 5, 5 and 2 MiB
		for _, c := range []struct {
			name, declared string
			ok             bool
		}{{"right", nvmeSum(big), true}, {"wrong", wrong, false}} {
			u, err := b.CreateUpload(ctx, "mp-"+c.name, storage.ObjectInfo{Checksum: c.declared})
			require.NoError(t, err)
			assert.Equal(t, c.declared, u.Checksum)
			var parts []storage.Part
			for n, off := 1, 0; off < len(big); n, off = n+1, off+5<<20 {
				end := min(off+5<<20, len(big))
				// A fresh Upload value with only the plain data, as a
				// resuming process has it, must complete just the same.
				p, err := b.UploadPart(ctx, storage.Upload{Key: u.Key, ID: u.ID, Checksum: u.Checksum}, n, bytes.NewReader(big[off:end]), int64(end-off))
				require.NoError(t, err)
				parts = append(parts, p)
			}
			info, err := b.CompleteUpload(ctx, storage.Upload{Key: u.Key, ID: u.ID, Checksum: c.declared}, parts)
			if c.ok {
				require.NoError(t, err)
				assert.Equal(t, c.declared, info.Checksum)
				continue
			}
			require.ErrorIs(t, err, storage.ErrCorrupt)
			_, err = b.Stat(ctx, "mp-"+c.name)
			assert.ErrorIs(t, err, storage.ErrNotFound)
			require.NoError(t, b.AbortUpload(ctx, u))
		}
	})
	t.Run("when_required neither reads nor sends checksums", func(t *testing.T) {
		off := checksumBackend(t, srv, "nosums", s3.ChecksumWhenRequired)
		assert.Equal(t, storage.Evidence{ETagMD5: true}, off.Evidence())
		_, err := off.Put(ctx, "x", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)), Checksum: wrong})
		require.NoError(t, err, "the checksum is not sent, so nothing refuses it")
		rc, info, err := off.Open(ctx, "x", 0, -1)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		assert.Empty(t, info.Checksum)
	})
}
