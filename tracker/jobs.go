package tracker

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// PutJob creates or updates a job. For an existing job the stored Pass
// and Checkpoint are kept (they move only through StartPass/FinishPass,
// so writing back a stale copy cannot rewind them), as is Created when
// j.Created is zero. A new job starts with Pass 0 and no checkpoint.
func (s *Store) PutJob(j Job) error {
	if j.Name == "" {
		return errors.New("tracker: put job: empty job name")
	}
	if len(j.Name) > bolt.MaxKeySize {
		return fmt.Errorf("tracker: put job: name longer than %d bytes", bolt.MaxKeySize)
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		name := []byte(j.Name)
		if v := jobs.Get(name); v != nil {
			old, err := decodeJob(j.Name, v)
			if err != nil {
				return err
			}
			j.Pass, j.Checkpoint = old.Pass, old.Checkpoint
			if j.Created.IsZero() {
				j.Created = old.Created
			}
		} else {
			j.Pass, j.Checkpoint = 0, time.Time{}
			if j.Created.IsZero() {
				j.Created = time.Now()
			}
		}
		if err := jobs.Put(name, encodeJob(j)); err != nil {
			return err
		}
		data, err := tx.Bucket(bktJobData).CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		for _, b := range jobSubBuckets {
			if _, err := data.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("tracker: put job %q: %w", j.Name, err)
	}
	return nil
}

// GetJob returns the job, or ok=false if there is none by that name.
func (s *Store) GetJob(name string) (j Job, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bktJobs).Get([]byte(name))
		if v == nil {
			return nil
		}
		ok = true
		j, err = decodeJob(name, v)
		return err
	})
	if err != nil {
		return Job{}, false, fmt.Errorf("tracker: get job %q: %w", name, err)
	}
	return j, ok, nil
}

// ListJobs returns every job in name order.
func (s *Store) ListJobs() ([]Job, error) {
	var out []Job
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bktJobs).ForEach(func(k, v []byte) error {
			j, err := decodeJob(string(k), v)
			if err != nil {
				return fmt.Errorf("job %q: %w", k, err)
			}
			out = append(out, j)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("tracker: list jobs: %w", err)
	}
	return out, nil
}

// DeleteJob removes the job and all its data (passes, shards, manifest,
// uploads, scan checkpoints) in one transaction. An unknown job wraps
// ErrNotFound.
func (s *Store) DeleteJob(name string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		jobs := tx.Bucket(bktJobs)
		if jobs.Get([]byte(name)) == nil {
			return ErrNotFound
		}
		if err := jobs.Delete([]byte(name)); err != nil {
			return err
		}
		err := tx.Bucket(bktJobData).DeleteBucket([]byte(name))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			err = nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("tracker: delete job %q: %w", name, err)
	}
	return nil
}

// StartPass begins pass Job.Pass+1 and marks the job running. It refuses
// while the current pass is unfinished and the job is still running: the
// caller should resume that pass (its shards and scan checkpoints are
// here) or cancel the job first. An abandoned unfinished pass never moved
// the checkpoint, so a new pass after cancel re-copies what it missed.
func (s *Store) StartPass(job string, started time.Time) (Pass, error) {
	var p Pass
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		if cur := jt.job.Pass; cur > 0 {
			prev, err := jt.pass(cur)
			if err != nil {
				return err
			}
			if prev.Finished.IsZero() && jt.job.State == JobRunning {
				return fmt.Errorf("tracker: job %q pass %d is unfinished; resume it or cancel the job", job, cur)
			}
		}
		p = Pass{Job: job, N: jt.job.Pass + 1, Started: started}
		if v := jt.sub(bktPasses, fillAppend).Get(passKey(p.N)); v != nil {
			return fmt.Errorf("tracker: job %q pass %d already exists", job, p.N)
		}
		if err := jt.putPass(p); err != nil {
			return err
		}
		jt.job.Pass, jt.job.State = p.N, JobRunning
		return jt.putJob()
	})
	if err != nil {
		return Pass{}, fmt.Errorf("tracker: start pass of job %q: %w", job, err)
	}
	return p, nil
}

// GetPass returns pass n of the job, or ok=false if it does not exist.
func (s *Store) GetPass(job string, n uint64) (p Pass, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		p, err = jt.pass(n)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil {
		return Pass{}, false, fmt.Errorf("tracker: get job %q pass %d: %w", job, n, err)
	}
	return p, ok, nil
}

