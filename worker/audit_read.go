package worker

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// readPlan decides whether reading the source can settle what stored
// checksums could not: it can when the destination reports a digest the
// source's bytes can be hashed into — a CRC64, a checksum, an MD5 ETag, or
// a multipart ETag with as many parts as the job's part size makes (ps,
// else 0). Under verify=off nothing is read; under verify=size no ETag is
// trusted, so an ETag alone is no reason to read.
func (c *Copier) readPlan(mode task.VerifyMode, dst storage.ObjectInfo) (plan hashPlan, ps int64, ok bool) {
	if mode == task.VerifyOff {
		return hashPlan{}, 0, false
	}
	plan.crc64 = true // cheap, and the manifest keeps it for the next audit
	ok = dst.HasCRC64
	if algo, _, err := storage.ParseChecksum(dst.Checksum); err == nil {
		plan.check, ok = algo, true
	}
	if mode == task.VerifySize {
		return plan, 0, ok
	}
	if storage.IsMD5ETag(dst.ETag) {
		plan.md5 = true
		return plan, 0, true
	}
	if n := int64(storage.MultipartETagParts(dst.ETag)); n > 0 && dst.Size > 0 {
		lim := storage.NoPartLimits()
		if c.mp != nil {
			lim = storage.LimitsOf(c.mp)
		}
		ps, err := PartSize(c.o.Settings, dst.Size, lim)
		if err == nil && n == (dst.Size+ps-1)/ps {
			return plan, ps, true
		}
	}
	return plan, 0, ok
}

// auditRead reads the source once, through the throttle, hashing what
// plan says (and the MD5 of each part of ps bytes when ps > 0), and
// compares the result with the destination's digest as VerifyDest does
// for a copy. The bytes read are counted in read.
func (c *Copier) auditRead(ctx context.Context, obj task.Object, src, dst storage.ObjectInfo, plan hashPlan, ps int64, read *atomic.Int64) (auditOutcome, error) {
	rc, info, err := c.o.Src.Open(ctx, obj.Key, 0, -1)
	if err != nil {
		return auditOutcome{}, fmt.Errorf("audit: %w", err)
	}
	defer func() { _ = rc.Close() }()
	h := newHashingReader(c.o.Throttle.Reader(ctx, rc), plan, read, nil)
	var parts *partHasher
	w := io.Discard
	if ps > 0 {
		parts = &partHasher{size: ps, h: md5.New()}
		w = parts
	}
	if _, err := io.Copy(w, h); err != nil {
		return auditOutcome{}, fmt.Errorf("audit: reading the source: %w", err)
	}
	sums := h.sums()
	if sums.Size != src.Size {
		return differs(src, dst, fmt.Sprintf("source changed while auditing: stated %d bytes, read %d", src.Size, sums.Size)), nil
	}
	if err := VerifySource(c.o.Settings.Verify, info, sums); err != nil {
		return auditOutcome{}, fmt.Errorf("audit: %w", err)
	}
	// VerifyDest compares a declared checksum with the destination's:
	// here the one computed from the bytes just read.
	sums.Declared = sums.Checksum
	if parts != nil {
		sums.PartMD5s = parts.sums()
	}
	method, err := VerifyDest(c.o.Settings.Verify, sums, dst)
	if err != nil {
		return mismatch(src, dst, "source", err)
	}
	return auditOutcome{Result: task.Result{Status: task.StatusVerified, Method: method, DestETag: dst.ETag,
		CRC64: sums.CRC64, HasCRC64: sums.HasCRC64}, src: src}, nil
}

// partHasher computes the MD5 of each run of size bytes written to it,
// for a multipart ETag.
type partHasher struct {
	size  int64
	h     hash.Hash
	in    int64 // bytes in the current part
	parts [][]byte
}

func (p *partHasher) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		take := min(int64(len(b)), p.size-p.in)
		_, _ = p.h.Write(b[:take]) // hash.Hash writes never fail
		p.in += take
		b = b[take:]
		if p.in == p.size {
			p.parts = append(p.parts, p.h.Sum(nil))
			p.h.Reset()
			p.in = 0
		}
	}
	return n, nil
}

// sums returns the parts' MD5s, the last (short) part included.
func (p *partHasher) sums() [][]byte {
	if p.in > 0 {
		p.parts = append(p.parts, p.h.Sum(nil))
		p.h.Reset()
		p.in = 0
	}
	return p.parts
}

// decodeMD5 returns the binary MD5 of an MD5-shaped ETag.
func decodeMD5(etag string) []byte {
	b, err := hex.DecodeString(storage.TrimETag(etag))
	if err != nil {
		return nil
	}
	return b
}
