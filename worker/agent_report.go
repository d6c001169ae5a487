package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// report sends the shard's pending results, in batches of at most
// ReportBatch (a master that was away for a while gets a backlog in
// pieces it can take, not one huge message). On failure the unsent
// results are kept, to go with the next report.
func (r *runner) report(ctx context.Context, s *shardRun) error {
	s.reportMu.Lock()
	defer s.reportMu.Unlock()
	for {
		s.mu.Lock()
		n := min(len(s.pending), r.a.ReportBatch)
		// add only appends, and only this goroutine (holding reportMu)
		// removes: the first n stay put while the lock is released.
		batch := s.pending[:n:n]
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		err := r.a.Master.Report(ctx, r.a.Name, s.g.Ref(), batch)
		if errors.Is(err, task.ErrStale) {
			// The master will never take these: the shard belongs to
			// another lease or pass now, whose holder copies it.
			r.noteCall(s, nil)
			// Copies may still add results until the shard is lost:
			// count and drop them under the lock.
			s.mu.Lock()
			dropped := len(s.pending)
			s.pending = nil
			s.mu.Unlock()
			r.log.Warn("master refused results of a lease no longer current; dropping the shard",
				"shard", s.g.ID, "job", s.g.Job, "pass", s.g.Pass, "results", dropped)
			r.lose(s.g.Token)
			return nil
		}
		r.noteCall(s, err)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.pending = s.pending[n:]
		s.mu.Unlock()
	}
}

// noteCall keeps the shard's streak of failed calls to the master.
func (r *runner) noteCall(s *shardRun, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.streak++
	case s.streak > 0:
		r.log.Info("master answers again", "shard", s.g.ID, "failed_calls", s.streak)
		s.streak, s.retryAt = 0, time.Time{}
		r.signal() // the lease loop may take work again
	}
}

// transient says err is worth retrying for as long as Run lasts: the
// master is away (Retryable), or one call timed out while Run goes on.
func (r *runner) transient(err error) bool {
	switch storage.Classify(err) {
	case storage.Retryable:
		return true
	case storage.Canceled:
		return r.ctx.Err() == nil
	}
	return false
}

// finish reports the rest of a shard whose objects all have results, and
// acks it.
func (r *runner) finish(s *shardRun) {
	if state, _ := s.status(); state != shardHeld {
		return // lost: the flush loop reports it; given back: its nack is under way
	}
	r.settle(s, "ack", func(ctx context.Context) error {
		return r.a.Master.Ack(ctx, r.a.Name, s.g.Ref())
	})
}

// settle reports what remains of a shard, then acks or nacks it (final).
// Transient failures are retried with backoff until Run stops: the shard
// keeps its place meanwhile, so its results stay in memory and no new
// work is taken. Other failures are retried finishTries times; then the
// shard is dropped and its lease left to expire.
func (r *runner) settle(s *shardRun, what string, final func(context.Context) error) {
	wait := pollMin
	for try := 1; ; {
		err := r.report(r.ctx, s)
		if state, _ := s.status(); err == nil && what == "ack" && state == shardLost {
			return // lost while we reported: not ours to ack; the flush loop forgets it
		}
		if err == nil {
			err = final(r.ctx)
			r.noteCall(s, err)
		}
		if err == nil {
			r.log.Info("shard "+what+"ed", "shard", s.g.ID, "job", s.g.Job)
			r.remove(s)
			return
		}
		if r.ctx.Err() != nil {
			return // shutdown reports and settles it if it can
		}
		if state, _ := s.status(); what == "ack" && state == shardLost {
			return // not ours to ack any more; the flush loop reports it
		}
		if !r.transient(err) {
			if try++; try > finishTries {
				r.log.Error("cannot "+what+" shard; leaving it to expire", "shard", s.g.ID, "err", err)
				r.remove(s)
				return
			}
		}
		r.logCallErr(s, what+" failed; will retry", err, wait)
		if retry.Sleep(r.ctx, wait) != nil {
			return
		}
		wait = min(2*wait, settleMax)
	}
}

// logCallErr logs a failed call once per streak as a warning, then at
// debug level: a master away for an hour must not flood the log.
func (r *runner) logCallErr(s *shardRun, msg string, err error, retryIn time.Duration) {
	s.mu.Lock()
	first := s.streak <= 1
	s.mu.Unlock()
	if first {
		r.log.Warn(msg, "shard", s.g.ID, "err", err, "in", retryIn)
	} else {
		r.log.Debug(msg, "shard", s.g.ID, "err", err, "in", retryIn)
	}
}

// flushLoop reports pending results at least every ReportEvery (sooner
// when a batch fills up), backing off per shard while reports fail, and
// forgets lost shards once what they did is reported.
func (r *runner) flushLoop() {
	t := time.NewTicker(r.a.ReportEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		case <-r.flushNow:
		}
		for _, s := range r.shards() {
			r.flush(s)
		}
	}
}

func (r *runner) flush(s *shardRun) {
	s.mu.Lock()
	due := !time.Now().Before(s.retryAt)
	s.mu.Unlock()
	if !due {
		return
	}
	err := r.report(r.ctx, s)
	state, _ := s.status()
	if err == nil {
		if state == shardLost {
			r.remove(s)
		}
		return
	}
	if r.ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	wait := min(r.a.ReportEvery<<min(s.streak, 16), settleMax)
	s.retryAt = time.Now().Add(wait)
	giveUp := state == shardLost && !r.transient(err) && s.streak >= finishTries
	s.mu.Unlock()
	if giveUp {
		r.log.Error("cannot report lost shard; dropping its results", "shard", s.g.ID, "err", err)
		r.remove(s)
		return
	}
	r.logCallErr(s, "report failed; will retry", err, wait)
}

// renewLoop heartbeats: it renews the held leases (none is fine: the call
// also says this worker is alive) and drops the shards the master no
// longer honours.
func (r *runner) renewLoop() {
	t := time.NewTicker(r.a.RenewEvery)
	defer t.Stop()
	failed := 0
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-t.C:
		}
		var held []task.LeaseRef
		for _, s := range r.shards() {
			if state, _ := s.status(); state == shardHeld {
				held = append(held, s.g.Ref())
			}
		}
		lost, err := r.a.Master.Renew(r.ctx, r.a.Name, held)
		switch {
		case err == nil:
			failed = 0
		case r.ctx.Err() != nil:
			return
		case storage.Classify(err) == storage.Fatal:
			r.failRun(fmt.Errorf("renew: %w", err))
			return
		default:
			if failed++; failed == 1 {
				r.log.Warn("renew failed; will retry", "err", err)
			} else {
				r.log.Debug("renew failed again", "err", err, "times", failed)
			}
			continue
		}
		for _, tok := range lost {
			r.lose(tok)
		}
	}
}
