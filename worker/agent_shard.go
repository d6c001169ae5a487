package worker

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// shardState is where a held shard stands.
type shardState uint8

const (
	shardHeld  shardState = iota // ours: copy, report, ack
	shardLost                    // the master re-granted it: report what is done, then forget it
	shardGiven                   // we give it back (job fatal here): report, then nack
)

// shardRun is one leased shard being worked on.
type shardRun struct {
	g      task.Grant
	ctx    context.Context // ends when the lease is lost or given back, or Run stops
	cancel context.CancelFunc

	mu      sync.Mutex
	pending []task.Result // not yet reported
	results int           // objects with a result, reported or not
	state   shardState
	reason  string // why it is given back
	// streak counts consecutive failed calls to the master about this
	// shard (reports, acks); while it is non-zero no new shard is leased.
	// retryAt spaces the flush loop's attempts during a streak.
	streak  int
	retryAt time.Time

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

func (s *shardRun) status() (shardState, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state, s.reason
}

// leave moves a held shard to state; false if it was not held.
func (s *shardRun) leave(state shardState, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != shardHeld {
		return false
	}
	s.state, s.reason = state, reason
	return true
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
	r.wg.Go(func() { r.feed(s) })
}

// feed finds the shard's copier and hands its objects to the copy
// goroutines.
func (r *runner) feed(s *shardRun) {
	if len(s.g.Objects) == 0 {
		r.finish(s)
		return
	}
	c := r.a.Copier
	if r.a.CopierFor != nil {
		var err error
		if c, err = r.a.CopierFor(s.ctx, s.g.Job); err != nil {
			if s.ctx.Err() == nil {
				r.giveBack(s, fmt.Errorf("job %q: %w", s.g.Job, err))
			}
			return
		}
	}
	for _, obj := range s.g.Objects {
		select {
		case r.work <- item{s: s, c: c, obj: obj}:
		case <-s.ctx.Done():
			return
		}
	}
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

// backlogged says some shard's results or ack are waiting for a master
// that failed to take them.
func (r *runner) backlogged() bool {
	for _, s := range r.shards() {
		s.mu.Lock()
		streak := s.streak
		s.mu.Unlock()
		if streak > 0 {
			return true
		}
	}
	return false
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

// remove forgets a shard (acked, nacked, lost and reported, or given up)
// and wakes the lease loop, which may lease another.
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

// kick asks the flush loop to report now.
func (r *runner) kick() {
	select {
	case r.flushNow <- struct{}{}:
	default:
	}
}

// lose stops work on a shard whose lease went to someone else. It stays
// active until its results so far are reported (the master records them
// per object: copies are idempotent, though this token can no longer
// ack), so it keeps its place in MaxShards meanwhile. A copy that
// completes after that report is not reported; the next holder redoes it.
func (r *runner) lose(token uint64) {
	r.mu.Lock()
	s := r.active[token]
	r.mu.Unlock()
	if s == nil || !s.leave(shardLost, "") {
		return
	}
	r.log.Warn("lease lost; dropping shard", "shard", s.g.ID, "job", s.g.Job)
	s.cancel()
	r.kick()
}

// giveBack stops work on a shard this worker cannot copy (its job failed
// fatally here), reports what is done and nacks it with the error.
func (r *runner) giveBack(s *shardRun, err error) {
	if !s.leave(shardGiven, err.Error()) {
		return
	}
	r.log.Error("giving shard back", "shard", s.g.ID, "job", s.g.Job, "err", err)
	s.cancel()
	r.wg.Go(func() {
		r.settle(s, "nack", func(ctx context.Context) error {
			return r.a.Master.Nack(ctx, r.a.Name, s.g.Ref(), err.Error())
		})
	})
}
