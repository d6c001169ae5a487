package master

import (
	"errors"

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
