package master

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/creds"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// jobRun is the master's runtime state of one job; the tracker holds the
// durable rest. Its fields are guarded by Manager.mu.
type jobRun struct {
	name     string
	cfg      *conf.Job // with credentials; nil when the job has no saved config
	src, dst storage.Backend
	pass     uint64       // pass being run, or last run: late reports go there
	coord    *Coordinator // nil when no copy pass runs here
	scanner  *Scanner
	stop     context.CancelFunc // ends the current pass's goroutines
	auditing bool               // an audit pass runs, until its extras are counted
	paused   bool
	override *Limits // SetThrottle's, else the config's limits apply
	problem  string  // why the job is not progressing, for stat; "" when fine
	// staleRefused counts results, acks and nacks refused because their
	// lease was no longer current (see Manager.Report).
	staleRefused int64
	// leases counts grants and expiries over the job's passes.
	leases LeaseCounts
	// writeRace names the race window the destination leaves open
	// (probeWrites); "" when none or not probed.
	writeRace       string
	writeRaceProbed bool
	// writes is what the probe found, when writesKnown (it could tell):
	// workers' copiers are told rather than probing again.
	writes      storage.Conditions
	writesKnown bool
	// srcKeys and dstKeys serve a static side's keys to the backends the
	// master opens, so that SetCredentials reaches them; keysGen is the
	// generation workers compare theirs with (credentials.go).
	srcKeys, dstKeys *creds.Static
	keysGen          uint64
}

// limits are the job's cluster-wide limits before backoff.
func (jr *jobRun) limits() Limits {
	switch {
	case jr.override != nil:
		return *jr.override
	case jr.cfg != nil:
		return Limits{BytesPerSecond: jr.cfg.BytesPerSecond, ObjectsPerSecond: jr.cfg.ObjectsPerSecond}
	}
	return Limits{}
}

// granting: workers get this job's shards now.
func (jr *jobRun) granting() bool { return jr.coord != nil && !jr.paused }

// restore brings one job back at Start.
func (m *Manager) restore(jr *jobRun, j tracker.Job) error {
	over, hasOver, err := m.files.loadThrottle(j.Name)
	if err != nil {
		return err
	}
	paused := m.files.paused(j.Name)
	gen, err := m.files.keysGen(j.Name)
	if err != nil {
		return err
	}
	m.mu.Lock()
	jr.keysGen = gen
	if hasOver {
		jr.override = &over
	}
	jr.paused, jr.pass = paused, j.Pass
	m.mu.Unlock()
	cfg, err := m.files.loadConfig(j.Name)
	if errors.Is(err, fs.ErrNotExist) {
		if j.State == tracker.JobRunning {
			return fmt.Errorf("job %q is running in the tracker but has no saved config here (not submitted to this master): submit its config", j.Name)
		}
		return nil // a finished job run elsewhere: listed, nothing to resume
	}
	if err != nil {
		return err
	}
	m.mu.Lock()
	jr.cfg = cfg
	m.mu.Unlock()
	switch j.State {
	case tracker.JobRunning:
		m.log.Info("resuming job", "job", j.Name, "pass", j.Pass)
		_, _, err := m.run(m.lifetime(), jr, cfg, false)
		return err
	case tracker.JobSucceeded, tracker.JobFailed:
		if policyOf(cfg) != nil {
			m.schedule(jr, j.Pass)
		}
	}
	return nil
}

// run opens the job's backends (checking them when check is set), resumes
// its unfinished pass or starts a new one, and launches it.
func (m *Manager) run(ctx context.Context, jr *jobRun, cfg *conf.Job, check bool) (tracker.Pass, bool, error) {
	cfg = m.attachKeys(jr, cfg)
	rec := &skipRecorder{m: m, job: cfg.Name}
	src, dst, err := openSides(ctx, cfg, rec, check)
	if err != nil {
		return tracker.Pass{}, false, err
	}
	m.probeWrites(ctx, jr, cfg, dst)
	p, resumed, err := m.beginPass(cfg)
	if err != nil {
		return tracker.Pass{}, false, err
	}
	if err := m.launch(jr, cfg, src, dst, rec, p); err != nil {
		return tracker.Pass{}, false, err
	}
	return p, resumed, nil
}

