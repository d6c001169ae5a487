package worker

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// shardRun is one leased shard being worked on.
type shardRun struct {
	g      task.Grant
	ctx    context.Context // ends when the lease is lost or Run stops
	cancel context.CancelFunc

	mu      sync.Mutex
	pending []task.Result // not yet reported
	results int           // objects with a result, reported or not
	lost    bool

	reportMu sync.Mutex // one Report at a time per shard, in order
}

// add records a result; full says a batch is ready, done that every
// object has a result.
func (s *shardRun) add(res task.Result, batch int) (full, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = append(s.pending, res)
	s.results++
	return len(s.pending) >= batch, s.results == len(s.g.Objects)
}

// complete says every object has a result and every result was reported.
func (s *shardRun) complete() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.results == len(s.g.Objects) && len(s.pending) == 0
}

func (s *shardRun) isLost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// start takes on a granted shard and feeds its objects to the copy
// goroutines.
func (r *runner) start(g task.Grant) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.active[g.Token]; dup {
		return
	}
	s := &shardRun{g: g}
	s.ctx, s.cancel = context.WithCancel(r.ctx)
	r.active[g.Token] = s
	r.log.Info("shard leased", "shard", g.ID, "job", g.Job, "objects", len(g.Objects), "attempt", g.Attempt)
	if len(g.Objects) == 0 {
		r.wg.Go(func() { r.finish(s) })
		return
	}
	r.wg.Go(func() {
		for _, obj := range g.Objects {
			select {
			case r.work <- item{s: s, obj: obj}:
			case <-s.ctx.Done():
				return
			}
		}
	})
}

func (r *runner) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.active)
}

// shards returns the active shards in token order.
func (r *runner) shards() []*shardRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*shardRun, 0, len(r.active))
	for _, s := range r.active {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *shardRun) int { return compareU64(a.g.Token, b.g.Token) })
	return out
}

func compareU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// remove forgets a shard (acked, lost or given up) and wakes the lease
// loop, which may lease another.
func (r *runner) remove(s *shardRun) {
	s.cancel()
	r.mu.Lock()
	delete(r.active, s.g.Token)
	r.mu.Unlock()
	r.signal()
}

func (r *runner) signal() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// report sends the shard's pending results. On failure they are kept, to
// go with the next report.
func (r *runner) report(ctx context.Context, s *shardRun) error {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	s.mu.Lock()
	batch := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := r.a.Master.Report(ctx, r.a.Name, s.g.Token, batch); err != nil {
		s.mu.Lock()
		s.pending = append(batch, s.pending...)
		s.mu.Unlock()
		return err
	}
	return nil
}

// finish reports the rest of a shard whose objects all have results, and
// acks it.
func (r *runner) finish(s *shardRun) {
	wait := pollMin
	for try := 1; ; try++ {
		err := r.report(r.ctx, s)
		if err == nil {
			err = r.a.Master.Ack(r.ctx, r.a.Name, s.g.Token)
		}
		if err == nil {
			r.log.Info("shard done", "shard", s.g.ID)
			r.remove(s)
			return
		}
		if r.ctx.Err() != nil || s.isLost() {
			return // shutdown acks it if it can; a lost shard is not ours
		}
		if try == finishTries {
			r.log.Error("cannot ack shard; leaving it to expire", "shard", s.g.ID, "err", err)
			r.remove(s)
			return
		}
		r.log.Warn("ack failed; will retry", "shard", s.g.ID, "err", err, "in", wait)
		if sleepCtx(r.ctx, wait) != nil {
			return
		}
		wait = min(2*wait, pollMax)
	}
}

// renewLoop heartbeats the leases and drops the shards the master no
// longer honours.
func (r *runner) renewLoop() {
	t := time.NewTicker(r.a.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		shards := r.shards()
		if len(shards) == 0 {
			continue
		}
		tokens := make([]uint64, len(shards))
		for i, s := range shards {
			tokens[i] = s.g.Token
		}
		lost, err := r.a.Master.Renew(r.ctx, r.a.Name, tokens)
		if err != nil {
			if r.ctx.Err() == nil {
				r.log.Warn("renew failed", "err", err)
			}
			continue
		}
		for _, tok := range lost {
			r.lose(tok)
		}
	}
}

// lose stops work on a shard whose lease went to someone else. Its
// results so far are still reported: the master records them per object
// (copies are idempotent), though this token can no longer ack.
func (r *runner) lose(token uint64) {
	r.mu.Lock()
	s := r.active[token]
	r.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	s.lost = true
	s.mu.Unlock()
	r.log.Warn("lease lost; dropping shard", "shard", s.g.ID)
	r.remove(s)
	r.wg.Go(func() {
		if err := r.report(r.ctx, s); err != nil && r.ctx.Err() == nil {
			r.log.Debug("report for lost shard failed", "shard", s.g.ID, "err", err)
		}
	})
}

// flushLoop reports pending results at least every ReportEvery.
func (r *runner) flushLoop() {
	t := time.NewTicker(r.a.ReportEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range r.shards() {
			if err := r.report(r.ctx, s); err != nil && r.ctx.Err() == nil {
				r.log.Warn("report failed; will retry", "shard", s.g.ID, "err", err)
			}
		}
	}
}
