package master

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Submit parses a job config, checks both sides, saves the config (with
// credentials, 0600) and starts the job's pass, or resumes its unfinished
// one. A job already known with the same source and destination runs
// again (a new pass copies what changed); the same name for another
// source or destination is refused, as by `ferry run`. name is the
// config's file name, for messages and relative local paths. Notes are
// what the config sets that ferry does not act on, and what happened.
func (m *Manager) Submit(ctx context.Context, text, name string) (job string, notes []string, err error) {
	cfg, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		return "", nil, &kindError{kind: ErrInvalid, err: err}
	}
	if err := m.offline("submit", cfg.Name); err != nil {
		return "", nil, err
	}
	// Refuse early what will be refused anyway, then check the storage
	// without holding submitMu (a check may take minutes against an
	// unreachable endpoint; cancel or pause of other jobs must not wait).
	if err := m.submittable(cfg); err != nil {
		return "", nil, err
	}
	if _, _, err := openSides(ctx, cfg, &skipRecorder{m: m, job: cfg.Name}, true); err != nil {
		return "", nil, err
	}
	m.submitMu.Lock()
	defer m.submitMu.Unlock()
	if err := m.submittable(cfg); err != nil {
		return "", nil, err
	}
	if !m.cfg.InProcess {
		if err := m.files.saveConfig(cfg.Name, name, text); err != nil {
			return "", nil, err
		}
	}
	jr := m.addJob(cfg.Name)
	// The config's limits apply again: an override (SetThrottle) lasts
	// until the job is submitted anew.
	if err := m.clearThrottle(jr); err != nil {
		return "", nil, err
	}
	p, resumed, err := m.run(ctx, jr, cfg, false)
	if err != nil {
		m.setProblem(jr, err.Error())
		return "", nil, err
	}
	notes = append(notes, cfg.Notes...)
	if resumed {
		notes = append(notes, fmt.Sprintf("resumed the unfinished pass %d", p.N))
	} else {
		notes = append(notes, fmt.Sprintf("started pass %d", p.N))
	}
	m.log.Info("job submitted", "job", cfg.Name, "type", cfg.Type, "source", cfg.Src.String(), "dest", cfg.Dest.String(), "pass", p.N, "resumed", resumed)
	return cfg.Name, notes, nil
}

// submittable refuses a job name used for another source or destination
// (its manifest describes other objects), and a job already running here.
func (m *Manager) submittable(cfg *conf.Job) error {
	j, known, err := m.st.GetJob(cfg.Name)
	if err != nil || !known {
		return err
	}
	src, dst := cfg.Src.String(), cfg.Dest.String()
	if j.Source != src || j.Dest != dst {
		return fmt.Errorf("%w: job %q already exists for %s -> %s; this config says %s -> %s: "+
			"choose another jobName, or cancel and clean the old job", ErrJobExists, cfg.Name, j.Source, j.Dest, src, dst)
	}
	m.mu.Lock()
	jr := m.jobs[cfg.Name]
	running := jr != nil && (jr.coord != nil && !jr.coord.Closed() && !jr.coord.Finished() || jr.auditing)
	m.mu.Unlock()
	if j.State == tracker.JobRunning && running {
		return fmt.Errorf("%w: job %q is already running (pass %d): see `ferry stat %s`", ErrJobState, cfg.Name, j.Pass, cfg.Name)
	}
	return nil
}

func (m *Manager) clearThrottle(jr *jobRun) error {
	m.mu.Lock()
	had := jr.override != nil
	jr.override = nil
	m.mu.Unlock()
	if !had {
		return nil
	}
	return m.files.removeThrottle(jr.name)
}

// Pause stops granting the job's shards; leases in flight run to their
// end. It persists across a master restart.
func (m *Manager) Pause(ctx context.Context, job string) error {
	jr, err := m.job(job)
	if err != nil {
		return err
	}
	j, err := m.trackerJob(job)
	if err != nil {
		return err
	}
	if j.State != tracker.JobRunning {
		return fmt.Errorf("%w: job %q is %s, not running", ErrJobState, job, j.State)
	}
	if err := m.files.setPaused(job, true); err != nil {
		return err
	}
	m.mu.Lock()
	jr.paused = true
	m.mu.Unlock()
	m.log.Info("job paused", "job", job)
	return nil
}