// FinishScan records that the scan of pass n listed everything: no more
// shards will be appended. Idempotent.
func (s *Store) FinishScan(job string, n uint64) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		p, err := jt.pass(n)
		if err != nil || p.ScanFinished {
			return err
		}
		p.ScanFinished = true
		return jt.putPass(p)
	})
	if err != nil {
		return fmt.Errorf("tracker: finish scan of job %q pass %d: %w", job, n, err)
	}
	return nil
}

// FinishPass closes pass n, which must be the job's current pass with its
// scan finished and no shard pending. With zero failed objects and zero
// failed shards the job succeeds and its checkpoint advances to the
// pass's start time (never backwards); otherwise the job is failed and
// the checkpoint stays, so the next pass re-examines everything since the
// last clean one. Calling it again on a finished pass changes nothing.
func (s *Store) FinishPass(job string, n uint64, finished time.Time) (Pass, error) {
	var p Pass
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		if p, err = jt.pass(n); err != nil {
			return err
		}
		if !p.Finished.IsZero() {
			return nil
		}
		if n != jt.job.Pass {
			return fmt.Errorf("pass %d is not the current pass %d", n, jt.job.Pass)
		}
		if !p.ScanFinished {
			return errors.New("scan not finished")
		}
		if pending := p.Shards - p.ShardsDone - p.ShardsFailed; pending != 0 {
			return fmt.Errorf("%d shards still pending", pending)
		}
		p.Finished = finished
		if err := jt.putPass(p); err != nil {
			return err
		}
		if p.Failed == 0 && p.ShardsFailed == 0 && p.Problem == "" {
			jt.job.State = JobSucceeded
			if p.Started.After(jt.job.Checkpoint) {
				jt.job.Checkpoint = p.Started
			}
		} else {
			jt.job.State = JobFailed
		}
		return jt.putJob()
	})
	if err != nil {
		return Pass{}, fmt.Errorf("tracker: finish job %q pass %d: %w", job, n, err)
	}
	return p, nil
}

// SetDestOnly records how many objects the audit of pass n found only at
// the destination. Setting it again replaces the count.
func (s *Store) SetDestOnly(job string, n uint64, count int64) error {
	return s.updatePass(job, n, "recording objects only at the destination", func(p *Pass) { p.DestOnly = count })
}

// SetPassProblem records why pass n must end failed whatever its
// counters say (delete propagation's guard); FinishPass then fails the
// job. Setting it again replaces the text.
func (s *Store) SetPassProblem(job string, n uint64, problem string) error {
	return s.updatePass(job, n, "recording its problem", func(p *Pass) { p.Problem = problem })
}

// SetSkippedRuns records how many scheduled runs were skipped while pass
// n ran. Setting it again replaces the count.
func (s *Store) SetSkippedRuns(job string, n uint64, count int64) error {
	return s.updatePass(job, n, "recording its skipped runs", func(p *Pass) { p.SkippedRuns = count })
}

// SetSnapshot records what pass n knows of its snapshot (prefix and
// base at its start, completion, removal). Setting it again replaces it.
func (s *Store) SetSnapshot(job string, n uint64, sn Snapshot) error {
	return s.updatePass(job, n, "recording its snapshot", func(p *Pass) { p.Snapshot = sn })
}

func (s *Store) updatePass(job string, n uint64, what string, change func(*Pass)) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		p, err := jt.pass(n)
		if err != nil {
			return err
		}
		change(&p)
		return jt.putPass(p)
	})
	if err != nil {
		return fmt.Errorf("tracker: job %q pass %d: %s: %w", job, n, what, err)
	}
	return nil
}

// Passes calls fn with every pass of the job, oldest first, in one read
// transaction (stat sums them into the job's totals).
func (s *Store) Passes(job string, fn func(Pass) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		jt, err := openJob(tx, job)
		if err != nil {
			return err
		}
		return jt.sub(bktPasses, fillAppend).ForEach(func(k, v []byte) error {
			p, err := decodePass(job, be64(k), v)
			if err != nil {
				return fmt.Errorf("pass %d: %w", be64(k), err)
			}
			return fn(p)
		})
	})
	if err != nil {
		return fmt.Errorf("tracker: passes of job %q: %w", job, err)
	}
	return nil
}
