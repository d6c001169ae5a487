package tracker

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/ferry-migrate/ferry/task"
)

// Report records workers' results for pass n in one transaction: each
// becomes the manifest entry for its source key, and the pass counters
// follow, so that
//   - re-applying a report is harmless: a result identical to the entry
//     already stored for this pass changes nothing, BytesRead/BytesSent
//     included (they are added only when an entry changes);
//   - a later, different result for a key in the same pass replaces the
//     earlier one's contribution (failed → verified moves the counts);
//   - success is sticky within a pass: a failed result does not replace a
//     verified or skipped entry of the same pass (it is a stale attempt
//     that lost a race with a re-leased copy);
//   - an entry from an earlier pass is superseded; one from a later pass
//     wins and the result is ignored.
func (s *Store) Report(job string, n uint64, results []task.Result) error {
	for i := range results {
		if k := results[i].Key; k == "" || len(k) > bolt.MaxKeySize {
			return fmt.Errorf("tracker: report to job %q pass %d: invalid key %q", job, n, k)
		}
	}
	// Applied in key order (stable, so for a key reported twice in one
	// call the later result still wins): neighbouring keys share pages.
	order := make([]int, len(results))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return results[order[a]].Key < results[order[b]].Key })
	// A shared commit, not Update: concurrent reports (a master hears
	// from many workers at once) share one transaction and one fsync.
	// Each report still returns only once its results are durable. With
	// 1,000 workers a commit per report wrote ~170 KB (the touched B+tree
	// paths, the pass record, the freelist) for ~35 results: 4.6 GiB
	// written for 10^6 objects (docs/benchmarks.md, Scale). The function
	// only touches the transaction, so it may run again alone if its
	// group fails.
	err := s.commits.do(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		p, err := jt.pass(n)
		if err != nil {
			return err
		}
		m := newManifestTx(jt, &p)
		for _, i := range order {
			if err := m.apply(n, &results[i]); err != nil {
				return err
			}
		}
		if !m.changed {
			return nil
		}
		return jt.putPass(p)
	}, s.hurried(job))
	if err != nil {
		return fmt.Errorf("tracker: report to job %q pass %d: %w", job, n, err)
	}
	s.trimResident()
	return nil
}

// manifestTx upserts manifest entries and keeps a pass's counters and the
// failed index in step with them.
type manifestTx struct {
	man, failed *bolt.Bucket
	pass        *Pass
	now         time.Time
	changed     bool
}

func newManifestTx(jt *jobTx, p *Pass) *manifestTx {
	return &manifestTx{
		man:    jt.sub(bktManifest, fillManifest),
		failed: jt.sub(bktFailed, fillManifest),
		pass:   p,
		now:    time.Now(),
	}
}

func (m *manifestTx) apply(n uint64, r *task.Result) error {
	key := []byte(r.Key)
	res := encodeResult(r)
	wasFailed := false
	if old := m.man.Get(key); old != nil {
		prev, off, err := decodeEntry(r.Key, old)
		if err != nil {
			return fmt.Errorf("manifest entry %q: %w", r.Key, err)
		}
		if prev.Pass > n {
			return nil
		}
		if prev.Pass == n {
			if bytes.Equal(old[off:], res) {
				return nil
			}
			if succeeded(prev.Status) && !succeeded(r.Status) {
				return nil
			}
			m.pass.count(&prev.Result, -1)
		}
		wasFailed = prev.Status == task.StatusFailed
	}
	m.pass.count(r, +1)
	m.pass.BytesRead += r.BytesRead
	m.pass.BytesSent += r.BytesSent
	m.changed = true
	if err := m.man.Put(key, encodeEntry(n, m.now, res)); err != nil {
		return fmt.Errorf("manifest entry %q: %w", r.Key, err)
	}
	return m.index(key, wasFailed, r.Status == task.StatusFailed)
}

// index keeps bucket failed equal to the set of keys whose entry is failed.
func (m *manifestTx) index(key []byte, was, is bool) error {
	var err error
	switch {
	case is && !was:
		err = m.failed.Put(key, nil)
	case was && !is:
		err = m.failed.Delete(key)
	}
	if err != nil {
		return fmt.Errorf("failed index %q: %w", key, err)
	}
	return nil
}

func succeeded(s task.Status) bool { return s == task.StatusVerified || s == task.StatusSkipped }

// count adds (d=+1) or removes (d=-1) one entry's contribution.
func (c *Counters) count(r *task.Result, d int64) {
	switch r.Status {
	case task.StatusVerified:
		c.Verified += d
		c.VerifiedBytes += d * r.Size
		switch r.Outcome {
		case task.OutcomeIdentical:
			c.Identical += d
			c.IdenticalBytes += d * r.Size
		case task.OutcomeServerCopy:
			c.ServerCopied += d
			c.ServerCopiedBytes += d * r.Size
		}
	case task.StatusSkipped:
		c.Skipped += d
		c.SkippedBytes += d * r.Size
		if r.Outcome == task.OutcomeKept {
			c.Kept += d
			c.KeptBytes += d * r.Size
		}
	case task.StatusFailed:
		c.Failed += d
		c.FailedBytes += d * r.Size
		return
	case task.StatusDeleted:
		c.Deleted += d
		return
	case task.StatusWouldDelete:
		c.WouldDelete += d
		return
	default:
		return
	}
	if r.Method == "" {
		return
	}
	if c.Methods == nil {
		c.Methods = map[task.Method]int64{}
	}
	if c.Methods[r.Method] += d; c.Methods[r.Method] == 0 {
		delete(c.Methods, r.Method)
	}
}

// Lookup returns the manifest entries of the given keys that exist, in
// one read transaction (the scanner asks once per listing batch).
func (s *Store) Lookup(job string, keys []string) (map[string]Entry, error) {
	out := make(map[string]Entry, len(keys))
	err := s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		man := jt.sub(bktManifest, fillManifest)
		for _, k := range keys {
			v := man.Get([]byte(k))
			if v == nil {
				continue
			}
			e, _, err := decodeEntry(k, v)
			if err != nil {
				return fmt.Errorf("manifest entry %q: %w", k, err)
			}
			out[k] = e
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: lookup in job %q: %w", job, err)
	}
	return out, nil
}

// Manifest calls fn for each manifest entry with a key after `after` ("" =
// from the start) and the given status (StatusUnknown = all), in key
// order. Failed entries come from the failed index, without a full scan.
func (s *Store) Manifest(job string, status task.Status, after string, fn func(Entry) error) error {
	useIndex := status == task.StatusFailed
	src := bktManifest
	if useIndex {
		src = bktFailed
	}
	for {
		var batch []Entry
		more := false
		err := s.db.View(func(tx *bolt.Tx) error {
			jt, err := openJob(tx, job)
			if err != nil {
				return err
			}
			man := jt.sub(bktManifest, fillManifest)
			c := jt.sub(src, fillManifest).Cursor()
			k, v := c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
			scanned := 0
			for ; k != nil; k, v = c.Next() {
				if scanned >= batchRecords*8 || len(batch) >= batchRecords {
					more = true
					break
				}
				scanned++
				after = string(k)
				if useIndex {
					v = man.Get(k)
				}
				e, _, err := decodeEntry(after, v)
				if err != nil {
					return fmt.Errorf("manifest entry %q: %w", k, err)
				}
				if status == task.StatusUnknown || e.Status == status {
					batch = append(batch, e)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("tracker: manifest of job %q: %w", job, err)
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}
