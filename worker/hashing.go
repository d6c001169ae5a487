package worker

import (
	"crypto/md5"
	"encoding/hex"
	"hash"
	"hash/crc32"
	"io"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

// hashPlan is what one copy (or one part) computes while streaming, decided
// before the first byte from what the two ends can prove (plan.go). Every
// hash costs CPU per byte, and on a busy worker that CPU is taken from the
// transfer: a hash nobody will compare is not computed.
type hashPlan struct {
	crc64 bool // CRC-64/ECMA: the manifest's digest, and OSS's
	md5   bool // for an MD5 ETag that is the only evidence on one side
	// check is the algorithm of the source's own checksum, computed here
	// when no destination validates it for us; "" for none.
	check string
	// declare is the source's checksum handed to a destination that
	// validates it (storage.Evidence.Checksums); "" for none.
	declare string
}

// hashingReader computes the plan's hashes of the bytes the destination
// consumes, as it consumes them: verification needs no second read
// (DESIGN §6). It counts the bytes into a shared counter (the object's
// BytesRead, summed over its parts and attempts) and reports them to the
// progress callback.
type hashingReader struct {
	r        io.Reader
	plan     hashPlan
	hs       []hash.Hash // the plan's hashes, written in one loop
	crc      hash.Hash64
	md5      hash.Hash
	check    hash.Hash
	n        int64
	counter  *atomic.Int64
	progress func(int64)
}

func newHashingReader(r io.Reader, plan hashPlan, counter *atomic.Int64, progress func(int64)) *hashingReader {
	h := &hashingReader{r: r, plan: plan, counter: counter, progress: progress}
	if plan.crc64 {
		h.crc = crc.New()
		h.hs = append(h.hs, h.crc)
	}
	if plan.md5 {
		h.md5 = md5.New()
		h.hs = append(h.hs, h.md5)
	}
	if plan.check != "" {
		h.check = checksumHash(plan.check)
		h.hs = append(h.hs, h.check)
	}
	return h
}

// checksumHash returns a hash computing the storage.Checksum* algorithm
// (storage.ParseChecksum has vetted the name; an unknown one is never
// planned).
func checksumHash(algo string) hash.Hash {
	switch algo {
	case storage.ChecksumCRC32:
		return crc32.NewIEEE()
	case storage.ChecksumCRC32C:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	default:
		return crc.NewNVME()
	}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if n > 0 {
		for _, x := range h.hs {
			_, _ = x.Write(p[:n]) // hash.Hash writes never fail
		}
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

// sums returns what was read so far; digests outside the plan stay unset.
func (h *hashingReader) sums() Sums {
	s := Sums{Size: h.n, Declared: h.plan.declare}
	if h.crc != nil {
		s.CRC64, s.HasCRC64 = h.crc.Sum64(), true
	}
	if h.md5 != nil {
		s.MD5 = h.md5.Sum(nil)
	}
	if h.check != nil {
		s.Checksum = storage.FormatChecksum(h.plan.check, h.check.Sum(nil))
	}
	return s
}

func hexMD5(b []byte) string {
	if b == nil {
		return ""
	}
	return hex.EncodeToString(b)
}