// Resume undoes Pause, or restarts a canceled job (its unfinished pass
// where it stopped, else a new pass). A job that finished is not resumed:
// Retry re-queues its failures, Submit runs it again.
func (m *Manager) Resume(ctx context.Context, job string) error {
	if err := m.offline("resume", job); err != nil {
		return err
	}
	jr, j, unlock, err := m.lockedJob(job)
	if err != nil {
		return err
	}
	defer unlock()
	m.mu.Lock()
	wasPaused, cfg := jr.paused, jr.cfg
	active := jr.coord != nil && !jr.coord.Closed() || jr.auditing
	jr.paused = false
	m.mu.Unlock()
	if err := m.files.setPaused(job, false); err != nil {
		return err
	}
	switch {
	case j.State == tracker.JobRunning && active:
		if wasPaused {
			m.log.Info("job resumed", "job", job)
			m.wake.wake(-1) // its queued shards are grantable again
		}
		return nil
	case j.State == tracker.JobSucceeded || j.State == tracker.JobFailed:
		return fmt.Errorf("%w: job %q is %s: retry re-queues its failed objects, submitting it again runs a new pass", ErrJobState, job, j.State)
	case cfg == nil:
		return fmt.Errorf("%w: job %q has no saved config on this master: submit it", ErrJobState, job)
	}
	// Canceled, or running in the tracker with nothing running here (its
	// restore failed): run it, checking the storage first.
	if _, _, err := m.run(ctx, jr, cfg, true); err != nil {
		m.setProblem(jr, err.Error())
		return err
	}
	m.log.Info("job resumed", "job", job)
	return nil
}

// Cancel stops the job: nothing more is granted, its leases are dropped
// (workers lose them at their next heartbeat, late reports still count),
// the scanner stops, and the state is canceled. Resume continues it.
func (m *Manager) Cancel(ctx context.Context, job string) error {
	jr, j, unlock, err := m.lockedJob(job)
	if err != nil {
		return err
	}
	defer unlock()
	m.mu.Lock()
	m.haltLocked(jr)
	jr.paused = false
	m.mu.Unlock()
	m.sched.Forget(job)
	_ = m.files.setPaused(job, false)
	j.State = tracker.JobCanceled
	if err := m.st.PutJob(j); err != nil {
		return fmt.Errorf("job %q: cancel: %w", job, err)
	}
	m.log.Info("job canceled", "job", job, "pass", j.Pass)
	return nil
}

// Clean forgets a job that is not running (finished or canceled): its
// unfinished multipart uploads are aborted at the destination with the
// saved credentials, then its tracker data and saved files are deleted.
func (m *Manager) Clean(ctx context.Context, job string) error {
	_, err := m.CleanJob(ctx, job, CleanOptions{})
	return err
}

// CleanOptions say how Clean treats the job's unfinished multipart
// uploads, which hold storage at the destination until aborted.
type CleanOptions struct {
	// Config aborts them with its credentials instead of the saved
	// config's (a `ferry run` job has none saved). It must be the job's.
	Config *conf.Job
	// Force forgets them when there is no config to abort them with,
	// instead of refusing; Cleaned names them.
	Force bool
}

// Cleaned is what Clean did with the job's unfinished uploads.
type Cleaned struct {
	Aborted   []task.UploadState
	Forgotten []task.UploadState // not aborted (Force, no config)
}

// ErrUploadsLeft is wrapped by Clean's refusal of a job whose unfinished
// uploads it has no config to abort.
var ErrUploadsLeft = errors.New("unfinished multipart uploads at the destination")

// CleanJob is Clean with options. On an Offline manager a job the tracker
// calls running is cleaned too: no process runs it (an interrupted
// `ferry run`).
func (m *Manager) CleanJob(ctx context.Context, job string, opt CleanOptions) (Cleaned, error) {
	if opt.Config != nil && opt.Config.Name != job {
		return Cleaned{}, fmt.Errorf("%w: the config given is job %q's, not %q's", ErrInvalid, opt.Config.Name, job)
	}
	jr, j, unlock, err := m.lockedJob(job)
	if err != nil {
		return Cleaned{}, err
	}
	defer unlock()
	if j.State == tracker.JobRunning && !m.cfg.Offline {
		return Cleaned{}, fmt.Errorf("%w: job %q is running: cancel it first", ErrJobState, job)
	}
	m.mu.Lock()
	m.haltLocked(jr)
	cfg := jr.cfg
	m.mu.Unlock()
	if opt.Config != nil {
		cfg = opt.Config
	}
	done, err := m.abortUploads(ctx, job, cfg, opt.Force)
	if err != nil {
		return done, err
	}
	if err := m.st.DeleteJob(job); err != nil {
		return done, fmt.Errorf("job %q: clean: %w", job, err)
	}
	m.mu.Lock()
	delete(m.jobs, job)
	m.mu.Unlock()
	m.sched.Forget(job)
	m.log.Info("job cleaned", "job", job)
	return done, m.files.remove(job)
}

