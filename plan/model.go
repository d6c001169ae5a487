package plan

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Rate is one node's copy speed as two costs that add up: the bytes at
// the node's bandwidth, and each object's requests (HEAD, GET, PUT,
// latency), which the worker overlaps Concurrency at a time. A zero field
// costs nothing: a source of large objects only cannot measure the
// per-object cost, and needs none.
type Rate struct {
	BytesPerSec   float64 `json:"bytes_per_second"`
	ObjectsPerSec float64 `json:"objects_per_second"`
}

// Time is one node's time to copy objects objects of bytes bytes in all:
// bytes/BytesPerSec + objects/ObjectsPerSec. With the per-object cost
// written as latency/concurrency, this is the OssImport sizing rule (data
// over bandwidth) plus the request cost that dominates small objects.
func (r Rate) Time(objects, bytes int64) time.Duration {
	var s float64
	if r.BytesPerSec > 0 {
		s += float64(bytes) / r.BytesPerSec
	}
	if r.ObjectsPerSec > 0 {
		s += float64(objects) / r.ObjectsPerSec
	}
	return seconds(s)
}

func seconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}

// Phase is one timed part of the probe: objects of bytes copied in
// Elapsed at the worker's concurrency.
type Phase struct {
	Objects int64         `json:"objects"`
	Bytes   int64         `json:"bytes"`
	Elapsed time.Duration `json:"-"`
	Seconds float64       `json:"seconds"`
}

// Fit finds the Rate that explains both phases: small objects (mostly
// per-object cost) and large ones (mostly bytes). It solves
//
//	small.Elapsed = small.Objects·a + small.Bytes·b
//	large.Elapsed = large.Objects·a + large.Bytes·b
//
// for a (seconds per object) and b (seconds per byte). When the system has
// no sensible solution (a phase is empty, or noise makes a cost negative)
// each phase is charged to one cost: the small one's time all to its
// objects, the rest of the large one's to its bytes.
func Fit(small, large Phase) (Rate, error) {
	ts, tl := small.Elapsed.Seconds(), large.Elapsed.Seconds()
	ns, nl := float64(small.Objects), float64(large.Objects)
	bs, bl := float64(small.Bytes), float64(large.Bytes)
	var a, b float64
	switch {
	case small.Objects == 0 && large.Objects == 0:
		return Rate{}, errors.New("the probe copied nothing: no rate to measure")
	case large.Objects == 0:
		a = ts / ns
	case small.Objects == 0:
		b = tl / bl
	default:
		det := ns*bl - nl*bs
		if det != 0 {
			a = (ts*bl - tl*bs) / det
			b = (ns*tl - nl*ts) / det
		}
		if det == 0 || a <= 0 || b <= 0 {
			a = ts / ns
			b = max(tl-nl*a, tl/2) / bl
		}
	}
	var r Rate
	if a > 0 {
		r.ObjectsPerSec = 1 / a
	}
	if b > 0 {
		r.BytesPerSec = 1 / b
	}
	return r, nil
}

// Limits are a job's own throttles (maxBytesPerSecond,
// maxObjectsPerSecond), which bound it whatever the node count.
type Limits struct {
	BytesPerSec   float64
	ObjectsPerSec float64
}

// floor is the least time the throttles allow.
func (l Limits) floor(objects, bytes int64) time.Duration {
	var s float64
	if l.BytesPerSec > 0 {
		s = float64(bytes) / l.BytesPerSec
	}
	if l.ObjectsPerSec > 0 {
		s = max(s, float64(objects)/l.ObjectsPerSec)
	}
	return seconds(s)
}

// Model predicts a job's duration from one node's rate.
type Model struct {
	Rate Rate
	// Utilization is the fraction (0, 1] of a node's measured rate a
	// long run sustains (the OssImport rule's Z/100): shared links,
	// retries, scans and stragglers take the rest.
	Utilization float64
	Limits      Limits
}

// Duration is the expected time with nodes nodes sharing the work evenly:
// one node's time over nodes × Utilization, but never below what the
// job's throttles allow.
func (m Model) Duration(objects, bytes int64, nodes int) time.Duration {
	if nodes < 1 {
		nodes = 1
	}
	t := m.Rate.Time(objects, bytes).Seconds() / (float64(nodes) * m.Utilization)
	return max(seconds(t), m.Limits.floor(objects, bytes))
}

// Nodes is the node count that copies objects and bytes within deadline:
//
//	nodes = ⌈ (bytes/BytesPerSec + objects/ObjectsPerSec) / (deadline × Z/100) ⌉
//
// which, without the per-object term, is the OssImport book's rule
// X / Y / (Z/100) with X the data, Y the time, both in one node's units.
// It fails when the job's throttles alone take longer than deadline: no
// node count helps then.
func (m Model) Nodes(objects, bytes int64, deadline time.Duration) (int, error) {
	if deadline <= 0 {
		return 0, fmt.Errorf("deadline %s is not in the future", deadline)
	}
	if f := m.Limits.floor(objects, bytes); f > deadline {
		return 0, fmt.Errorf("the job's throttles (maxBytesPerSecond, maxObjectsPerSecond) alone take %s, past the deadline %s", f.Round(time.Second), deadline)
	}
	t := m.Rate.Time(objects, bytes).Seconds()
	n := int(math.Ceil(t / (deadline.Seconds() * m.Utilization)))
	return max(1, n), nil
}

// NodeCounts are the node counts a plan shows durations for: powers of two
// from 1 up to the first at or past max(8, need), with need itself.
func NodeCounts(need int) []int {
	var out []int
	for n := 1; ; n *= 2 {
		out = append(out, n)
		if n >= max(8, need) {
			break
		}
	}
	if need > 0 && !slices.Contains(out, need) {
		out = append(out, need)
		slices.Sort(out)
	}
	return out
}
