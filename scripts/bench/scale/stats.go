package main

import (
	"slices"
	"sync"
	"time"
)

// recorder keeps every latency sample of one operation. Raw samples,
// not a histogram: a run makes a few hundred thousand calls at most, and
// exact percentiles need no bucket-width caveat in the report.
type recorder struct {
	mu sync.Mutex
	d  []time.Duration
}

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	r.d = append(r.d, d)
	r.mu.Unlock()
}

// summary is what the report prints for one operation.
type summary struct {
	Count    int     `json:"count"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
	Maxms    float64 `json:"max_ms"`
	Meanms   float64 `json:"mean_ms"`
	Under100 float64 `json:"share_under_100ms"` // fraction of calls under 100 ms
}

func (r *recorder) summary() summary {
	r.mu.Lock()
	d := slices.Clone(r.d)
	r.mu.Unlock()
	s := summary{Count: len(d)}
	if len(d) == 0 {
		return s
	}
	slices.Sort(d)
	var sum time.Duration
	under := 0
	for _, x := range d {
		sum += x
		if x < 100*time.Millisecond {
			under++
		}
	}
	s.P50ms, s.P99ms = ms(percentile(d, 50)), ms(percentile(d, 99))
	s.Maxms, s.Meanms = ms(d[len(d)-1]), ms(sum/time.Duration(len(d)))
	s.Under100 = float64(under) / float64(len(d))
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the nearest-rank percentile of sorted samples: the
// smallest sample with at least p% of the samples at or below it, so
// p99 of 100 samples is the 99th, never an interpolated value no call
// actually took.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ops holds the recorders of the four worker calls the report measures.
// The harness keeps one set for the steady run before the master is
// killed and one for after its restart: the outage itself would
// otherwise dominate every p99.
type ops struct {
	lease, renew, report, ack recorder
}

func (o *ops) summaries() map[string]summary {
	return map[string]summary{"lease": o.lease.summary(), "heartbeat": o.renew.summary(),
		"report": o.report.summary(), "ack": o.ack.summary()}
}
