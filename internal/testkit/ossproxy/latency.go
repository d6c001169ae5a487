package ossproxy

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// SetLatency makes every request of kind wait d before the proxy handles
// it, as a WAN link between ferry and the store would: e.g. 20 ms per
// LIST page, to show what parallel listing buys. Unlike a Delay fault it
// hides no fault and never runs out; d <= 0 removes it. It counts the
// requests of kind in flight at once (MaxInFlight), so that a test can
// tell that a client really overlapped them.
func (p *Proxy) SetLatency(kind Kind, d time.Duration) {
	p.latency.set(kind, d)
}

// MaxInFlight is the highest number of requests of kind the proxy has
// held at once under SetLatency since the latency was set.
func (p *Proxy) MaxInFlight(kind Kind) int64 {
	return p.latency.maxInFlight(kind)
}

type latencySet struct {
	mu    sync.Mutex
	kinds map[Kind]*latency
}

type latency struct {
	d        time.Duration
	inFlight atomic.Int64
	max      atomic.Int64
}

func (l *latencySet) set(kind Kind, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d <= 0 {
		delete(l.kinds, kind)
		return
	}
	if l.kinds == nil {
		l.kinds = map[Kind]*latency{}
	}
	l.kinds[kind] = &latency{d: d}
}

func (l *latencySet) get(kind Kind) *latency {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.kinds[kind]
}

func (l *latencySet) maxInFlight(kind Kind) int64 {
	if lt := l.get(kind); lt != nil {
		return lt.max.Load()
	}
	return 0
}

// wait holds a request of kind for its latency. A client that gives up
// first gets no answer at all, as with a Delay fault.
func (l *latencySet) wait(ctx context.Context, kind Kind) {
	lt := l.get(kind)
	if lt == nil {
		return
	}
	n := lt.inFlight.Add(1)
	defer lt.inFlight.Add(-1)
	for m := lt.max.Load(); n > m && !lt.max.CompareAndSwap(m, n); m = lt.max.Load() {
	}
	t := time.NewTimer(lt.d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		panic(http.ErrAbortHandler)
	}
}
