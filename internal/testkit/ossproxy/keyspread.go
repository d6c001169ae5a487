package ossproxy

import (
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

// KeySpread measures how the requests in flight at once spread over a
// bucket's key space: OSS (like S3) partitions a bucket by key range, and
// requests that all fall in one range load one partition, which is why
// the broker spreads its grants (master/spread.go). The keys are mapped to
// buckets of equal size by their rank in a sorted key set; every time an
// object request on the bucket arrives, the meter notes how many requests
// are in flight and how many distinct key-range buckets they touch.
type KeySpread struct {
	bucket string
	keys   []string // sorted
	n      int
	min    int
	hold   time.Duration

	mu       sync.Mutex
	inflight map[int]int // key-range bucket -> requests in flight
	total    int
	st       SpreadStats
	sum      int
}

// SpreadStats is what a KeySpread saw.
type SpreadStats struct {
	// Samples is the requests that arrived while at least MinInFlight
	// requests (themselves included) were in flight; the figures below are
	// over those.
	Samples      int
	MeanDistinct float64 // distinct key-range buckets touched, on average
	MinDistinct  int
	MaxDistinct  int
	// MaxPerBucket is the most requests seen in flight on one key range.
	MaxPerBucket int
}

// MeasureSpread starts measuring the object requests on bucket whose keys
// are in keys, mapped to n key ranges of equal size by rank. Requests are
// sampled when at least minInFlight are in flight (so that the start and
// the tail of a run, where little is in flight, do not dilute the figure),
// and each is held hold before it is forwarded, so that requests to a fast
// local upstream overlap as they would over a WAN link. It replaces any
// earlier measurement.
func (p *Proxy) MeasureSpread(bucket string, keys []string, n, minInFlight int, hold time.Duration) *KeySpread {
	ks := &KeySpread{bucket: bucket, keys: slices.Sorted(slices.Values(keys)), n: max(n, 1), min: max(minInFlight, 1),
		hold: hold, inflight: map[int]int{}}
	p.spread.Store(ks)
	return ks
}

// Stats returns the figures so far.
func (ks *KeySpread) Stats() SpreadStats {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	st := ks.st
	if st.Samples > 0 {
		st.MeanDistinct = float64(ks.sum) / float64(st.Samples)
	}
	return st
}

// rangeOf is the key-range bucket of key, or -1 for a key outside the set.
func (ks *KeySpread) rangeOf(key string) int {
	i := sort.SearchStrings(ks.keys, key)
	if i == len(ks.keys) || ks.keys[i] != key {
		return -1
	}
	return i * ks.n / len(ks.keys)
}

// enter counts a request in flight until the returned func is called,
// after holding it (the request's context ending cuts the hold short).
func (ks *KeySpread) enter(r *http.Request, req reqInfo) (leave func()) {
	if ks == nil || req.bucket != ks.bucket || req.key == "" {
		return func() {}
	}
	b := ks.rangeOf(req.key)
	if b < 0 {
		return func() {}
	}
	ks.mu.Lock()
	ks.inflight[b]++
	ks.total++
	ks.sample()
	ks.mu.Unlock()
	if ks.hold > 0 {
		t := time.NewTimer(ks.hold)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	return func() {
		ks.mu.Lock()
		defer ks.mu.Unlock()
		ks.total--
		if ks.inflight[b]--; ks.inflight[b] == 0 {
			delete(ks.inflight, b)
		}
	}
}

// sample notes the spread of what is in flight; ks.mu is held.
func (ks *KeySpread) sample() {
	for _, c := range ks.inflight {
		ks.st.MaxPerBucket = max(ks.st.MaxPerBucket, c)
	}
	if ks.total < ks.min {
		return
	}
	d := len(ks.inflight)
	if ks.st.Samples == 0 || d < ks.st.MinDistinct {
		ks.st.MinDistinct = d
	}
	ks.st.MaxDistinct = max(ks.st.MaxDistinct, d)
	ks.st.Samples++
	ks.sum += d
}
