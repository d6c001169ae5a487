// Package standalone runs a job in one process: the master's scanner and
// coordinator and a worker agent joined in-process through the same
// interfaces the distributed mode uses over gRPC. `ferry run` is a thin
// command-line layer over Run.
package standalone

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// Options tune a run; zero values are sensible defaults.
type Options struct {
	DataDir       string        // default ./ferry-data
	Workers       int           // objects copied at once (default 16)
	LeaseTTL      time.Duration // default 2 minutes
	Log           *slog.Logger
	Progress      func(Status) // called every ProgressEvery and once at the end
	ProgressEvery time.Duration
}

// Run runs (or resumes) the job's current pass to its end and reports. A
// failure of individual objects is not an error: the Report says what
// failed. An error means the pass could not run to its end (bad config,
// fatal storage error, interruption); everything done so far is kept and
// the same call resumes it.
func Run(ctx context.Context, job *conf.Job, opt Options) (*Report, error) {
	opt = withDefaults(opt)
	st, err := tracker.Open(opt.DataDir, tracker.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	src, dst, err := openBackends(ctx, job, st, opt)
	if err != nil {
		return nil, err
	}
	pass, resumed, err := beginPass(st, job)
	if err != nil {
		return nil, err
	}
	r := &run{job: job, opt: opt, st: st, src: src.b, dst: dst, pass: pass, started: time.Now()}
	src.setPass(job.Name, pass.N)
	if resumed {
		opt.Log.Info("resuming pass", "job", job.Name, "pass", pass.N, "scan_finished", pass.ScanFinished)
	} else {
		opt.Log.Info("starting pass", "job", job.Name, "pass", pass.N)
	}
	if job.Type == conf.JobAudit {
		return r.audit(ctx)
	}
	return r.copy(ctx)
}

type run struct {
	job      *conf.Job
	opt      Options
	st       *tracker.Store
	src, dst storage.Backend
	pass     tracker.Pass
	started  time.Time
	scanner  *master.Scanner
	coord    *master.Coordinator
	sent     atomic.Int64
}

func (r *run) copy(ctx context.Context) (*Report, error) {
	coord, err := master.NewCoordinator(master.CoordinatorConfig{
		Job: r.job.Name, Pass: r.pass.N, LeaseTTL: r.opt.LeaseTTL, ShardRetries: r.job.ShardRetries, Log: r.opt.Log,
	}, r.st)
	if err != nil {
		return nil, err
	}
	r.coord = coord
	filter, err := master.NewFilter(r.job.ImportSince, r.job.Include, r.job.Exclude)
	if err != nil {
		return nil, err
	}
	r.scanner = master.NewScanner(master.ScanConfig{
		Job: r.job.Name, Pass: r.pass.N, Src: r.src, SrcPrefix: r.job.Src.Prefix, DestPrefix: r.job.Dest.Prefix,
		Filter: filter, ShardObjects: r.job.ShardObjects, ShardBytes: r.job.ShardBytes, Threads: r.job.ScanThreads,
	}, r.st, coord.AddShards, r.opt.Log)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if !r.pass.ScanFinished {
		go func() {
			err := r.scanner.Run(ctx)
			if err == nil {
				err = coord.ScanFinished()
			}
			if err != nil && ctx.Err() == nil {
				cancel(fmt.Errorf("scan: %w", err))
			}
		}()
	}
	// The copier opens its own source and destination, as a cluster
	// worker's does: this process plays master and worker.
	copier, err := jobcopier.New(ctx, r.job, worker.Options{
		Throttle: worker.NewThrottle(r.job.BytesPerSecond, r.job.ObjectsPerSecond),
		Uploads:  coord,
		Progress: func(d int64) { r.sent.Add(d) },
	})
	if err != nil {
		return nil, err
	}
	agent := &worker.Agent{Name: "local", Master: coord, Copier: copier, Concurrency: r.opt.Workers, Log: r.opt.Log}
	stopProgress := r.progressLoop(ctx)
	err = agent.Run(ctx)
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause // the scanner's error explains why the agent stopped
	}
	stopProgress()
	if err != nil {
		return r.report(), err
	}
	return r.report(), nil
}

