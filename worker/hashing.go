package worker

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"io"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// hashingReader computes CRC64 and MD5 of the bytes the destination
// consumes, as it consumes them: verification needs no second read
// (DESIGN §6). It counts the bytes into a shared counter (the object's
// BytesRead, summed over its parts and attempts) and reports them to the
// progress callback.
type hashingReader struct {
	r        io.Reader
	crc      hash.Hash64
	md5      hash.Hash
	n        int64
	counter  *atomic.Int64
	progress func(int64)
}

func newHashingReader(r io.Reader, counter *atomic.Int64, progress func(int64)) *hashingReader {
	return &hashingReader{r: r, crc: crc.New(), md5: md5.New(), counter: counter, progress: progress}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		// hash.Hash writes never fail.
		_, _ = h.crc.Write(p[:n])
		_, _ = h.md5.Write(p[:n])
		h.n += int64(n)
		if h.counter != nil {
			h.counter.Add(int64(n))
		}
		if h.progress != nil {
			h.progress(int64(n))
		}
	}
	return n, err
}

// sums returns what was read so far.
func (h *hashingReader) sums() Sums {
	return Sums{Size: h.n, CRC64: h.crc.Sum64(), MD5: h.md5.Sum(nil)}
}

func hexMD5(b []byte) string { return hex.EncodeToString(b) }
