// Package plan sizes a job before it runs (`ferry plan`): it lists or
// samples the source the way a pass would, counts the requests the copy
// will make, measures a per-node rate with a short copy probe, and turns
// those into the nodes a deadline needs. The arithmetic lives in pure
// functions (Tally, Rate, Estimate) so it can be checked without servers.
package plan

import (
	"math"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

// The size histogram's buckets are bounded by powers of sixteen from
// 4 KiB, which separate what costs requests (the first buckets: a HEAD, a
// GET and a PUT weigh more than the bytes) from what costs bandwidth, and
// call out the objects big enough to need a raised part size (>= 4 GiB at
// the smallest part sizes). Empty objects get a bucket of their own; the
// last bucket is open. bucketBounds are the exclusive upper bounds.
func bucketBounds() [NumBuckets - 1]int64 {
	return [...]int64{1, 4 << 10, 64 << 10, 1 << 20, 16 << 20, 256 << 20, 4 << 30}
}

// NumBuckets is the number of histogram buckets.
const NumBuckets = 8

// BucketLabel names bucket i for output.
func BucketLabel(i int) string {
	return [NumBuckets]string{"0 B", "< 4 KiB", "< 64 KiB", "< 1 MiB", "< 16 MiB", "< 256 MiB", "< 4 GiB", ">= 4 GiB"}[i]
}

// BucketBelow is bucket i's exclusive upper bound in bytes, 0 for the
// last (open) one.
func BucketBelow(i int) int64 {
	if i >= NumBuckets-1 {
		return 0
	}
	return bucketBounds()[i]
}

// BucketOf is the histogram bucket of an object of size bytes.
func BucketOf(size int64) int {
	for i, b := range bucketBounds() {
		if size < b {
			return i
		}
	}
	return NumBuckets - 1
}

// Histogram counts objects and bytes per size bucket.
type Histogram struct {
	Objects [NumBuckets]int64
	Bytes   [NumBuckets]int64
}

// Requests are the object-store requests of a first, complete copy into
// an empty destination: the cost drivers. A pass over objects that are
// already there costs HEADs instead (the overwrite check finds them).
type Requests struct {
	List         int64 `json:"list"`          // source LIST pages
	HeadDest     int64 `json:"head_dest"`     // the overwrite check: one per object the copier looks at first
	HeadSrc      int64 `json:"head_src"`      // one per multipart copy (what the parts are checked against)
	Get          int64 `json:"get"`           // source reads: one per single-part object, one per part
	Put          int64 `json:"put"`           // single-part writes
	CreateUpload int64 `json:"create_upload"` // CreateMultipartUpload
	UploadPart   int64 `json:"upload_part"`
	Complete     int64 `json:"complete"` // CompleteMultipartUpload
	// GetDest: verify=reread reads every copy back.
	GetDest int64 `json:"get_dest"`
}

// Head is every HEAD, both sides.
func (r Requests) Head() int64 { return r.HeadDest + r.HeadSrc }

// Total is every request.
func (r Requests) Total() int64 {
	return r.List + r.Head() + r.Get + r.Put + r.CreateUpload + r.UploadPart + r.Complete + r.GetDest
}

// Shape is what decides an object's requests: the job's copy settings as
// the copier applies them, and the destination's multipart support.
type Shape struct {
	Threshold   int64 // multipartUploadThreshold
	PartSize    int64 // multipartUploadPartSize
	MinPartSize int64 // the destination's minimum part size
	// Limits are the destination's part limits (storage.LimitsOf); zero:
	// S3's, with MinPartSize.
	Limits    storage.PartLimits
	Multipart bool // the destination has multipart uploads
	Reread    bool // verify=reread
	// BlindCreate: the copier writes single-part objects create-only
	// without a HEAD first (the destination enforces it: worker.Options.
	// CreateOnlyEnforced), so a fresh copy of one costs no overwrite check.
	BlindCreate bool
}

// multipart says whether an object of size bytes goes in parts, with the
// copier's rule (worker.Copier.write).
func (s Shape) multipart(size int64) bool {
	return s.Multipart && size > 0 && size >= s.Threshold
}

// Parts is the number of parts of an object of size bytes, and the part
// size (worker.PartSize: the configured one, raised past 10,000 parts).
// An object too large for the destination counts as one part of its
// size: the copy of it will fail, and the plan's counts say what was
// listed.
func (s Shape) Parts(size int64) (n int64, partSize int64) {
	lim := s.Limits
	if lim == (storage.PartLimits{}) {
		lim = storage.S3PartLimits()
		lim.MinPart = s.MinPartSize
	}
	ps, err := worker.PartSize(task.CopySettings{PartSize: s.PartSize}, size, lim)
	if err != nil {
		return 1, size
	}
	return (size + ps - 1) / ps, ps
}

// Tally sums the objects of a listing (or of one prefix of it).
type Tally struct {
	Objects int64
	Bytes   int64
	Hist    Histogram
	Req     Requests // LIST excepted: pages depend on how the listing is cut
	// Multipart objects and how many of them need a raised part size,
	// with the largest part size the copier will use.
	MultipartObjects int64
	Raised           int64
	MaxPartSize      int64
	// SmallObjects/SmallBytes: objects under SmallLimit, whose cost is
	// per request rather than per byte (the probe times them apart).
	SmallObjects, SmallBytes int64
}

// SmallLimit separates small objects (per-request cost) from large ones
// (bandwidth) for the rate model and the probe.
const SmallLimit = 1 << 20

// Add counts one object of size bytes copied with s.
func (t *Tally) Add(s Shape, size int64) {
	t.Objects++
	t.Bytes += size
	b := BucketOf(size)
	t.Hist.Objects[b]++
	t.Hist.Bytes[b] += size
	if size < SmallLimit {
		t.SmallObjects++
		t.SmallBytes += size
	}
	if !s.BlindCreate || s.multipart(size) {
		t.Req.HeadDest++
	}
	if s.Reread {
		t.Req.GetDest++
	}
	if !s.multipart(size) {
		t.Req.Get++
		t.Req.Put++
		return
	}
	n, ps := s.Parts(size)
	t.MultipartObjects++
	if ps > s.PartSize {
		t.Raised++
	}
	t.MaxPartSize = max(t.MaxPartSize, ps)
	t.Req.HeadSrc++
	t.Req.CreateUpload++
	t.Req.UploadPart += n
	t.Req.Get += n
	t.Req.Complete++
}

// Merge adds u to t.
func (t *Tally) Merge(u Tally) {
	t.Objects += u.Objects
	t.Bytes += u.Bytes
	for i := range t.Hist.Objects {
		t.Hist.Objects[i] += u.Hist.Objects[i]
		t.Hist.Bytes[i] += u.Hist.Bytes[i]
	}
	t.Req = addRequests(t.Req, u.Req, 1)
	t.MultipartObjects += u.MultipartObjects
	t.Raised += u.Raised
	t.MaxPartSize = max(t.MaxPartSize, u.MaxPartSize)
	t.SmallObjects += u.SmallObjects
	t.SmallBytes += u.SmallBytes
}

// Scaled is t with every count multiplied by f (rounded): a sample's
// tally extrapolated to the whole. MaxPartSize is not scaled.
func (t Tally) Scaled(f float64) Tally {
	r := func(n int64) int64 { return int64(math.Round(float64(n) * f)) }
	u := Tally{Objects: r(t.Objects), Bytes: r(t.Bytes), MultipartObjects: r(t.MultipartObjects),
		Raised: r(t.Raised), MaxPartSize: t.MaxPartSize, SmallObjects: r(t.SmallObjects), SmallBytes: r(t.SmallBytes)}
	for i := range t.Hist.Objects {
		u.Hist.Objects[i] = r(t.Hist.Objects[i])
		u.Hist.Bytes[i] = r(t.Hist.Bytes[i])
	}
	u.Req = addRequests(Requests{}, t.Req, f)
	return u
}

func addRequests(a, b Requests, f float64) Requests {
	r := func(n int64) int64 { return int64(math.Round(float64(n) * f)) }
	a.List += r(b.List)
	a.HeadDest += r(b.HeadDest)
	a.HeadSrc += r(b.HeadSrc)
	a.Get += r(b.Get)
	a.Put += r(b.Put)
	a.CreateUpload += r(b.CreateUpload)
	a.UploadPart += r(b.UploadPart)
	a.Complete += r(b.Complete)
	a.GetDest += r(b.GetDest)
	return a
}

// Pages is the LIST requests a listing of n objects costs at pageSize
// objects a page: at least one, an empty listing is asked for too.
func Pages(n int64, pageSize int) int64 {
	if pageSize <= 0 {
		pageSize = 1000
	}
	return max(1, (n+int64(pageSize)-1)/int64(pageSize))
}