// progressLoop reports Status until the returned stop is called, which
// also sends the final one.
func (r *run) progressLoop(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(r.opt.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.emit()
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		r.emit()
	}
}

func (r *run) emit() {
	s := r.status()
	writeStatusFile(r.opt.DataDir, s)
	if r.opt.Progress != nil {
		r.opt.Progress(s)
	}
}

func withDefaults(o Options) Options {
	if o.DataDir == "" {
		o.DataDir = "ferry-data"
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// beginPass resumes the job's unfinished pass or starts a new one. A job
// name already used for a different source or destination is refused:
// its manifest describes other objects.
func beginPass(st *tracker.Store, job *conf.Job) (tracker.Pass, bool, error) {
	j, ok, err := st.GetJob(job.Name)
	if err != nil {
		return tracker.Pass{}, false, err
	}
	srcDesc, dstDesc := job.Src.String(), job.Dest.String()
	if ok && (j.Source != srcDesc || j.Dest != dstDesc) {
		return tracker.Pass{}, false, fmt.Errorf("job %q already exists for %s -> %s; this config says %s -> %s: "+
			"choose another jobName, or `ferry clean %s` to forget the old job", job.Name, j.Source, j.Dest, srcDesc, dstDesc, job.Name)
	}
	if !ok {
		j = tracker.Job{Name: job.Name, Source: srcDesc, Dest: dstDesc, Created: time.Now()}
	}
	j.Config = job.Redacted()
	j.State = tracker.JobRunning
	if err := st.PutJob(j); err != nil {
		return tracker.Pass{}, false, err
	}
	if j.Pass > 0 {
		p, ok, err := st.GetPass(job.Name, j.Pass)
		if err != nil {
			return tracker.Pass{}, false, err
		}
		if ok && p.Finished.IsZero() {
			return p, true, nil
		}
	}
	p, err := st.StartPass(job.Name, time.Now())
	return p, false, err
}

// skipRecorder receives what a local source lists but cannot copy
// (symlinks, special files, unreadable directories) and records it in the
// manifest: skipped with the reason, or failed when data is unreachable.
type skipRecorder struct {
	st   *tracker.Store
	job  atomic.Value // string
	pass atomic.Uint64
	log  *slog.Logger
}

func (s *skipRecorder) setPass(job string, n uint64) { s.job.Store(job); s.pass.Store(n) }

func (s *skipRecorder) onSkip(key string, reason error) {
	job, _ := s.job.Load().(string)
	if job == "" {
		return
	}
	r := task.Result{Key: key, Status: task.StatusSkipped, Reason: reason.Error()}
	if errors.Is(reason, storage.ErrAccessDenied) || errors.Is(reason, storage.ErrNotFound) || storage.Classify(reason) != storage.Permanent {
		r.Status, r.Class = task.StatusFailed, storage.Classify(reason).String()
	}
	s.log.Warn("source entry not copied", "key", key, "reason", reason)
	if err := s.st.Report(job, s.pass.Load(), []task.Result{r}); err != nil {
		s.log.Error("recording skipped source entry", "key", key, "err", err)
	}
}

type source struct {
	b storage.Backend
	*skipRecorder
}

// openBackends opens and checks both sides before any state changes, so a
// typo in a bucket name costs nothing. A local destination directory is
// created (backends.OpenDest).
func openBackends(ctx context.Context, job *conf.Job, st *tracker.Store, opt Options) (source, storage.Backend, error) {
	rec := &skipRecorder{st: st, log: opt.Log}
	srcSpec := job.Src
	srcSpec.OnSkip = rec.onSkip
	src, err := backends.Open(ctx, srcSpec)
	if err != nil {
		return source{}, nil, fmt.Errorf("source: %w", err)
	}
	dst, err := backends.OpenDest(ctx, job.Dest)
	if err != nil {
		return source{}, nil, fmt.Errorf("destination: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for _, side := range []struct {
		name string
		b    storage.Backend
	}{{"source", src}, {"destination", dst}} {
		if c, ok := side.b.(storage.Checker); ok {
			if err := c.Check(cctx); err != nil {
				return source{}, nil, fmt.Errorf("%s check failed (%s): %w", side.name, storage.Classify(err), err)
			}
		}
	}
	return source{b: src, skipRecorder: rec}, dst, nil
}