// beginPass resumes the job's unfinished pass or starts a new one (the
// rule of `ferry run`). The tracker keeps only the redacted config.
func (m *Manager) beginPass(cfg *conf.Job) (tracker.Pass, bool, error) {
	j, ok, err := m.st.GetJob(cfg.Name)
	if err != nil {
		return tracker.Pass{}, false, err
	}
	if !ok {
		j = tracker.Job{Name: cfg.Name, Source: cfg.Src.String(), Dest: cfg.Dest.String(), Created: m.now()}
	}
	j.Config, j.State = cfg.Redacted(), tracker.JobRunning
	j.WriteRace = m.writeRace(cfg)
	if err := m.st.PutJob(j); err != nil {
		return tracker.Pass{}, false, err
	}
	if j.Pass > 0 {
		p, ok, err := m.st.GetPass(cfg.Name, j.Pass)
		if err != nil {
			return tracker.Pass{}, false, err
		}
		if ok && p.Finished.IsZero() {
			return p, true, nil
		}
	}
	p, err := m.st.StartPass(cfg.Name, m.now())
	return p, false, err
}

// launch installs pass p as the job's runtime (stopping any previous one)
// and starts its goroutines: scanner and watcher. An audit pass is
// sharded and leased like a copy pass; its grants tell workers to compare.
func (m *Manager) launch(jr *jobRun, cfg *conf.Job, src, dst storage.Backend, rec *skipRecorder, p tracker.Pass) error {
	log := m.log.With("job", cfg.Name, "pass", p.N)
	rec.pass.Store(p.N)
	audit := cfg.Type == conf.JobAudit
	deletes := cfg.Deletes.Enabled && !audit
	snap := cfg.Backup == conf.BackupSnapshot && !audit
	srcPrefix, destPrefix := cfg.Src.Prefix, cfg.Dest.Prefix
	var copyable map[uint64]string
	if snap {
		sn, from, err := m.snapshotPass(cfg, p)
		if err != nil {
			return fmt.Errorf("job %q pass %d: %w", cfg.Name, p.N, err)
		}
		destPrefix, copyable = sn.Prefix, from
	}
	if cfg.Type == conf.JobRestore {
		srcPrefix = "" // the snapshot source lists keys relative to the snapshot
	}
	coord, err := NewCoordinator(CoordinatorConfig{Job: cfg.Name, Pass: p.N, LeaseTTL: m.cfg.LeaseTTL,
		ShardRetries: cfg.ShardRetries, Now: m.cfg.Now, Log: log, Tokens: m.nextToken, Counts: &jr.leases, Queued: m.wake.wake, Audit: audit,
		Hold: deletes || snap, Copyable: copyable, NeedCRC64: snap}, m.st)
	if err != nil {
		return fmt.Errorf("job %q pass %d: %w", cfg.Name, p.N, err)
	}
	filter, err := NewFilter(cfg.ImportSince, cfg.ImportUntil, cfg.Include, cfg.Exclude)
	if err != nil {
		return fmt.Errorf("job %q: %w: %w", cfg.Name, ErrInvalid, err)
	}
	sc := NewScanner(ScanConfig{Job: cfg.Name, Pass: p.N, Src: src, SrcPrefix: srcPrefix, DestPrefix: destPrefix,
		Filter: filter, ShardObjects: cfg.ShardObjects, ShardBytes: cfg.ShardBytes, Threads: cfg.ScanThreads, Audit: audit,
		Complete: snap, SplitRanges: cfg.Src.Type == backends.S3 || cfg.Src.Type == backends.OSS, ProbePage: int(cfg.Src.ListPageSize),
	}, m.st, coord.AddShards, log)
	ctx, stop := context.WithCancel(m.lifetime())
	m.mu.Lock()
	m.haltLocked(jr)
	jr.cfg, jr.src, jr.dst, jr.pass = cfg, src, dst, p.N
	jr.coord, jr.scanner, jr.stop, jr.auditing = coord, sc, stop, audit
	jr.problem = ""
	m.mu.Unlock()
	m.sched.Started(jr.name)
	log.Info("pass launched", "scan_finished", p.ScanFinished, "type", cfg.Type)
	m.wg.Add(1)
	switch {
	case audit:
		go m.watchAudit(ctx, jr, cfg, dst, filter, coord, p.N)
	case deletes:
		go m.watchDeletes(ctx, jr, cfg, dst, coord, p.N)
	case snap:
		go m.watchSnapshot(ctx, jr, cfg, dst, coord, p.N)
	default:
		go m.watch(ctx, jr, coord, p.N)
	}
	if !p.ScanFinished {
		m.wg.Add(1)
		go m.scanLoop(ctx, jr, sc, coord, p.N)
	}
	return nil
}

