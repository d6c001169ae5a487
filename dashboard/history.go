package dashboard

import (
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/master"
)

// sample is one job's cumulative counters at a moment.
type sample struct {
	at        time.Time
	pass      uint64
	bytesSent int64
	objects   int64 // verified + skipped + failed
}

// point is the throughput between two samples, as the chart draws it.
type point struct {
	T                int64   `json:"t"` // Unix seconds
	BytesPerSecond   float64 `json:"bytes_per_second"`
	ObjectsPerSecond float64 `json:"objects_per_second"`
}

// history keeps the last n samples of every job in a ring, so a page
// opened now shows the last half hour, not an empty chart.
type history struct {
	mu   sync.Mutex
	n    int
	jobs map[string][]sample // oldest first, at most n
}

func newHistory(n int) *history {
	return &history{n: max(n, 2), jobs: map[string][]sample{}}
}

func done(s master.JobStat) int64 {
	c := s.Counters
	return c.Verified + c.Skipped + c.Failed
}

// add records stats at now; jobs no longer listed are forgotten.
func (h *history) add(now time.Time, stats []master.JobStat) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, s := range stats {
		seen[s.Job] = true
		ring := append(h.jobs[s.Job], sample{at: now, pass: s.Pass, bytesSent: s.Counters.BytesSent, objects: done(s)})
		if len(ring) > h.n {
			ring = append(ring[:0:0], ring[len(ring)-h.n:]...)
		}
		h.jobs[s.Job] = ring
	}
	for j := range h.jobs {
		if !seen[j] {
			delete(h.jobs, j)
		}
	}
}

// points is job's throughput series. A new pass restarts the counters;
// the step across it is left out rather than drawn as a negative rate.
func (h *history) points(job string) []point {
	h.mu.Lock()
	defer h.mu.Unlock()
	ring := h.jobs[job]
	out := make([]point, 0, len(ring))
	for i := 1; i < len(ring); i++ {
		a, b := ring[i-1], ring[i]
		dt := b.at.Sub(a.at).Seconds()
		if dt <= 0 || a.pass != b.pass || b.bytesSent < a.bytesSent || b.objects < a.objects {
			continue
		}
		out = append(out, point{T: b.at.Unix(), BytesPerSecond: float64(b.bytesSent-a.bytesSent) / dt,
			ObjectsPerSecond: float64(b.objects-a.objects) / dt})
	}
	return out
}

// rateWindow is how far back the rate and ETA look: long enough to smooth
// shard boundaries, short enough to follow a throttle change.
const rateWindow = time.Minute

// rate is job's recent throughput, over the samples of the last
// rateWindow in its current pass; ok is false with fewer than two.
func (h *history) rate(job string) (bytesPerSecond, objectsPerSecond float64, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ring := h.jobs[job]
	if len(ring) < 2 {
		return 0, 0, false
	}
	last := ring[len(ring)-1]
	first := len(ring) - 1
	for first > 0 && last.at.Sub(ring[first-1].at) <= rateWindow && ring[first-1].pass == last.pass {
		first--
	}
	a := ring[first]
	dt := last.at.Sub(a.at).Seconds()
	if dt <= 0 {
		return 0, 0, false
	}
	return float64(last.bytesSent-a.bytesSent) / dt, float64(last.objects-a.objects) / dt, true
}
