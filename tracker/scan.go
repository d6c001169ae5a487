package tracker

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

// AppendShards records one step of a pass's scan of one listing stream,
// atomically: the shards (given sequential ids, returned and also set in
// shards[i].ID/Job/Pass), stored Pending; the skipped results (objects the
// scanner decided not to copy) in the manifest; the Scanned, ScannedBytes
// and Shards counters; and the stream's checkpoint cp. A crash leaves all
// of it or none, so a scan resumed from ScanCheckpoints shards no object
// twice and misses none.
//
// Validation (any failure writes nothing): n is the job's current pass,
// unfinished and still scanning; the stream is not Done; every shard is
// non-empty with keys strictly increasing across the shards of the call;
// every key, sharded or skipped, is after the stream's previous
// checkpoint and at most cp.After, and cp.After does not go backwards.
func (s *Store) AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp ScanCheckpoint) ([]uint64, error) {
	ids := make([]uint64, len(shards))
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, p, err := scanningPass(tx, job, n)
		if err != nil {
			return err
		}
		scan := jt.sub(bktScan, fillAppend)
		skey := scanKey(n, cp.Stream)
		var prevAfter string
		if v := scan.Get(skey); v != nil {
			prev, err := decodeScan(cp.Stream, v)
			if err != nil {
				return fmt.Errorf("scan checkpoint %q: %w", cp.Stream, err)
			}
			if prev.Done {
				return fmt.Errorf("stream %q is already done", cp.Stream)
			}
			prevAfter = prev.After
		}
		if cp.After < prevAfter {
			return fmt.Errorf("stream %q: checkpoint %q is before the previous one %q", cp.Stream, cp.After, prevAfter)
		}
		inRange := func(key string) error {
			if key == "" || len(key) > bolt.MaxKeySize {
				return fmt.Errorf("invalid key %q (empty or longer than %d bytes)", key, bolt.MaxKeySize)
			}
			if (prevAfter != "" && key <= prevAfter) || key > cp.After {
				return fmt.Errorf("stream %q: key %q outside (%q, %q]", cp.Stream, key, prevAfter, cp.After)
			}
			return nil
		}

		shardB := jt.sub(bktShards, fillAppend)
		objB := jt.sub(bktObjects, fillAppend)
		id := lastShardID(shardB, n)
		last := ""
		for i := range shards {
			sh := &shards[i]
			if (sh.Job != "" && sh.Job != job) || (sh.Pass != 0 && sh.Pass != n) {
				return fmt.Errorf("shard %d of the batch belongs to job %q pass %d", i, sh.Job, sh.Pass)
			}
			if len(sh.Objects) == 0 {
				return fmt.Errorf("shard %d of the batch has no objects", i)
			}
			var bytes int64
			for j := range sh.Objects {
				o := &sh.Objects[j]
				if err := inRange(o.Key); err != nil {
					return fmt.Errorf("shard %d of the batch: %w", i, err)
				}
				if o.Key <= last {
					return fmt.Errorf("shard %d of the batch: key %q not after %q (keys must be sorted, unique)", i, o.Key, last)
				}
				last = o.Key
				bytes += o.Size
			}
			id++
			ids[i] = id
			k := shardKey(n, id)
			h := shardHeader{State: ShardPending, Count: len(sh.Objects), Bytes: bytes}
			if err := shardB.Put(k, encodeShardHeader(h)); err != nil {
				return fmt.Errorf("shard %d: %w", id, err)
			}
			if err := objB.Put(k, encodeObjects(nil, sh.Objects)); err != nil {
				return fmt.Errorf("shard %d: %w", id, err)
			}
			p.Shards++
			p.Scanned += int64(len(sh.Objects))
			p.ScannedBytes += bytes
		}

		m := newManifestTx(jt, &p)
		for i := range skipped {
			r := &skipped[i]
			if err := inRange(r.Key); err != nil {
				return fmt.Errorf("skipped result: %w", err)
			}
			if r.Status == task.StatusUnknown {
				return fmt.Errorf("skipped result %q has no status", r.Key)
			}
			if err := m.apply(n, r); err != nil {
				return err
			}
			p.Scanned++
			p.ScannedBytes += r.Size
		}
		if err := scan.Put(skey, encodeScan(cp)); err != nil {
			return fmt.Errorf("scan checkpoint %q: %w", cp.Stream, err)
		}
		return jt.putPass(p)
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: append shards to job %q pass %d: %w", job, n, err)
	}
	for i := range shards {
		shards[i].Job, shards[i].Pass, shards[i].ID = job, n, ids[i]
	}
	s.trimResident()
	return ids, nil
}

// lastShardID is the highest shard id of pass n, 0 if none.
func lastShardID(b *bolt.Bucket, n uint64) uint64 {
	c := b.Cursor()
	k, _ := c.Seek(shardKey(n+1, 0))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if pn, id, ok := splitShardKey(k); ok && pn == n {
		return id
	}
	return 0
}

// ScanCheckpoints returns pass n's scan checkpoints by stream.
func (s *Store) ScanCheckpoints(job string, n uint64) (map[string]ScanCheckpoint, error) {
	out := map[string]ScanCheckpoint{}
	err := s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		prefix := passKey(n)
		c := jt.sub(bktScan, fillAppend).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix8(k, prefix); k, v = c.Next() {
			cp, err := decodeScan(string(k[8:]), v)
			if err != nil {
				return fmt.Errorf("stream %q: %w", k[8:], err)
			}
			out[cp.Stream] = cp
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: scan checkpoints of job %q pass %d: %w", job, n, err)
	}
	return out, nil
}

