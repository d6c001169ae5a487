// Package master owns the work of a job: the scanner that turns a source
// listing into shards, the broker that leases shards to workers, and the
// coordinator that records results and closes passes. Its core is plain Go
// over the tracker and a clock; the gRPC edge (distributed mode) sits on top.
package master

import (
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// ErrStale is what the broker, the coordinator and the manager answer for
// a lease they no longer honour (expired and re-granted, finished, of an
// ended pass). It is task.ErrStale, so that a worker, which does not
// import this package, recognises it in-process.
var ErrStale = task.ErrStale

// Lease is one shard held by one worker until Deadline.
type Lease struct {
	Shard    uint64
	Token    uint64
	Worker   string
	Deadline time.Time
	Attempt  int
}

// Broker hands out shards of one pass: the queued shards ordered by id
// (granted in the spread order of spread.go, not first in first out), the
// leases in flight, and attempt counts. It is pure bookkeeping (no I/O,
// no goroutines, the clock passed in); the coordinator persists what it
// decides. Not safe for concurrent use: the coordinator serializes calls.
type Broker struct {
	ttl         time.Duration
	maxNacks    int // Nacks after which a shard fails
	maxExpiries int // expiries after which a shard fails (a shard that kills workers)

	queue  *shardQueue
	grants uint64            // grants so far: the index into the spread sequence
	leases map[uint64]*Lease // by token
	// earliest is at or before every lease's deadline (renewals only move
	// deadlines later), so Expire, which runs on every Lease, scans the
	// leases only when one may have expired: with 1,000 workers a scan
	// per lease would cost O(leases) each time.
	earliest time.Time
	byShard  map[uint64]uint64 // shard -> current token
	nacks    map[uint64]int
	expiries map[uint64]int
	attempts map[uint64]int
	next     uint64
	tokens   func() uint64 // nil: a counter of this broker's own
	counts   *LeaseCounts  // nil: not counted
	queued   func(n int)   // nil: nobody is told
}

// LeaseCounts counts a job's lease events since the master started, over
// all its passes (brokers), for metrics: a pass's broker is gone when the
// pass ends, the counts are not. Safe for concurrent reads.
type LeaseCounts struct {
	Granted atomic.Int64
	// Expired: leases reclaimed because their deadline passed, or because
	// their worker was declared dead.
	Expired atomic.Int64
}

// SetQueued makes the broker call f with the number of shards queued
// each time some are (added, given back, expired, released), so that lease
// calls waiting for work can be woken (Manager.LeaseWait). f is called
// with the caller's lock held: it must not block or call back.
func (b *Broker) SetQueued(f func(n int)) { b.queued = f }

// SetCounts makes the broker count its grants and expiries in c.
func (b *Broker) SetCounts(c *LeaseCounts) { b.counts = c }

func (b *Broker) count(granted, expired int) {
	if b.counts != nil {
		b.counts.Granted.Add(int64(granted))
		b.counts.Expired.Add(int64(expired))
	}
}

// SetTokens makes the broker draw lease tokens from next, so that tokens
// are unique across the brokers (jobs) of one master, and across master
// restarts when next starts from a time-based base. A worker's token then
// names its job and pass on its own.
func (b *Broker) SetTokens(next func() uint64) { b.tokens = next }

func (b *Broker) token() uint64 {
	if b.tokens != nil {
		return b.tokens()
	}
	b.next++
	return b.next
}

// NewBroker makes a broker whose leases last ttl unless renewed. A shard
// fails after maxNacks explicit give-backs; lost leases (a worker that died)
// count separately against a much higher bound, so a chaos of dying workers
// delays a shard but does not fail its objects.
func NewBroker(ttl time.Duration, maxNacks int) *Broker {
	if maxNacks < 1 {
		maxNacks = 1
	}
	return &Broker{
		ttl: ttl, maxNacks: maxNacks, maxExpiries: 10 * (maxNacks + 2),
		queue: newShardQueue(), leases: map[uint64]*Lease{}, byShard: map[uint64]uint64{},
		nacks: map[uint64]int{}, expiries: map[uint64]int{}, attempts: map[uint64]int{},
	}
}

// Add queues shards (idempotent: a shard already queued or leased is left
// as it is).
func (b *Broker) Add(ids ...uint64) {
	n := 0
	for _, id := range ids {
		if b.queue.Has(id) || b.byShard[id] != 0 {
			continue
		}
		b.queue.Push(id)
		n++
	}
	if n > 0 && b.queued != nil {
		b.queued(n)
	}
}

// Lease grants up to max queued shards to worker, spread over the key
// space (see spread.go) rather than in key order. Expired leases are
// reclaimed first, so a dead worker's shards go to the living.
func (b *Broker) Lease(worker string, max int, now time.Time) (granted []Lease, failed []uint64) {
	failed = b.Expire(now)
	for len(granted) < max && b.queue.Len() > 0 {
		id := b.queue.Take(spreadRank(b.grants, b.queue.Len()))
		b.grants++
		b.attempts[id]++
		l := &Lease{Shard: id, Token: b.token(), Worker: worker, Deadline: now.Add(b.ttl), Attempt: b.attempts[id]}
		b.leases[l.Token] = l
		b.byShard[id] = l.Token
		if b.earliest.IsZero() || l.Deadline.Before(b.earliest) {
			b.earliest = l.Deadline
		}
		granted = append(granted, *l)
	}
	b.count(len(granted), 0)
	return granted, failed
}

// Renew extends the worker's leases; it returns the tokens it does not
// honour (expired, re-granted, finished, or someone else's).
func (b *Broker) Renew(worker string, tokens []uint64, now time.Time) (lost []uint64) {
	for _, t := range tokens {
		l, ok := b.leases[t]
		if !ok || l.Worker != worker || now.After(l.Deadline) {
			lost = append(lost, t)
			continue
		}
		l.Deadline = now.Add(b.ttl)
		if l.Deadline.Before(b.earliest) { // only if the clock went back
			b.earliest = l.Deadline
		}
	}
	return lost
}

// Ack finishes the shard held under token. A stale token is refused with
// ErrStale: its shard belongs to someone else now (or is done).
func (b *Broker) Ack(token uint64, now time.Time) (shard uint64, err error) {
	l, err := b.current(token, now)
	if err != nil {
		return 0, err
	}
	b.drop(l)
	return l.Shard, nil
}

// Nack gives the shard back. It is requeued unless it has now been given
// back maxNacks times, in which case failed is true and the shard is gone
// from the broker (the coordinator fails its remaining objects).
func (b *Broker) Nack(token uint64, now time.Time) (shard uint64, failed bool, err error) {
	l, err := b.current(token, now)
	if err != nil {
		return 0, false, err
	}
	b.drop(l)
	b.nacks[l.Shard]++
	if b.nacks[l.Shard] >= b.maxNacks {
		return l.Shard, true, nil
	}
	b.Add(l.Shard)
	return l.Shard, false, nil
}

// Expire requeues every lease past its deadline and returns the shards that
// have now been lost too often to try again.
func (b *Broker) Expire(now time.Time) (failed []uint64) {
	if len(b.leases) == 0 || !now.After(b.earliest) {
		return nil
	}
	var expired []*Lease
	b.earliest = time.Time{}
	for _, l := range b.leases {
		if now.After(l.Deadline) {
			expired = append(expired, l)
		} else if b.earliest.IsZero() || l.Deadline.Before(b.earliest) {
			b.earliest = l.Deadline
		}
	}
	// Deterministic order (oldest grant first), so failures are reported
	// the same way on every run.
	sort.Slice(expired, func(i, j int) bool { return expired[i].Token < expired[j].Token })
	b.count(0, len(expired))
	for _, l := range expired {
		b.drop(l)
		b.expiries[l.Shard]++
		if b.expiries[l.Shard] >= b.maxExpiries {
			failed = append(failed, l.Shard)
			continue
		}
		b.Add(l.Shard)
	}
	return failed
}

// ReleaseWorker requeues every lease worker holds, at once. It is for a
// worker declared dead (silent past the master's worker timeout): waiting
// for its leases' deadlines would only leave the shards idle. Each release
// counts as an expiry, so a shard that kills every worker taking it still
// fails in the end. It returns the shards requeued and those now lost too
// often to try again (gone from the broker, like Expire's).
func (b *Broker) ReleaseWorker(worker string) (released, failed []uint64) {
	var mine []*Lease
	for _, l := range b.leases {
		if l.Worker == worker {
			mine = append(mine, l)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].Token < mine[j].Token })
	b.count(0, len(mine))
	for _, l := range mine {
		b.drop(l)
		b.expiries[l.Shard]++
		if b.expiries[l.Shard] >= b.maxExpiries {
			failed = append(failed, l.Shard)
			continue
		}
		b.Add(l.Shard)
		released = append(released, l.Shard)
	}
	return released, failed
}

