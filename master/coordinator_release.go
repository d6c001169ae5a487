package master

import (
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/tracker"
)

// ReleaseWorker requeues the leases of a worker the master declared dead,
// without waiting for their deadlines, and returns how many it released.
// Results the worker reported stay recorded; its tokens are stale from
// now, so a late ack from it is refused and a renewal reports them lost.
func (c *Coordinator) ReleaseWorker(worker string) (int, error) {
	c.mu.Lock()
	tokens := map[uint64]bool{}
	for _, l := range c.broker.Leases() {
		if l.Worker == worker {
			tokens[l.Token] = true
		}
	}
	released, failed := c.broker.ReleaseWorker(worker)
	for t := range tokens {
		delete(c.progress, t)
	}
	delete(c.workers, worker)
	writes := make([]*shardWrite, 0, len(failed))
	for _, id := range failed {
		writes = append(writes, c.failShard(id, "workers holding it kept disappearing"))
	}
	c.mu.Unlock()
	if err := c.commit(writes); err != nil {
		return len(released), fmt.Errorf("job %q: releasing worker %q: %w", c.cfg.Job, worker, err)
	}
	return len(released) + len(failed), nil
}

// Close stops the coordinator for good: Lease grants nothing more and
// every lease is dropped (workers learn it at their next renewal), without
// counting against the shards. Reports are still recorded, acks are stale.
// The pass stays unfinished in the tracker; a new coordinator resumes it.
func (c *Coordinator) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.broker.ReleaseAll()
	clear(c.progress)
	c.hurry()
}

// Closed reports whether Close was called.
func (c *Coordinator) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// LoadPending queues every shard the tracker holds as pending for this
// pass (after tracker.RequeueFailed appended new ones). Shards already
// queued or leased are left as they are; the lock keeps a concurrent ack
// from marking a listed shard done before it is queued again.
func (c *Coordinator) LoadPending() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copied {
		return errCopied
	}
	return c.store.Shards(c.cfg.Job, c.cfg.Pass, tracker.ShardPending, func(r tracker.ShardRecord) error {
		if _, busy := c.writing[r.ID]; busy {
			return nil // acked, given back or failed: still pending only on disk
		}
		c.broker.Add(r.ID)
		return nil
	})
}

// Finished reports whether the pass is over.
func (c *Coordinator) Finished() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.finished
}

// errCopied: a held pass's copy is complete and the master's own work on
// it may be under way; new shards need a fresh run of the pass.
var errCopied = errors.New("the pass's copy is complete")

// Copied is closed when every shard of a held pass (CoordinatorConfig.Hold)
// is done; it is never closed otherwise.
func (c *Coordinator) Copied() <-chan struct{} { return c.copiedCh }

// Finish closes a held pass after the caller's own work: the tracker
// finishes it (succeeded or failed by its counters and problem) and Done
// is closed. Calling it again is harmless.
func (c *Coordinator) Finish() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.finished:
		return nil
	case !c.copied:
		return fmt.Errorf("job %q pass %d: finishing before the copy is complete", c.cfg.Job, c.cfg.Pass)
	}
	return c.finishLocked()
}
