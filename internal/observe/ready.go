package observe

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Readiness is what /readyz answers. A process starts not ready, with a
// reason, and sets its check once what it needs is up; the check is then
// asked on each request, so readiness can go away again (a worker that
// lost its master).
type Readiness struct {
	mu    sync.Mutex
	check func() error
}

// NewReadiness starts not ready, for reason.
func NewReadiness(reason string) *Readiness {
	err := errors.New(reason)
	return &Readiness{check: func() error { return err }}
}

// Set makes check decide readiness from now on (nil error: ready).
func (r *Readiness) Set(check func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.check = check
}

// SetReady makes the process ready for good.
func (r *Readiness) SetReady() { r.Set(func() error { return nil }) }

// Check returns nil when ready, else why not.
func (r *Readiness) Check() error {
	r.mu.Lock()
	check := r.check
	r.mu.Unlock()
	return check()
}

// HeartbeatMisses is how many heartbeat intervals a worker may go without
// an answer from its master and stay ready: the master's own rule for
// declaring a worker dead.
const HeartbeatMisses = 3

// HeartbeatCheck is a worker's readiness: registered with its master
// (last non-zero) and answered within HeartbeatMisses heartbeat intervals.
// last and every are read on each check (the master may change the
// interval at a re-register); now is the clock.
func HeartbeatCheck(last func() time.Time, every func() time.Duration, now func() time.Time) func() error {
	return func() error {
		t := last()
		if t.IsZero() {
			return errors.New("not registered with the master yet")
		}
		limit := HeartbeatMisses * every()
		if ago := now().Sub(t); ago > limit {
			return fmt.Errorf("no answer from the master for %s (more than %d heartbeats of %s)",
				ago.Round(time.Millisecond), HeartbeatMisses, every())
		}
		return nil
	}
}
