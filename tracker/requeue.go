package tracker

import (
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

// RequeueShardObjects is the size of the shards RequeueFailed creates:
// retries are usually few, and small shards spread them over workers.
const RequeueShardObjects = 1000

// RequeueFailed gives the job's current pass another go at what did not
// make it, in one transaction, and returns the number of objects queued:
//   - every failed manifest entry of the pass becomes an object of a new
//     Pending shard (rebuilt from the entry), and the entry is reset to
//     StatusUnknown (keeping Reason) so its later result counts once;
//   - objects of Failed shards with no result in this pass (the shard
//     failed before reporting them) are queued too, and those shards are
//     marked Done (LastError kept, prefixed "requeued: ") because nothing
//     of them remains to do;
//   - Failed/FailedBytes drop, Shards/ShardsDone grow accordingly, the
//     pass's Finished is cleared and the job is running again.
//
// With nothing to requeue it changes nothing and returns 0.
func (s *Store) RequeueFailed(job string) (int, error) {
	queued := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		n := jt.job.Pass
		if n == 0 {
			return nil
		}
		p, err := jt.pass(n)
		if err != nil {
			return err
		}
		man := jt.sub(bktManifest, fillManifest)
		failedIdx := jt.sub(bktFailed, fillManifest)
		var objs []task.Object
		var unfail [][]byte

		// 1. Failed entries of this pass, via the failed index.
		c := failedIdx.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			v := man.Get(k)
			e, _, err := decodeEntry(string(k), v)
			if err != nil {
				return fmt.Errorf("manifest entry %q: %w", k, err)
			}
			if e.Pass != n || e.Status != task.StatusFailed {
				continue // an older pass's failure: the next scan re-examines it
			}
			r := e.Result
			objs = append(objs, task.Object{Key: r.Key, Dest: r.Dest, Size: r.Size,
				ModTime: r.ModTime, ETag: r.ETag, CRC64: r.CRC64, HasCRC64: r.HasCRC64})
			p.count(&r, -1)
			r.Status = task.StatusUnknown
			if err := man.Put(k, encodeEntry(n, e.Updated, encodeResult(&r))); err != nil {
				return fmt.Errorf("manifest entry %q: %w", k, err)
			}
			unfail = append(unfail, append([]byte(nil), k...))
		}
		// Deleted after the walk: deleting under a live cursor skips keys.
		for _, k := range unfail {
			if err := failedIdx.Delete(k); err != nil {
				return fmt.Errorf("failed index %q: %w", k, err)
			}
		}

		// 2. Failed shards: objects that never got a result this pass.
		var failedShards []uint64
		objB := jt.sub(bktObjects, fillAppend)
		sc := jt.sub(bktShards, fillAppend).Cursor()
		for k, v := sc.Seek(shardKey(n, 0)); k != nil; k, v = sc.Next() {
			pn, id, ok := splitShardKey(k)
			if !ok || pn != n {
				break
			}
			h, err := decodeShardHeader(v)
			if err != nil {
				return fmt.Errorf("shard %d: %w", id, err)
			}
			if h.State != ShardFailed {
				continue
			}
			failedShards = append(failedShards, id)
			so, err := decodeObjects(objB.Get(k))
			if err != nil {
				return fmt.Errorf("shard %d objects: %w", id, err)
			}
			for _, o := range so {
				if v := man.Get([]byte(o.Key)); v != nil {
					if e, _, err := decodeEntry(o.Key, v); err != nil {
						return fmt.Errorf("manifest entry %q: %w", o.Key, err)
					} else if e.Pass >= n {
						continue // has a result (or was queued by step 1)
					}
				}
				objs = append(objs, o)
			}
		}
		if len(objs) == 0 && len(failedShards) == 0 {
			return nil
		}
		// Counters go to p before setShardState reloads the pass.
		if err := jt.putPass(p); err != nil {
			return err
		}
		for _, id := range failedShards {
			err := setShardState(jt, n, id, func(h *shardHeader) {
				h.State, h.LastError = ShardDone, "requeued: "+h.LastError
			})
			if err != nil {
				return err
			}
		}
		if p, err = jt.pass(n); err != nil {
			return err
		}

		// 3. New shards, in key order like the scanner's.
		sort.Slice(objs, func(a, b int) bool { return objs[a].Key < objs[b].Key })
		shardB, id := jt.sub(bktShards, fillAppend), lastShardID(jt.sub(bktShards, fillAppend), n)
		for start := 0; start < len(objs); start += RequeueShardObjects {
			chunk := objs[start:min(start+RequeueShardObjects, len(objs))]
			id++
			k := shardKey(n, id)
			h := shardHeader{State: ShardPending, Count: len(chunk), Bytes: task.Shard{Objects: chunk}.Bytes()}
			if err := shardB.Put(k, encodeShardHeader(h)); err != nil {
				return fmt.Errorf("shard %d: %w", id, err)
			}
			if err := objB.Put(k, encodeObjects(nil, chunk)); err != nil {
				return fmt.Errorf("shard %d: %w", id, err)
			}
			p.Shards++
		}
		p.Finished = time.Time{}
		if err := jt.putPass(p); err != nil {
			return err
		}
		jt.job.State = JobRunning
		queued = len(objs)
		return jt.putJob()
	})
	if err != nil {
		return 0, fmt.Errorf("tracker: requeue failed objects of job %q: %w", job, err)
	}
	return queued, nil
}