// haltLocked stops the job's current pass: goroutines end, the coordinator
// grants nothing more and drops its leases. Called with m.mu held.
func (m *Manager) haltLocked(jr *jobRun) {
	if jr.stop != nil {
		jr.stop()
		jr.stop = nil
	}
	if jr.coord != nil {
		jr.coord.Close()
	}
	jr.scanner, jr.auditing = nil, false
	m.reg.ForgetJob(jr.name)
}

// scanLoop runs the scanner to the end of the listing. Backends already
// retry transient errors; what escapes is retried (the scan resumes from
// its checkpoints).
func (m *Manager) scanLoop(ctx context.Context, jr *jobRun, sc *Scanner, coord *Coordinator, pass uint64) {
	defer m.wg.Done()
	ok := m.untilDone(ctx, jr, pass, "scan", func() error {
		if err := sc.Run(ctx); err != nil {
			return err
		}
		return coord.ScanFinished()
	})
	if ok {
		m.log.Info("scan finished", "job", jr.name, "pass", pass, "listed", sc.Listed.Load(), "excluded", sc.Excluded.Load(), "rewritten_in_place", sc.Rewritten.Load())
	}
}

// untilDone runs step until it succeeds (true) or ctx ends (false). A
// failure is logged, told to OnPass and shown in stat as the job's
// problem, and step runs again after a pause that doubles up to five
// minutes: a pass's background work outlives a storage outage.
func (m *Manager) untilDone(ctx context.Context, jr *jobRun, pass uint64, what string, step func() error) bool {
	wait := time.Second
	for {
		err := step()
		if ctx.Err() != nil {
			return false
		}
		if err == nil {
			m.setProblem(jr, "")
			return true
		}
		m.log.Error(what+" failed; retrying", "job", jr.name, "pass", pass, "err", err, "retry_in", wait)
		m.passEvent(jr.name, pass, fmt.Errorf("%s: %w", what, err))
		m.setProblem(jr, fmt.Sprintf("%s: %v (retrying)", what, err))
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Minute)
	}
}

// watch waits for the pass to finish (the coordinator closes it when the
// scan is done and every shard is done or failed).
func (m *Manager) watch(ctx context.Context, jr *jobRun, coord *Coordinator, pass uint64) {
	defer m.wg.Done()
	select {
	case <-ctx.Done():
	case <-coord.Done():
		m.passDone(jr, pass)
	}
}

// passDone logs the end of a pass and schedules the next one for an
// incremental job.
func (m *Manager) passDone(jr *jobRun, n uint64) {
	p, _, err := m.st.GetPass(jr.name, n)
	if err != nil {
		m.log.Error("pass finished; reading it", "job", jr.name, "pass", n, "err", err)
	}
	j, _, _ := m.st.GetJob(jr.name)
	m.log.Info("pass finished", "job", jr.name, "pass", n, "state", j.State, "verified", p.Verified,
		"skipped", p.Skipped, "failed", p.Failed)
	m.mu.Lock()
	if jr.pass == n {
		jr.auditing = false
	}
	m.mu.Unlock()
	if j.State != tracker.JobCanceled {
		m.schedule(jr, n)
	}
	m.passEvent(jr.name, n, nil)
}

// schedule sets the next pass of an incremental job after pass n.
func (m *Manager) schedule(jr *jobRun, n uint64) {
	p, ok, err := m.st.GetPass(jr.name, n)
	if err != nil || !ok || p.Finished.IsZero() {
		return
	}
	m.mu.Lock()
	cfg, current := jr.cfg, jr.pass == n
	m.mu.Unlock()
	if cfg == nil || !current {
		return
	}
	pol := policyOf(cfg)
	// Skipped runs are recorded before the next one is scheduled: stat
	// shows both together.
	if n := Missed(pol, p.Started, p.Finished); n > 0 {
		// A run is never started while the previous one runs: the times
		// that came meanwhile are skipped, not queued up, and said so.
		m.log.Warn("scheduled runs skipped: the pass was still running at their time", "job", jr.name, "pass", p.N, "skipped", n)
		if err := m.st.SetSkippedRuns(jr.name, p.N, int64(n)); err != nil {
			m.log.Error("recording skipped runs", "job", jr.name, "pass", p.N, "err", err)
		}
	}
	if at := m.sched.Finished(jr.name, p.Finished, pol); !at.IsZero() {
		m.log.Info("next pass scheduled", "job", jr.name, "at", at)
	}
}

