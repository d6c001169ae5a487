package master

import (
	"math"
	"time"
)

// Limits are rates for a whole job (cluster-wide) or for one worker's
// share of it; zero means unlimited.
type Limits struct {
	BytesPerSecond   int64
	ObjectsPerSecond float64
}

// Unlimited reports whether neither rate is limited.
func (l Limits) Unlimited() bool { return l.BytesPerSecond <= 0 && l.ObjectsPerSecond <= 0 }

// Rates are measured throughput.
type Rates struct {
	BytesPerSecond   float64
	ObjectsPerSecond float64
}

// Share is one worker's part of a cluster-wide limit among live workers:
// an equal split, because the master cannot know in advance which worker
// will move more. A limited rate never becomes 0 (which would mean
// unlimited) however many workers there are.
func Share(l Limits, live int) Limits {
	if live < 1 {
		live = 1
	}
	var s Limits
	if l.BytesPerSecond > 0 {
		s.BytesPerSecond = max(1, l.BytesPerSecond/int64(live))
	}
	if l.ObjectsPerSecond > 0 {
		s.ObjectsPerSecond = l.ObjectsPerSecond / float64(live)
	}
	return s
}

// WorkerShare is one worker's part of a job's cluster-wide limit. The
// workers active in the job (holding its leases lately) split it equally:
// at the tail of a job, the one worker holding the last shard gets the
// whole limit instead of a third of it while two others idle. A worker not
// active in the job gets what an equal split among all live workers would
// give it, so that one starting on the job adds little until its next
// heartbeat re-shares.
func WorkerShare(l Limits, live, active int, isActive bool) Limits {
	if isActive {
		return Share(l, active)
	}
	return Share(l, max(live, active+1))
}

// Effective is a job's cluster-wide limit under the SlowDown backoff
// factor. A configured rate is scaled by factor. An unlimited rate stays
// unlimited until backoff starts (factor < 1); then it becomes factor ×
// base, base being the cluster throughput measured when the destination
// first pushed back: scaling the throughput measured now would compound
// (the throttled rate times the factor, again and again) instead of
// recovering.
func Effective(configured Limits, factor float64, base Rates) Limits {
	if factor <= 0 || factor > 1 {
		factor = 1
	}
	out := configured
	if configured.BytesPerSecond > 0 {
		out.BytesPerSecond = max(1, int64(math.Round(float64(configured.BytesPerSecond)*factor)))
	} else if factor < 1 && base.BytesPerSecond >= 1 {
		out.BytesPerSecond = max(1, int64(math.Round(base.BytesPerSecond*factor)))
	}
	if configured.ObjectsPerSecond > 0 {
		out.ObjectsPerSecond = configured.ObjectsPerSecond * factor
	} else if factor < 1 && base.ObjectsPerSecond > 0 {
		out.ObjectsPerSecond = base.ObjectsPerSecond * factor
	}
	return out
}

// AIMD parameters of the SlowDown backoff: halve on trouble, recover a
// tenth per quiet window, never below 5% (so a job keeps moving and the
// master keeps measuring whether the destination recovered).
const (
	backoffDecrease = 0.5
	backoffIncrease = 0.1
	backoffFloor    = 0.05
)

// decrease is the multiplicative step.
func decrease(f float64) float64 { return max(backoffFloor, f*backoffDecrease) }

// increase is the additive step, rounded so that tenths add up to exactly
// 1 (0.5 + 5 × 0.1 is 0.9999999999999999 in floating point, which would
// keep an unlimited job limited forever).
func increase(f float64) float64 { return min(1, math.Round((f+backoffIncrease)*1e6)/1e6) }

// Backoff is the cluster's response to 503 SlowDown answers: every worker
// reports how many it met since its last heartbeat, and all of them slow
// down together, because one destination is throttling them all. Factor
// drops once per window in which slowdowns were reported (36 workers
// reporting the same burst must not drive it to the floor at once), and
// recovers one step per window without any. Not safe for concurrent use.
type Backoff struct {
	Factor float64 // 1 = no backoff
	// Base is the cluster throughput measured when backoff started, the
	// reference for jobs without a configured limit (see Effective).
	Base Rates

	lastDecrease, lastSlow, lastIncrease time.Time
}

// Observe records one heartbeat's slowdown count at now; measured is the
// cluster's current throughput, window the heartbeat interval.
func (b *Backoff) Observe(now time.Time, slowdowns int64, measured Rates, window time.Duration) {
	if b.Factor <= 0 {
		b.Factor = 1
	}
	if slowdowns > 0 {
		if b.Factor >= 1 {
			b.Base = measured
		} else if b.Base.BytesPerSecond < 1 && b.Base.ObjectsPerSecond <= 0 {
			b.Base = measured // nothing measured when it started: take the first figure
		}
		b.lastSlow = now
		if b.lastDecrease.IsZero() || now.Sub(b.lastDecrease) >= window {
			b.Factor = decrease(b.Factor)
			b.lastDecrease = now
		}
		return
	}
	if b.Factor >= 1 {
		return
	}
	quietSince := b.lastSlow
	if b.lastIncrease.After(quietSince) {
		quietSince = b.lastIncrease
	}
	if now.Sub(quietSince) >= window {
		b.Factor = increase(b.Factor)
		b.lastIncrease = now
		if b.Factor >= 1 {
			b.Base = Rates{}
		}
	}
}

// Current returns the factor (1 before any observation).
func (b *Backoff) Current() float64 {
	if b.Factor <= 0 {
		return 1
	}
	return b.Factor
}
