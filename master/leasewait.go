package master

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// MaxLeaseWait bounds how long one Lease call may be held open waiting for
// a shard, whatever the worker asks: a worker's call must end well inside
// its RPC timeout and the master's worker-silence timeout.
const MaxLeaseWait = 10 * time.Second

// LeaseWait is Lease that, when nothing can be granted, holds the call up
// to wait for a shard to be queued (by the scanner, a give-back, an expiry)
// instead of answering "nothing" at once. A worker that asked again only
// on its own poll timer found new shards up to that timer late: at the
// start of a pass, while the first shard was being appended, and whenever
// it sat idle. The call ends empty after wait, when ctx ends or the
// manager closes. wait is capped at MaxLeaseWait.
func (m *Manager) LeaseWait(ctx context.Context, worker string, max int, wait time.Duration) ([]task.Grant, error) {
	wait = min(wait, MaxLeaseWait)
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	for {
		// Registered before asking, so a shard queued between the ask
		// and the wait still wakes this call.
		w := m.wake.add()
		gs, err := m.Lease(ctx, worker, max)
		if err != nil || len(gs) > 0 || timeout == nil {
			m.wake.cancel(w)
			return gs, err
		}
		select {
		case <-w:
			continue
		case <-timeout:
		case <-ctx.Done():
		case <-m.closing():
		}
		m.wake.cancel(w)
		return nil, nil
	}
}

// closing is closed when the manager's background context ends (Close),
// or never when it has not started.
func (m *Manager) closing() <-chan struct{} {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx == nil {
		return nil
	}
	return m.ctx.Done()
}

// wakeups are the Lease calls waiting for shards, oldest first. Queuing n
// shards wakes the n oldest, not all: with a thousand idle workers, waking
// every one for each shard the scanner appends would have all of them ask
// at once for the one shard. A woken call that finds the shard taken by
// someone else simply waits again. The zero value is ready to use.
type wakeups struct {
	mu    sync.Mutex
	queue []chan struct{}
}

// add registers a waiter; its channel is closed when it is woken.
func (w *wakeups) add() chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.queue = append(w.queue, ch)
	w.mu.Unlock()
	return ch
}

// wake wakes the n oldest waiters (n < 0: all of them).
func (w *wakeups) wake(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n < 0 || n > len(w.queue) {
		n = len(w.queue)
	}
	for _, ch := range w.queue[:n] {
		close(ch)
	}
	w.queue = slices.Delete(w.queue, 0, n)
}

// cancel unregisters a waiter that is done. If it had been woken but did
// not wait for it (it got a grant, an error, or gave up), its wake-up is
// handed to the next waiter, so that a queued shard is not left waiting
// for someone's poll timer.
func (w *wakeups) cancel(ch chan struct{}) {
	w.mu.Lock()
	i := slices.Index(w.queue, ch)
	if i >= 0 {
		w.queue = slices.Delete(w.queue, i, i+1)
	}
	w.mu.Unlock()
	if i < 0 {
		w.wake(1)
	}
}

// waiting is how many calls wait (tests).
func (w *wakeups) waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}
