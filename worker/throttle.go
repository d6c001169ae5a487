package worker

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"

	"golang.org/x/time/rate"
)

// Throttle limits the bandwidth and the object rate of a worker, so that a
// migration leaves room for production traffic. Limits can change while it
// is in use: a cluster master re-shares the job's limits among its workers
// as they join and leave. A nil *Throttle is unlimited. It is safe for
// concurrent use.
type Throttle struct {
	mu      sync.Mutex // serialises SetLimits; the limiters lock themselves
	bytes   *rate.Limiter
	objects *rate.Limiter
}

// minByteBurst is the smallest byte burst: a network read returns up to
// tens of KiB, and waiting for each one separately costs more than it
// smooths.
const minByteBurst = 64 << 10

// NewThrottle returns a throttle of bytesPerSec and objectsPerSec; zero or
// negative means unlimited.
func NewThrottle(bytesPerSec int64, objectsPerSec float64) *Throttle {
	t := &Throttle{bytes: rate.NewLimiter(rate.Inf, 0), objects: rate.NewLimiter(rate.Inf, 0)}
	t.SetLimits(bytesPerSec, objectsPerSec)
	return t
}

// SetLimits changes both limits; zero or negative means unlimited.
//
// The byte burst is a tenth of a second's worth (at least 64 KiB): large
// enough that readers wait for chunks rather than for every read, small
// enough that the rate holds over sub-second windows. The object burst is
// likewise a tenth of a second's worth, at least one.
func (t *Throttle) SetLimits(bytesPerSec int64, objectsPerSec float64) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if bytesPerSec <= 0 {
		t.bytes.SetLimit(rate.Inf)
	} else {
		t.bytes.SetBurst(int(max(minByteBurst, bytesPerSec/10)))
		t.bytes.SetLimit(rate.Limit(bytesPerSec))
	}
	if objectsPerSec <= 0 {
		t.objects.SetLimit(rate.Inf)
	} else {
		t.objects.SetBurst(int(max(1, math.Ceil(objectsPerSec/10))))
		t.objects.SetLimit(rate.Limit(objectsPerSec))
	}
}

// Limits returns the current limits (0 = unlimited).
func (t *Throttle) Limits() (bytesPerSec int64, objectsPerSec float64) {
	if t == nil {
		return 0, 0
	}
	if l := t.bytes.Limit(); l != rate.Inf {
		bytesPerSec = int64(l)
	}
	if l := t.objects.Limit(); l != rate.Inf {
		objectsPerSec = float64(l)
	}
	return bytesPerSec, objectsPerSec
}

// WaitObject blocks until one more object may start, or ctx ends.
func (t *Throttle) WaitObject(ctx context.Context) error {
	if t == nil {
		return ctx.Err()
	}
	if err := t.objects.Wait(ctx); err != nil {
		return waitErr(ctx, err)
	}
	return nil
}

// waitErr makes a limiter's error say what it means to storage.Classify:
// the limiter refuses at once a wait that would outlast ctx's deadline, with
// an error of its own, which must count as the deadline (Canceled), not as
// an unknown (Permanent) failure of the object.
func waitErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("throttle: %w: %v", context.DeadlineExceeded, err)
	}
	return fmt.Errorf("throttle: %w", err)
}

// waitBytes blocks until n bytes may pass. It asks the limiter for at most
// its burst at a time (WaitN refuses more), re-reading the burst each time,
// since SetLimits may shrink it meanwhile.
func (t *Throttle) waitBytes(ctx context.Context, n int) error {
	for n > 0 {
		if t.bytes.Limit() == rate.Inf {
			return nil
		}
		chunk := min(n, max(t.bytes.Burst(), 1))
		if err := t.bytes.WaitN(ctx, chunk); err != nil {
			return waitErr(ctx, err)
		}
		n -= chunk
	}
	return nil
}

// Reader returns r limited to the throttle's byte rate. Reads are cut to the
// burst, and each read waits for its bytes after it returns them: the
// bytes already arrived, so the wait delays the next read, which is what
// slows the sender down (TCP flow control does the rest).
func (t *Throttle) Reader(ctx context.Context, r io.Reader) io.Reader {
	if t == nil {
		return r
	}
	return &throttledReader{ctx: ctx, t: t, r: r}
}

type throttledReader struct {
	ctx context.Context
	t   *Throttle
	r   io.Reader
}

func (tr *throttledReader) Read(p []byte) (int, error) {
	if tr.t.bytes.Limit() != rate.Inf {
		if b := tr.t.bytes.Burst(); b > 0 && len(p) > b {
			p = p[:b]
		}
	}
	n, err := tr.r.Read(p)
	if n > 0 {
		if werr := tr.t.waitBytes(tr.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}