// ReleaseAll requeues every lease without counting it against its shard:
// the job was canceled, nobody failed. The old tokens are stale from now.
func (b *Broker) ReleaseAll() (released []uint64) {
	for _, l := range b.Leases() {
		b.drop(&l)
		b.Add(l.Shard)
		released = append(released, l.Shard)
	}
	return released
}

// Leases returns the leases in flight, ordered by token.
func (b *Broker) Leases() []Lease {
	out := make([]Lease, 0, len(b.leases))
	for _, l := range b.leases {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Token < out[j].Token })
	return out
}

// Pending is the number of queued shards; Busy the number leased.
func (b *Broker) Pending() int { return b.queue.Len() }
func (b *Broker) Busy() int    { return len(b.leases) }

// Idle reports whether nothing is queued or leased.
func (b *Broker) Idle() bool { return b.queue.Len() == 0 && len(b.leases) == 0 }

// Holder returns the lease currently held on shard, if any.
func (b *Broker) Holder(shard uint64) (Lease, bool) {
	t, ok := b.byShard[shard]
	if !ok {
		return Lease{}, false
	}
	return *b.leases[t], true
}

func (b *Broker) current(token uint64, now time.Time) (*Lease, error) {
	l, ok := b.leases[token]
	if !ok {
		return nil, fmt.Errorf("token %d: %w", token, ErrStale)
	}
	if now.After(l.Deadline) {
		// Expired but not yet reclaimed: reclaim it now rather than let a
		// late worker finish a shard that may already be promised elsewhere.
		b.Expire(now)
		return nil, fmt.Errorf("token %d for shard %d expired at %s: %w", token, l.Shard, l.Deadline.Format(time.RFC3339), ErrStale)
	}
	return l, nil
}

func (b *Broker) drop(l *Lease) {
	delete(b.leases, l.Token)
	if b.byShard[l.Shard] == l.Token {
		delete(b.byShard, l.Shard)
	}
}