// abortUploads aborts the job's unfinished multipart uploads: they hold
// storage at the destination until aborted. Without a config it refuses,
// or with force forgets them.
func (m *Manager) abortUploads(ctx context.Context, job string, cfg *conf.Job, force bool) (Cleaned, error) {
	var ups []task.UploadState
	if err := m.st.Uploads(job, func(u task.UploadState) error { ups = append(ups, u); return nil }); err != nil {
		return Cleaned{}, fmt.Errorf("job %q: clean: %w", job, err)
	}
	if len(ups) == 0 {
		return Cleaned{}, nil
	}
	if cfg == nil {
		if force {
			for _, u := range ups {
				m.log.Warn("forgot unfinished upload without aborting it", "job", job, "dest", u.Dest, "upload", u.UploadID)
			}
			return Cleaned{Forgotten: ups}, nil
		}
		return Cleaned{}, &kindError{kind: ErrJobState, err: fmt.Errorf("%w: job %q has %d of them and no config to abort them with",
			ErrUploadsLeft, job, len(ups))}
	}
	var done Cleaned
	dst, err := backends.Open(ctx, cfg.Dest)
	if err != nil {
		return done, fmt.Errorf("job %q: clean: destination: %w", job, err)
	}
	mp, ok := dst.(storage.Multipart)
	if !ok {
		return done, nil
	}
	for _, u := range ups {
		if err := mp.AbortUpload(ctx, storage.Upload{Key: u.Dest, ID: u.UploadID}); err != nil {
			return done, fmt.Errorf("job %q: clean: aborting the upload of %q: %w", job, u.Dest, err)
		}
		done.Aborted = append(done.Aborted, u)
		m.log.Info("aborted unfinished upload", "job", job, "dest", u.Dest)
	}
	return done, nil
}

// Retry re-queues the failed objects of the job's current pass and
// returns how many; a running pass takes them at once, a finished one is
// run again.
func (m *Manager) Retry(ctx context.Context, job string) (int, error) {
	jr, err := m.job(job)
	if err != nil {
		return 0, err
	}
	m.submitMu.Lock()
	defer m.submitMu.Unlock()
	n, err := m.st.RequeueFailed(job)
	if err != nil || n == 0 {
		return n, err
	}
	if m.cfg.Offline {
		return n, nil // the job's next run takes them
	}
	m.mu.Lock()
	coord, cfg := jr.coord, jr.cfg
	m.mu.Unlock()
	loaded := false
	if coord != nil && !coord.Closed() && !coord.Finished() {
		// A held pass whose copy is complete is run afresh instead: its
		// delete propagation must wait for the re-queued objects.
		switch err := coord.LoadPending(); {
		case err == nil:
			loaded = true
		case !errors.Is(err, errCopied):
			return n, fmt.Errorf("job %q: retry: %w", job, err)
		}
	}
	if !loaded {
		if cfg == nil {
			return n, fmt.Errorf("%w: job %q: %d objects re-queued, but there is no saved config to run them with: submit it", ErrJobState, job, n)
		}
		if _, _, err := m.run(ctx, jr, cfg, false); err != nil {
			return n, err
		}
	}
	m.log.Info("failed objects re-queued", "job", job, "objects", n)
	return n, nil
}

// SetThrottle changes the job's cluster-wide limits while it runs (zero
// is unlimited); they reach the workers with their next heartbeats and
// outlive a master restart.
func (m *Manager) SetThrottle(ctx context.Context, job string, bytesPerSecond int64, objectsPerSecond float64) error {
	jr, err := m.job(job)
	if err != nil {
		return err
	}
	if bytesPerSecond < 0 || objectsPerSecond < 0 || math.IsNaN(objectsPerSecond) || math.IsInf(objectsPerSecond, 0) {
		return fmt.Errorf("%w: job %q: throttle %d bytes/s, %v objects/s: use 0 (unlimited) or a positive rate", ErrInvalid, job, bytesPerSecond, objectsPerSecond)
	}
	l := Limits{BytesPerSecond: bytesPerSecond, ObjectsPerSecond: objectsPerSecond}
	if err := m.files.saveThrottle(job, l); err != nil {
		return err
	}
	m.mu.Lock()
	jr.override = &l
	m.mu.Unlock()
	m.log.Info("throttle set", "job", job, "bytes_per_second", bytesPerSecond, "objects_per_second", objectsPerSecond)
	return nil
}

// lockedJob looks job up and takes the admin lock, so that a job's state
// changes one admin call (or submit) at a time; the caller defers unlock.
func (m *Manager) lockedJob(job string) (*jobRun, tracker.Job, func(), error) {
	jr, err := m.job(job)
	if err != nil {
		return nil, tracker.Job{}, nil, err
	}
	m.submitMu.Lock()
	j, err := m.trackerJob(job)
	if err != nil {
		m.submitMu.Unlock()
		return nil, tracker.Job{}, nil, err
	}
	return jr, j, m.submitMu.Unlock, nil
}
