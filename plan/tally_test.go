package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

const mib = 1 << 20

func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		size int64
		want string
	}{
		{0, "0 B"}, {1, "< 4 KiB"}, {4<<10 - 1, "< 4 KiB"}, {4 << 10, "< 64 KiB"}, {mib - 1, "< 1 MiB"},
		{mib, "< 16 MiB"}, {16 * mib, "< 256 MiB"}, {4<<30 - 1, "< 4 GiB"}, {4 << 30, ">= 4 GiB"}, {1 << 50, ">= 4 GiB"},
	} {
		assert.Equal(t, tc.want, BucketLabel(BucketOf(tc.size)), "size %d", tc.size)
	}
	assert.Equal(t, int64(0), BucketBelow(NumBuckets-1), "the last bucket is open")
	assert.Equal(t, int64(4<<10), BucketBelow(1))
}

func TestPages(t *testing.T) {
	for _, tc := range []struct {
		n        int64
		pageSize int
		want     int64
	}{
		{0, 1000, 1}, {1, 1000, 1}, {1000, 1000, 1}, {1001, 1000, 2}, {2500, 0, 3}, {10, 3, 4},
	} {
		assert.Equal(t, tc.want, Pages(tc.n, tc.pageSize), "%d objects, page %d", tc.n, tc.pageSize)
	}
}

// TestTallyRequests checks the requests predicted per object against the
// copier's paths: single-part (GET, PUT), multipart (HEAD of the source,
// create, a GET and an upload per part, complete), one destination HEAD
// each, and reread GETs.
func TestTallyRequests(t *testing.T) {
	s3 := Shape{Threshold: 8 * mib, PartSize: 5 * mib, MinPartSize: 5 * mib, Multipart: true}
	for _, tc := range []struct {
		name  string
		shape Shape
		sizes []int64
		want  Requests
		mp    int64
		max   int64
		raise int64
	}{
		{"small", s3, []int64{0, 10, 8*mib - 1}, Requests{HeadDest: 3, Get: 3, Put: 3}, 0, 0, 0},
		{"at the threshold", s3, []int64{8 * mib}, Requests{HeadDest: 1, HeadSrc: 1, Get: 2, CreateUpload: 1, UploadPart: 2, Complete: 1}, 1, 5 * mib, 0},
		{"mixed", s3, []int64{1, 12 * mib, 20 * mib}, Requests{HeadDest: 3, HeadSrc: 2, Get: 1 + 3 + 4, Put: 1, CreateUpload: 2, UploadPart: 7, Complete: 2}, 2, 5 * mib, 0},
		{"no multipart at the destination", Shape{Threshold: 8 * mib, PartSize: 5 * mib}, []int64{100 * mib}, Requests{HeadDest: 1, Get: 1, Put: 1}, 0, 0, 0},
		{"reread", Shape{Threshold: 8 * mib, PartSize: 5 * mib, Reread: true}, []int64{1, 2}, Requests{HeadDest: 2, Get: 2, Put: 2, GetDest: 2}, 0, 0, 0},
		// 100 GiB in 5 MiB parts would be 20,480 parts: raised to 11 MiB
		// (10.24 MiB rounded up to a whole MiB), 9,310 parts.
		{"raised part size", s3, []int64{100 << 30}, Requests{HeadDest: 1, HeadSrc: 1, Get: 9310, CreateUpload: 1, UploadPart: 9310, Complete: 1}, 1, 11 * mib, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tl Tally
			var bytes int64
			for _, s := range tc.sizes {
				tl.Add(tc.shape, s)
				bytes += s
			}
			assert.Equal(t, tc.want, tl.Req)
			assert.Equal(t, int64(len(tc.sizes)), tl.Objects)
			assert.Equal(t, bytes, tl.Bytes)
			assert.Equal(t, tc.mp, tl.MultipartObjects)
			assert.Equal(t, tc.max, tl.MaxPartSize)
			assert.Equal(t, tc.raise, tl.Raised)
		})
	}
}

func TestTallyScaledAndMerged(t *testing.T) {
	s := Shape{Threshold: 8 * mib, PartSize: 5 * mib, MinPartSize: 5 * mib, Multipart: true}
	var a, b Tally
	a.Add(s, 100)
	b.Add(s, 10*mib)
	a.Merge(b)
	assert.Equal(t, int64(2), a.Objects)
	assert.Equal(t, int64(1), a.SmallObjects)
	x := a.Scaled(2.5)
	assert.Equal(t, int64(5), x.Objects)
	assert.Equal(t, int64(250+25*mib), x.Bytes)
	assert.Equal(t, int64(5), x.Req.HeadDest)
	assert.Equal(t, int64(8), x.Req.Get, "(1 + 2 parts) × 2.5, rounded")
	assert.Equal(t, int64(3), x.Hist.Objects[BucketOf(10*mib)], "1 × 2.5 rounds to 3 (half away from zero)")
	assert.Equal(t, int64(5*mib), x.MaxPartSize, "a part size is not scaled")
}
