package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Coordinator runs one pass of one job: it owns the broker, answers
// workers (Lease, Renew, Report, Ack, Nack) for the Manager, records
// results, and closes the pass when the scan is finished and every shard
// is done. Multipart upload state is the Manager's, not one pass's.
type Coordinator struct {
	cfg    CoordinatorConfig
	store  Store
	broker *Broker

	mu       sync.Mutex
	scanDone bool
	finished bool
	closed   bool // Close: grants nothing more (job canceled)
	done     chan struct{}
	copied   bool                      // Hold: every shard done, pass not finished yet
	copiedCh chan struct{}             // closed with copied
	progress map[uint64]*shardProgress // by token
	workers  map[string]time.Time      // last contact
	// The token of each shard's latest grant, and the shard of each such
	// token: results are taken only under a shard's latest token, so a
	// worker whose shard was leased again cannot write over the new
	// holder's results.
	latest  map[uint64]uint64 // shard -> token
	shardOf map[uint64]uint64 // token -> shard
	// writing holds, per shard, the done channel of its latest tracker
	// write still in flight (see shardWrite).
	writing map[uint64]chan struct{}
	// hurrying: the store was told to hurry this job's writes (hurry).
	hurrying bool
}

type shardProgress struct {
	shard, total, done uint64
	bytes, doneBytes   int64
	worker             string
	attempt            int
}

