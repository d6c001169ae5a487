package storage

import (
	"errors"
	"math"
)

// PartLimits are what a store accepts in a multipart upload. The copier
// picks each object's part size from them (worker.PartSize), so that a
// 5 TB object fits in the part count and small parts are not forced up to
// another store's minimum.
//
// Contract, checked by the conformance suite (storagetest):
//   - MinPart equals Multipart.MinPartSize(): every part but the last may
//     be as small as MinPart, and an upload of such parts completes;
//   - parts of up to MaxPart bytes are accepted;
//   - part numbers 1..MaxParts are accepted;
//   - an object of MaxObject bytes can be assembled, so MaxObject is at
//     most MaxPart*MaxParts; a larger object cannot be uploaded at all.
//
// A zero MaxPart or MaxObject means no limit.
type PartLimits struct {
	MinPart   int64
	MaxPart   int64
	MaxParts  int
	MaxObject int64
}

// PartLimiter is implemented by a Multipart backend that states its
// limits. It is separate from Multipart so that wrappers and fakes that
// do not forward it still work: they get S3's limits (LimitsOf), which
// every S3-compatible store accepts.
type PartLimiter interface {
	PartLimits() PartLimits
}

// S3PartLimits are Amazon S3's: parts of 5 MiB to 5 GiB, 10,000 of them,
// objects up to 5 TiB.
func S3PartLimits() PartLimits {
	return PartLimits{MinPart: 5 << 20, MaxPart: 5 << 30, MaxParts: MaxParts, MaxObject: 5 << 40}
}

// OSSPartLimits are Alibaba OSS's: parts of 100 KiB to 5 GiB, 10,000 of
// them, objects up to 48.8 TiB (10,000 parts of 5 GiB).
func OSSPartLimits() PartLimits {
	return PartLimits{MinPart: 100 << 10, MaxPart: 5 << 30, MaxParts: MaxParts, MaxObject: MaxParts * (5 << 30)}
}

// NoPartLimits is for a store that assembles files of any size: parts of
// any size, up to MaxParts of them.
func NoPartLimits() PartLimits {
	return PartLimits{MinPart: 1, MaxParts: MaxParts}
}

// LimitsOf returns m's limits: its own if it states them, else S3's with
// m's minimum part size.
func LimitsOf(m Multipart) PartLimits {
	if l, ok := m.(PartLimiter); ok {
		return l.PartLimits()
	}
	l := S3PartLimits()
	l.MinPart = m.MinPartSize()
	return l
}

// MaxPartOrInf is MaxPart, or the largest int64 for no limit.
func (l PartLimits) MaxPartOrInf() int64 {
	if l.MaxPart <= 0 {
		return math.MaxInt64
	}
	return l.MaxPart
}

// PartCount is how many parts MaxParts allows (storage.MaxParts if unset).
func (l PartLimits) PartCount() int64 {
	if l.MaxParts <= 0 {
		return MaxParts
	}
	return int64(l.MaxParts)
}

// ErrTooLarge is an object larger than the destination can hold: no part
// size fits it. It is permanent: retrying cannot help.
var ErrTooLarge = errors.New("object too large for the destination")