// Read batches: iterating methods copy at most this much out of one short
// read transaction before calling back, so a slow callback never holds a
// transaction open (a long reader blocks bbolt's file growth).
const (
	batchRecords = 1024
	batchObjects = 50_000
)

// Shards calls fn for each shard of pass n in the given state (ShardAny
// for all), in id order. A shard changed while iterating may be seen in
// either state.
func (s *Store) Shards(job string, n uint64, state ShardState, fn func(ShardRecord) error) error {
	next := uint64(1)
	for {
		var batch []ShardRecord
		more := false
		err := s.db.View(func(tx *bolt.Tx) error {
			jt, err := openJob(tx, job)
			if err != nil {
				return err
			}
			objB := jt.sub(bktObjects, fillAppend)
			c := jt.sub(bktShards, fillAppend).Cursor()
			objs := 0
			for k, v := c.Seek(shardKey(n, next)); k != nil; k, v = c.Next() {
				pn, id, ok := splitShardKey(k)
				if !ok || pn != n {
					break
				}
				if len(batch) >= batchRecords || objs >= batchObjects {
					more = true
					break
				}
				next = id + 1
				h, err := decodeShardHeader(v)
				if err != nil {
					return fmt.Errorf("shard %d: %w", id, err)
				}
				if state != ShardAny && h.State != state {
					continue
				}
				rec, err := shardRecord(job, n, id, h, objB.Get(k))
				if err != nil {
					return err
				}
				batch = append(batch, rec)
				objs += h.Count
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tracker: shards of job %q pass %d: %w", job, n, err)
		}
		for _, r := range batch {
			if err := fn(r); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

func shardRecord(job string, n, id uint64, h shardHeader, objV []byte) (ShardRecord, error) {
	objs, err := decodeObjects(objV)
	if err != nil {
		return ShardRecord{}, fmt.Errorf("shard %d objects: %w", id, err)
	}
	return ShardRecord{
		Shard:     task.Shard{Job: job, Pass: n, ID: id, Objects: objs},
		State:     h.State,
		Attempts:  h.Attempts,
		LastError: h.LastError,
	}, nil
}

// GetShard returns one shard, or ok=false if it does not exist.
func (s *Store) GetShard(job string, n, id uint64) (rec ShardRecord, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		k := shardKey(n, id)
		v := jt.sub(bktShards, fillAppend).Get(k)
		if v == nil {
			return nil
		}
		h, err := decodeShardHeader(v)
		if err != nil {
			return err
		}
		rec, err = shardRecord(job, n, id, h, jt.sub(bktObjects, fillAppend).Get(k))
		ok = err == nil
		return err
	})
	if err != nil {
		return ShardRecord{}, false, fmt.Errorf("tracker: get job %q pass %d shard %d: %w", job, n, id, err)
	}
	return rec, ok, nil
}

// SetShardState sets a shard's state, attempt count and last error, and
// moves the pass's ShardsDone/ShardsFailed counters by the state change
// (none when the state is unchanged), so repeating a call, or going
// Done→Pending→Done, keeps them exact. Like Report it shares a batched
// commit (up to reportBatchDelay): a master acks a shard about as often
// as it hears a report, and a commit of its own per ack was as costly.
// It returns once the state is durable; concurrent calls for one shard
// commit in no set order, so callers order them (master.shardWrite).
func (s *Store) SetShardState(job string, n, id uint64, state ShardState, attempts int, lastErr string) error {
	if !state.valid() {
		return fmt.Errorf("tracker: set job %q pass %d shard %d: invalid state %d", job, n, id, state)
	}
	err := s.commits.do(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		return setShardState(jt, n, id, func(h *shardHeader) {
			h.State, h.Attempts, h.LastError = state, attempts, lastErr
		})
	}, s.hurried(job))
	if err != nil {
		return fmt.Errorf("tracker: set job %q pass %d shard %d: %w", job, n, id, err)
	}
	return nil
}

// setShardState applies change to a shard header and keeps the pass
// counters in step. Unchanged headers are not rewritten.
func setShardState(jt *jobTx, n, id uint64, change func(*shardHeader)) error {
	b := jt.sub(bktShards, fillAppend)
	k := shardKey(n, id)
	v := b.Get(k)
	if v == nil {
		return fmt.Errorf("shard %d: %w", id, ErrNotFound)
	}
	h, err := decodeShardHeader(v)
	if err != nil {
		return fmt.Errorf("shard %d: %w", id, err)
	}
	old := h
	change(&h)
	if h == old {
		return nil
	}
	if err := b.Put(k, encodeShardHeader(h)); err != nil {
		return fmt.Errorf("shard %d: %w", id, err)
	}
	if h.State == old.State {
		return nil
	}
	p, err := jt.pass(n)
	if err != nil {
		return err
	}
	p.shardCount(old.State, -1)
	p.shardCount(h.State, +1)
	return jt.putPass(p)
}

func (c *Counters) shardCount(st ShardState, d int64) {
	switch st {
	case ShardDone:
		c.ShardsDone += d
	case ShardFailed:
		c.ShardsFailed += d
	}
}