// NewCoordinator loads the pass's pending shards into a fresh broker:
// whatever was leased when a previous process died is pending again.
func NewCoordinator(cfg CoordinatorConfig, store Store) (*Coordinator, error) {
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 2 * time.Minute
	}
	if cfg.ShardRetries <= 0 {
		cfg.ShardRetries = 3
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	broker := NewBroker(cfg.LeaseTTL, cfg.ShardRetries)
	if cfg.Tokens != nil {
		broker.SetTokens(cfg.Tokens)
	}
	broker.SetCounts(cfg.Counts)
	broker.SetQueued(cfg.Queued)
	c := &Coordinator{cfg: cfg, store: store, broker: broker,
		done: make(chan struct{}), copiedCh: make(chan struct{}), progress: map[uint64]*shardProgress{}, workers: map[string]time.Time{},
		latest: map[uint64]uint64{}, shardOf: map[uint64]uint64{}, writing: map[uint64]chan struct{}{}}
	p, ok, err := store.GetPass(cfg.Job, cfg.Pass)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("job %q has no pass %d", cfg.Job, cfg.Pass)
	}
	c.scanDone = p.ScanFinished
	err = store.Shards(cfg.Job, cfg.Pass, tracker.ShardPending, func(r tracker.ShardRecord) error {
		c.broker.Add(r.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !p.Finished.IsZero() {
		c.finished = true
		close(c.done)
	} else if cfg.Hold {
		// A restarted master resumes the held part at once, without
		// waiting for a worker's lease to notice there is nothing to do.
		if err := c.maybeFinish(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Pass is the pass this coordinator runs.
func (c *Coordinator) Pass() uint64 { return c.cfg.Pass }

// Done is closed when the pass is finished.
func (c *Coordinator) Done() <-chan struct{} { return c.done }

// AddShards queues newly appended shards (the scanner's callback).
func (c *Coordinator) AddShards(ids []uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.broker.Add(ids...)
}

// ScanFinished records that the listing is complete; the pass can close
// once the queue drains.
func (c *Coordinator) ScanFinished() error {
	if err := c.store.FinishScan(c.cfg.Job, c.cfg.Pass); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanDone = true
	return c.maybeFinish()
}

// Lease grants up to max shards. Objects that already have a result in
// this pass are left out (re-running a shard is idempotent); a shard with
// nothing left is finished on the spot.
func (c *Coordinator) Lease(ctx context.Context, worker string, max int) ([]task.Grant, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, nil
	}
	out, writes, err := c.leaseLocked(worker, max)
	c.mu.Unlock()
	if err := errors.Join(err, c.commit(writes)); err != nil {
		return nil, err
	}
	if len(out) == 0 && c.Finished() {
		return nil, task.ErrFinished
	}
	return out, nil
}

// leaseLocked is Lease under c.mu; the tracker writes it queues (shards
// found empty or given up) are the caller's to commit.
func (c *Coordinator) leaseLocked(worker string, max int) ([]task.Grant, []*shardWrite, error) {
	now := c.cfg.Now()
	c.workers[worker] = now
	var out []task.Grant
	var writes []*shardWrite
	for len(out) < max {
		leases, failed := c.broker.Lease(worker, max-len(out), now)
		for _, id := range failed {
			writes = append(writes, c.failShard(id, "workers holding it kept disappearing"))
		}
		if len(leases) == 0 {
			break
		}
		for _, l := range leases {
			c.track(l)
			g, empty, err := c.grant(l)
			if err != nil {
				return nil, writes, err
			}
			if empty {
				w, err := c.finishShard(l)
				if err != nil {
					return nil, writes, err
				}
				writes = append(writes, w)
				continue
			}
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, writes, c.maybeFinish()
	}
	return out, writes, nil
}

func (c *Coordinator) grant(l Lease) (task.Grant, bool, error) {
	rec, err := c.shard(l.Shard)
	if err != nil {
		return task.Grant{}, false, err
	}
	keys := make([]string, len(rec.Objects))
	for i, o := range rec.Objects {
		keys[i] = o.Key
	}
	known, err := c.store.Lookup(c.cfg.Job, keys)
	if err != nil {
		return task.Grant{}, false, err
	}
	todo := rec.Objects[:0:0]
	var bytes int64
	for _, o := range rec.Objects {
		e, ok := known[o.Key]
		if ok && e.Pass == c.cfg.Pass && done(e.Status) {
			continue
		}
		if c.cfg.Audit && ok && e.Pass < c.cfg.Pass && e.HasCRC64 && unchanged(e, o) {
			o.ManifestCRC64, o.HasManifestCRC64 = e.CRC64, true
		}
		if !c.cfg.Audit && ok && e.Pass < c.cfg.Pass && e.Dest == o.Dest && (e.Status == task.StatusVerified || e.Status == task.StatusSkipped && e.Method == task.MethodManifest) {
			o.PriorDestETag = e.DestETag
		}
		o.NeedCRC64 = c.cfg.NeedCRC64
		if prefix, from := c.cfg.Copyable[e.Pass]; from && ok && e.Status == task.StatusVerified &&
			strings.HasPrefix(e.Dest, prefix) && unchanged(e, o) {
			// A verified copy of this very source version is in a
			// snapshot still there: the destination copies its own copy.
			// The manifest entry names the last pass that verified the
			// key, whose copy that is.
			o.CopyFrom, o.CopyFromETag = e.Dest, e.DestETag
			o.ManifestCRC64, o.HasManifestCRC64 = e.CRC64, e.HasCRC64
		}
		todo = append(todo, o)
		bytes += o.Size
	}
	if len(todo) == 0 {
		return task.Grant{}, true, nil
	}
	shard := rec.Shard
	shard.Objects = todo
	c.progress[l.Token] = &shardProgress{shard: l.Shard, total: uint64(len(todo)), bytes: bytes, worker: l.Worker, attempt: l.Attempt}
	return task.Grant{Shard: shard, Token: l.Token, Worker: l.Worker, Deadline: l.Deadline, Attempt: l.Attempt,
		Audit: c.cfg.Audit}, false, nil
}

// Renew extends leases and tells the worker which it lost.
func (c *Coordinator) Renew(ctx context.Context, worker string, tokens []uint64) ([]uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.cfg.Now()
	c.workers[worker] = now
	lost := c.broker.Renew(worker, tokens, now)
	for _, t := range lost {
		delete(c.progress, t)
	}
	return lost, nil
}

// track makes l its shard's latest lease. Called with c.mu held.
func (c *Coordinator) track(l Lease) {
	if old, ok := c.latest[l.Shard]; ok {
		delete(c.shardOf, old)
	}
	c.latest[l.Shard], c.shardOf[l.Token] = l.Token, l.Shard
}

// untrack forgets the shard's leases once it is done or failed. Called
// with c.mu held.
func (c *Coordinator) untrack(shard uint64) {
	if tok, ok := c.latest[shard]; ok {
		delete(c.shardOf, tok)
		delete(c.latest, shard)
	}
}

// Report records results under the shard's latest lease, even one that
// lapsed (a copy verified by a worker whose lease expired is still a
// verified copy of this pass's object). A token that is not its shard's
// latest (the shard was leased again, or finished) is refused with
// ErrStale and nothing is recorded. A token this coordinator never issued
// (from before a master restart) is taken only while its shard is still
// pending and unleased since: nobody else has worked on it.
func (c *Coordinator) Report(ctx context.Context, worker string, lease task.LeaseRef, results []task.Result) error {
	token := lease.Token
	c.mu.Lock()
	shard, current := c.shardOf[token]
	current = current && (lease.Shard == 0 || lease.Shard == shard)
	_, leased := c.latest[lease.Shard]
	c.hurry()
	c.mu.Unlock()
	if !current && !leased && lease.Shard != 0 {
		rec, ok, err := c.store.GetShard(c.cfg.Job, c.cfg.Pass, lease.Shard)
		if err != nil {
			return err
		}
		current = ok && rec.State == tracker.ShardPending
	}
	if !current {
		return fmt.Errorf("job %q pass %d: report under token %d: %w", c.cfg.Job, c.cfg.Pass, token, ErrStale)
	}
	if err := c.store.Report(c.cfg.Job, c.cfg.Pass, results); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.workers[worker] = c.cfg.Now()
	if p := c.progress[token]; p != nil {
		for _, r := range results {
			p.done++
			p.doneBytes += r.Size
		}
	}
	return nil
}

// Ack finishes a shard. A stale token is answered with ErrStale,
// which the worker may ignore.
func (c *Coordinator) Ack(ctx context.Context, worker string, token uint64) error {
	c.mu.Lock()
	shard, err := c.broker.Ack(token, c.cfg.Now())
	if err != nil {
		c.mu.Unlock()
		return err
	}
	delete(c.progress, token)
	c.untrack(shard)
	c.hurry()
	w := c.setState(shard, tracker.ShardDone, 0, "")
	c.mu.Unlock()
	return c.commit([]*shardWrite{w})
}

// Nack gives a shard back; after ShardRetries the objects of it that have
// no result yet are recorded failed with the reason.
func (c *Coordinator) Nack(ctx context.Context, worker string, token uint64, reason string) error {
	c.mu.Lock()
	shard, failed, err := c.broker.Nack(token, c.cfg.Now())
	if err != nil {
		c.mu.Unlock()
		return err
	}
	delete(c.progress, token)
	c.cfg.Log.Warn("shard given back", "shard", shard, "worker", worker, "reason", reason, "final", failed)
	var w *shardWrite
	if failed {
		w = c.failShard(shard, reason)
	} else {
		w = c.setState(shard, tracker.ShardPending, 0, reason)
	}
	c.mu.Unlock()
	return c.commit([]*shardWrite{w})
}

func (c *Coordinator) shard(id uint64) (tracker.ShardRecord, error) {
	rec, ok, err := c.store.GetShard(c.cfg.Job, c.cfg.Pass, id)
	if err == nil && !ok {
		err = fmt.Errorf("job %q pass %d: shard %d is missing from the tracker", c.cfg.Job, c.cfg.Pass, id)
	}
	return rec, err
}

// done: the object has its final answer in this pass (a failed or
// requeued object is worked on again).
func done(s task.Status) bool { return s == task.StatusVerified || s == task.StatusSkipped }

// maybeFinish closes the pass when the scan is complete, no shard is
// queued or leased and every shard's state is committed: a pass recorded
// finished never has a shard still pending in the tracker. Called with
// c.mu held.
func (c *Coordinator) maybeFinish() error {
	if c.finished || !c.scanDone || !c.broker.Idle() || len(c.writing) > 0 {
		return nil
	}
	if c.cfg.Hold {
		if !c.copied {
			c.copied = true
			close(c.copiedCh)
		}
		return nil
	}
	return c.finishLocked()
}

func (c *Coordinator) finishLocked() error {
	if _, err := c.store.FinishPass(c.cfg.Job, c.cfg.Pass, c.cfg.Now()); err != nil {
		return err
	}
	c.finished = true
	c.hurry()
	close(c.done)
	return nil
}

// hurrier is a store whose shared commits can be hurried per job
// (tracker.Store.Hurry).
type hurrier interface{ Hurry(job string, on bool) }

// hurry tells the store whether the end of the pass now waits on each of
// the job's writes in turn: the scan is done, nothing is queued and at
// most one shard is leased. Its final report and ack then commit at once
// instead of waiting for company (about 50 ms each). Called with c.mu
// held.
func (c *Coordinator) hurry() {
	on := !c.finished && !c.closed && c.scanDone && c.broker.Pending() == 0 && c.broker.Busy() <= 1
	if on == c.hurrying {
		return
	}
	if h, ok := c.store.(hurrier); ok {
		h.Hurry(c.cfg.Job, on)
	}
	c.hurrying = on
}
