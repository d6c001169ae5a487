package master

import (
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStat is one job as the operator sees it (it mirrors the proto
// JobStat, plus what only Go callers use). It never holds the config.
type JobStat struct {
	Job   string
	Type  string // import or audit ("" when the master has no config for it)
	State string // running, paused, succeeded, failed, canceled
	Pass  uint64

	// Tasks (shards) of the current pass, as OssImport counts them:
	// pending (not leased), dispatched (leased, nothing reported yet),
	// running (leased, reporting), succeeded and failed.
	PendingTasks, DispatchedTasks, RunningTasks, SucceedTasks, FailedTasks int64

	ScanFinished bool
	Counters     tracker.Counters // the current (or last) pass's
	// Totals sum the counters of every pass of the job, the current one
	// included: a pass with nothing left to do shows zeros in Counters,
	// while Totals still says what the job listed and verified.
	Totals     tracker.Counters
	Checkpoint time.Time
	Running    []Running

	// Cluster-wide limits in force (configured or set, times the SlowDown
	// backoff); zero is unlimited.
	BytesPerSecondLimit   int64
	ObjectsPerSecondLimit float64
	BackoffFactor         float64

	Source, Dest string    // descriptions, no secrets
	Listed       int64     // objects listed by this master's scan of the pass
	Excluded     int64     // of those, dropped by importSince/include/exclude
	AuditExtra   int64     // the last audit's objects only at the destination
	NextPass     time.Time // incremental or scheduled: when the next pass starts
	LastRun      time.Time // when the last finished pass ended; zero before
	// SkippedRuns: scheduled runs skipped, over all passes, because the
	// previous run was still going at their time.
	SkippedRuns int64
	Problem     string // why the job is not progressing; "" when fine
	Window      string // the time window (conf.Job.Window); "" when none
	// StaleRefused counts the results, acks and nacks refused since the
	// master started because their lease was no longer current.
	StaleRefused int64
	// LeasesGranted and LeasesExpired count the job's leases granted, and
	// reclaimed from workers past their deadline or dead, since the master
	// started.
	LeasesGranted, LeasesExpired int64
	// WriteRace names the race window the destination leaves open: which
	// conditional writes it does not enforce, so which writes can clobber
	// an object written between a worker's check and its write. "" when
	// it enforces them all, or the job's policy needs none.
	WriteRace string
	// Snapshot is the current (or last) pass's snapshot; nil unless the
	// job is a backupKind=snapshot job.
	Snapshot *SnapshotInfo
}

// Stat returns the job's stat, or every job's (in name order) when job is
// empty.
func (m *Manager) Stat(job string) ([]JobStat, error) {
	m.reap(m.now())
	var names []string
	if job != "" {
		if _, err := m.job(job); err != nil {
			return nil, err
		}
		names = []string{job}
	} else {
		m.mu.Lock()
		for _, jr := range m.sortedJobs() {
			names = append(names, jr.name)
		}
		m.mu.Unlock()
	}
	out := make([]JobStat, 0, len(names))
	for _, name := range names {
		s, err := m.stat(name)
		if errors.Is(err, ErrUnknownJob) && job == "" {
			continue // cleaned meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (m *Manager) stat(name string) (JobStat, error) {
	j, err := m.trackerJob(name)
	if err != nil {
		return JobStat{}, err
	}
	s := JobStat{Job: name, State: string(j.State), Pass: j.Pass, Checkpoint: j.Checkpoint, Source: j.Source, Dest: j.Dest}
	s.WriteRace = j.WriteRace
	if j.Pass > 0 {
		p, ok, err := m.st.GetPass(name, j.Pass)
		if err != nil {
			return JobStat{}, fmt.Errorf("job %q: stat: %w", name, err)
		}
		if ok {
			s.Counters, s.ScanFinished, s.Problem = p.Counters, p.ScanFinished, p.Problem
			if p.Snapshot.Prefix != "" {
				si := snapshotInfo(p)
				s.Snapshot = &si
			}
		}
		err = m.st.Passes(name, func(p tracker.Pass) error {
			s.Totals.Add(p.Counters)
			if p.Finished.After(s.LastRun) {
				s.LastRun = p.Finished
			}
			s.SkippedRuns += p.SkippedRuns
			return nil
		})
		if err != nil {
			return JobStat{}, fmt.Errorf("job %q: stat: %w", name, err)
		}
	}
	m.mu.Lock()
	jr := m.jobs[name]
	if jr == nil {
		m.mu.Unlock()
		return JobStat{}, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
	}
	coord, sc := jr.coord, jr.scanner
	if jr.pass != j.Pass {
		coord, sc = nil, nil // a stale runtime says nothing about this pass
	}
	cfg := jr.cfg
	if jr.paused && j.State == tracker.JobRunning {
		s.State = "paused"
	}
	if jr.auditing && jr.pass == j.Pass {
		// Every object has its result, but the objects only at the
		// destination are still being counted: not done yet.
		s.State = string(tracker.JobRunning)
	}
	var lim Limits
	lim, s.BackoffFactor = m.reg.Effective(jr.limits())
	s.BytesPerSecondLimit, s.ObjectsPerSecondLimit = lim.BytesPerSecond, lim.ObjectsPerSecond
	if jr.problem != "" {
		// The runtime's problem is the newer; the pass's (why it failed)
		// outlives a restart.
		s.Problem = jr.problem
	}
	s.StaleRefused, s.AuditExtra = jr.staleRefused, s.Counters.DestOnly
	s.LeasesGranted, s.LeasesExpired = jr.leases.Granted.Load(), jr.leases.Expired.Load()
	m.mu.Unlock()
	if c := jobConfig(cfg, j); c != nil {
		s.Type, s.Window = string(c.Type), c.Window()
	}

	s.NextPass = m.sched.Next(name)
	var leased int64
	if coord != nil {
		snap := coord.Snapshot()
		s.Running, leased = snap.Running, int64(snap.Leased)
		for _, r := range snap.Running {
			if r.ObjectsDone > 0 {
				s.RunningTasks++
			}
		}
	}
	if sc != nil {
		s.Listed, s.Excluded = sc.Listed.Load(), sc.Excluded.Load()
	}
	s.DispatchedTasks = leased - s.RunningTasks
	s.SucceedTasks, s.FailedTasks = s.Counters.ShardsDone, s.Counters.ShardsFailed
	s.PendingTasks = max(0, s.Counters.Shards-s.Counters.ShardsDone-s.Counters.ShardsFailed-leased)
	return s, nil
}

// Live returns the live state of the job's current pass (queue, leases,
// per-shard progress), and false when no copy pass of it runs here.
func (m *Manager) Live(job string) (Snapshot, bool) {
	m.mu.Lock()
	jr := m.jobs[job]
	var coord *Coordinator
	if jr != nil && jr.coord != nil && jr.coord.Pass() == jr.pass {
		coord = jr.coord
	}
	m.mu.Unlock()
	if coord == nil {
		return Snapshot{}, false
	}
	return coord.Snapshot(), true
}

// State returns the job's state as Stat shows it.
func (m *Manager) State(job string) (string, error) {
	ss, err := m.Stat(job)
	if err != nil {
		return "", err
	}
	return ss[0].State, nil
}

// Failed returns up to limit (0: all) failed objects of the job's current
// pass, in key order, with their errors.
func (m *Manager) Failed(job string, limit int) ([]tracker.Entry, error) {
	out, err := m.entries(job, task.StatusFailed, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("job %q: failed objects: %w", job, err)
	}
	return out, nil
}
