package retry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// Defaults used by DefaultPolicy and for zero fields of a Policy.
//
// Six attempts with a 200 ms start give waits of at most 0.2+0.4+0.8+1.6+3.2
// s: long enough to ride out a connection reset, a load-balancer reshuffle or
// a short burst of SlowDown, short enough that a worker does not sit on a
// leased shard while the server is really down (the shard-level retry, with
// its own longer horizon, takes over then).
const (
	DefaultMaxAttempts = 6
	DefaultInitial     = 200 * time.Millisecond
	DefaultMax         = 20 * time.Second
)

// Policy says how often and how patiently to retry. The zero value of any
// field means its default, so Policy{} behaves like DefaultPolicy().
type Policy struct {
	// MaxAttempts bounds the attempts of one call, the first included
	// (default 6; 1 disables retrying). For List and for reads through Open,
	// the count is of consecutive attempts that made no progress (see the
	// package comment).
	MaxAttempts int
	// Initial is the ceiling of the first wait (default 200 ms); each
	// further retry doubles it, up to Max (default 20 s).
	Initial time.Duration
	Max     time.Duration
	// OnRetry, if set, is called before each backoff sleep with the
	// operation ("stat", "put", "read", ...), the key (the prefix for list
	// operations), the 1-based number of the attempt that just failed, the
	// wait about to start and the error that caused it. It is for logs and
	// metrics and must not block.
	OnRetry func(op, key string, attempt int, wait time.Duration, err error)
	// Sleep waits d or until ctx ends, returning ctx.Err() in the latter
	// case. Tests inject a recording fake; the default uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter (default math/rand/v2).
	Rand func() float64
}

// DefaultPolicy returns the policy New uses for zero fields, spelled out.
func DefaultPolicy() Policy {
	return Policy{
		MaxAttempts: DefaultMaxAttempts,
		Initial:     DefaultInitial,
		Max:         DefaultMax,
		Sleep:       Sleep,
		Rand:        rand.Float64,
	}
}

// withDefaults fills the zero fields, so the rest of the package never has
// to check them.
func (p Policy) withDefaults() Policy {
	d := DefaultPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.Initial <= 0 {
		p.Initial = d.Initial
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.Sleep == nil {
		p.Sleep = d.Sleep
	}
	if p.Rand == nil {
		p.Rand = d.Rand
	}
	return p
}

// Backoff returns the wait before retry number n (0 for the first retry)
// after err. It is exported so that callers retrying at a coarser grain (a
// whole object, a shard) can space their attempts the same way.
//
// The ceiling is min(Max, Initial*2^n). Ordinary failures wait a uniformly
// random fraction of it ("full jitter"): thousands of workers that failed at
// the same moment then come back spread out instead of in one wave, and the
// expected total wait stays small. Throttling (storage.ErrThrottled: 503
// SlowDown, 429) is different: the server is telling us it is overloaded, and
// a quick retry, which full jitter allows (the wait may be ~0), only adds to
// the load that caused it. So throttled retries wait at least half the
// ceiling and at most all of it.
func (p Policy) Backoff(n int, err error) time.Duration {
	p = p.withDefaults()
	ceiling := p.Initial
	for i := 0; i < n && ceiling < p.Max; i++ {
		if ceiling > p.Max-ceiling { // doubling would pass Max (or overflow)
			ceiling = p.Max
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, p.Max)
	r := min(max(p.Rand(), 0), 1) // a bad Rand must not make waits negative or huge
	if errors.Is(err, storage.ErrThrottled) {
		half := ceiling / 2
		return half + fraction(r, ceiling-half)
	}
	return fraction(r, ceiling)
}

// fraction returns r*d for r in [0, 1], never more than d: float64 rounding
// near the top of the int64 range would otherwise wrap to a negative wait.
func fraction(r float64, d time.Duration) time.Duration {
	f := r * float64(d)
	if f >= float64(d) {
		return d
	}
	return time.Duration(f)
}

// Sleep waits d or until ctx ends (then it returns ctx.Err()). It is the
// default Policy.Sleep, and what other layers use to wait between their
// own retries.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
