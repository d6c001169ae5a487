package master

import (
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// shardWrite is one shard's tracker write (its new state, or its objects
// recorded failed), committed after c.mu is released. The tracker batches
// shard states with reports into one commit up to 50 ms long
// (tracker.Store.SetShardState); holding c.mu across that wait would hold
// up every lease behind every ack. Committing later is safe after a
// crash: a shard done in memory but still pending on disk is leased again
// after a restart and, its objects' results being on disk already, found
// empty and finished on the spot.
type shardWrite struct {
	shard uint64
	// after is the shard's previous write still in flight (nil for none):
	// writes of one shard commit in the order they were queued, so a
	// Nack's pending cannot land after the next holder's done.
	after <-chan struct{}
	done  chan struct{}
	apply func() error
}

// queueWrite makes apply the shard's next tracker write. Called with c.mu
// held; the pass cannot finish until the write is committed.
func (c *Coordinator) queueWrite(shard uint64, apply func() error) *shardWrite {
	w := &shardWrite{shard: shard, after: c.writing[shard], done: make(chan struct{}), apply: apply}
	c.writing[shard] = w.done
	return w
}

// setState queues a SetShardState. Called with c.mu held.
func (c *Coordinator) setState(shard uint64, state tracker.ShardState, attempts int, lastErr string) *shardWrite {
	return c.queueWrite(shard, func() error {
		return c.store.SetShardState(c.cfg.Job, c.cfg.Pass, shard, state, attempts, lastErr)
	})
}

// commit runs queued writes in order; it must be called without c.mu.
// Each returns once durable; after the last write of the pass the pass
// may finish.
func (c *Coordinator) commit(writes []*shardWrite) error {
	var errs []error
	for _, w := range writes {
		if w.after != nil {
			<-w.after
		}
		err := w.apply()
		close(w.done)
		c.mu.Lock()
		if c.writing[w.shard] == w.done {
			delete(c.writing, w.shard)
		}
		if err == nil {
			err = c.maybeFinish()
		}
		c.mu.Unlock()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// finishShard closes a lease whose shard has nothing left to do. Called
// with c.mu held; the caller commits the returned write.
func (c *Coordinator) finishShard(l Lease) (*shardWrite, error) {
	if _, err := c.broker.Ack(l.Token, c.cfg.Now()); err != nil && !errors.Is(err, ErrStale) {
		return nil, err
	}
	c.untrack(l.Shard)
	return c.setState(l.Shard, tracker.ShardDone, 0, ""), nil
}

// failShard queues the recording of every object of the shard that has
// no result in this pass as failed with reason, so nothing is silently
// lost. Called with c.mu held; the caller commits the returned write.
func (c *Coordinator) failShard(id uint64, reason string) *shardWrite {
	c.untrack(id)
	return c.queueWrite(id, func() error { return c.recordFailed(id, reason) })
}

// recordFailed is failShard's tracker write.
func (c *Coordinator) recordFailed(id uint64, reason string) error {
	rec, err := c.shard(id)
	if err != nil {
		return err
	}
	keys := make([]string, len(rec.Objects))
	for i, o := range rec.Objects {
		keys[i] = o.Key
	}
	known, err := c.store.Lookup(c.cfg.Job, keys)
	if err != nil {
		return err
	}
	var results []task.Result
	for _, o := range rec.Objects {
		if e, ok := known[o.Key]; ok && e.Pass == c.cfg.Pass && done(e.Status) {
			continue
		}
		results = append(results, task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusFailed, Class: "retryable",
			Reason: fmt.Sprintf("shard %d given up: %s", id, reason), Size: o.Size, ModTime: o.ModTime, ETag: o.ETag})
	}
	if err := c.store.Report(c.cfg.Job, c.cfg.Pass, results); err != nil {
		return err
	}
	return c.store.SetShardState(c.cfg.Job, c.cfg.Pass, id, tracker.ShardFailed, c.cfg.ShardRetries, reason)
}