// policyOf is the job's schedule: nil for a job that runs once.
func policyOf(cfg *conf.Job) Policy {
	switch {
	case cfg.Cron != nil:
		return cfg.Cron
	case cfg.Incremental:
		return Every(cfg.IncrementalInterval)
	}
	return nil
}

// startDue starts the passes whose time has come.
func (m *Manager) startDue(now time.Time) {
	for _, name := range m.sched.Due(now, m.mayStart) {
		m.submitMu.Lock()
		m.mu.Lock()
		jr := m.jobs[name]
		var cfg *conf.Job
		if jr != nil {
			cfg = jr.cfg
		}
		m.mu.Unlock()
		var err error
		if cfg != nil {
			_, _, err = m.run(m.lifetime(), jr, cfg, false)
		}
		m.submitMu.Unlock()
		if err != nil {
			m.log.Error("starting pass; retrying in a minute", "job", name, "err", err)
			m.setProblem(jr, err.Error())
			m.sched.RetryAt(name, now.Add(time.Minute))
		}
	}
}

// mayStart: a scheduled pass of job may start now (it is known here, has
// its config, and is not paused).
func (m *Manager) mayStart(job string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	jr := m.jobs[job]
	return jr != nil && jr.cfg != nil && !jr.paused
}

// openSides opens both backends and, with check, checks them before any
// state changes, so a typo in a bucket name costs nothing. A local
// destination directory is created.
func openSides(ctx context.Context, cfg *conf.Job, rec *skipRecorder, check bool) (src, dst storage.Backend, err error) {
	srcSpec := cfg.Src
	srcSpec.OnSkip = rec.onSkip
	if src, err = backends.Open(ctx, srcSpec); err != nil {
		return nil, nil, fmt.Errorf("%w: job %q: source %s: %w", ErrCheck, cfg.Name, cfg.Src, err)
	}
	if dst, err = backends.OpenDest(ctx, cfg.Dest); err != nil {
		return nil, nil, fmt.Errorf("%w: job %q: destination %s: %w", ErrCheck, cfg.Name, cfg.Dest, err)
	}
	if !check {
		return src, dst, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, side := range []struct {
		name string
		spec backends.Spec
		b    storage.Backend
	}{{"source", cfg.Src, src}, {"destination", cfg.Dest, dst}} {
		if c, ok := side.b.(storage.Checker); ok {
			if err := c.Check(cctx); err != nil {
				return nil, nil, fmt.Errorf("%w (%s): job %q: %s %s: %w", ErrCheck, storage.Classify(err), cfg.Name, side.name, side.spec, err)
			}
		}
	}
	return src, dst, nil
}

// skipRecorder receives what a local source lists but cannot copy
// (symlinks, special files, unreadable directories) and records it in the
// manifest of the current pass: skipped with the reason, or failed when
// data is unreachable (as `ferry run` does).
type skipRecorder struct {
	m    *Manager
	job  string
	pass atomic.Uint64
}

func (s *skipRecorder) onSkip(key string, reason error) {
	r := task.Result{Key: key, Status: task.StatusSkipped, Reason: reason.Error()}
	if errors.Is(reason, storage.ErrAccessDenied) || errors.Is(reason, storage.ErrNotFound) || storage.Classify(reason) != storage.Permanent {
		r.Status, r.Class = task.StatusFailed, storage.Classify(reason).String()
	}
	s.m.log.Warn("source entry not copied", "job", s.job, "key", key, "reason", reason)
	if err := s.m.st.Report(s.job, s.pass.Load(), []task.Result{r}); err != nil {
		s.m.log.Error("recording skipped source entry", "job", s.job, "key", key, "err", err)
	}
}
