// Package standalone is the wiring of `ferry run`: the master's own job
// code (master.Manager: scanner, broker, coordinator, passes, audit) and a
// worker agent in one process, joined by master.Link, the in-process
// transport. What is specific to `ferry run` lives here and nowhere else:
// that wiring, progress, and the report at the end of a pass.
package standalone

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
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
	Progress      func(Status) // called every ProgressEvery and once at the end of a pass
	ProgressEvery time.Duration
	// Repeat keeps running an incremental job's passes as they fall due
	// until ctx ends; EachPass hears of each. Without it Run returns after
	// one pass.
	Repeat   bool
	EachPass func(*Report)
	// Observer, if set, hears of the in-process worker's objects, bytes,
	// retries and SlowDowns (metrics).
	Observer worker.Observer
	// Submitted, if set, is called once the job is submitted to the
	// in-process master, with that master: metrics read its stat, and the
	// run is ready from then on.
	Submitted func(*master.Manager)
}

// Run submits the job (cfgText, read from the file cfgName) to an
// in-process master and runs (or resumes) its current pass to its end.
// A failure of individual objects is not an error: the Report says what
// failed. An error means the pass could not run to its end (bad config,
// fatal storage error, interruption); everything done so far is kept and
// the same call resumes it. With Repeat, Run returns nil when ctx ends
// between passes.
func Run(ctx context.Context, cfgText, cfgName string, opt Options) (*Report, error) {
	opt = withDefaults(opt)
	job, err := conf.Parse(strings.NewReader(cfgText), cfgName)
	if err != nil {
		return nil, err
	}
	st, err := tracker.Open(opt.DataDir, tracker.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ev := newEvents()
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: opt.DataDir, LeaseTTL: opt.LeaseTTL,
		Log: opt.Log, InProcess: true, OnPass: ev.add})
	if err != nil {
		return nil, err
	}
	mctx, stopMaster := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMaster()
	if err := m.Start(mctx); err != nil {
		return nil, err
	}
	defer m.Close()
	if _, notes, err := m.Submit(ctx, cfgText, cfgName); err != nil {
		return nil, err
	} else {
		opt.Log.Info("job submitted", "job", job.Name, "notes", notes)
	}
	if opt.Submitted != nil {
		opt.Submitted(m)
	}
	r := &run{job: job, opt: opt, m: m, started: time.Now()}
	agentDone := make(chan error, 1)
	// The agent copies, or for an audit job compares: either way the
	// object bytes are read by the worker side, never by the master's.
	actx, cancel := context.WithCancel(ctx)
	agent, err := r.agent(actx)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() { agentDone <- agent.Run(actx) }()
	stopAgent := sync.OnceFunc(func() { cancel(); <-agentDone })
	defer func() { stopAgent() }()
	stopProgress := r.progressLoop()
	defer func() { stopProgress() }()

	var last *Report
	for {
		select {
		case <-ev.ready:
			for _, e := range ev.take() {
				if e.job != job.Name {
					continue
				}
				if e.err != nil {
					stopAgent()
					stopProgress()
					return r.report(), e.err
				}
				stopProgress()
				last = r.report()
				if opt.EachPass != nil {
					opt.EachPass(last)
				}
				if !opt.Repeat {
					return last, nil
				}
				stopProgress = r.progressLoop()
			}
		case err := <-agentDone:
			agentDone <- err // for stopAgent
			if err == nil {
				err = errors.New("the worker agent stopped")
			}
			stopProgress()
			return r.report(), err
		case <-ctx.Done():
			stopAgent()
			stopProgress()
			rep := r.report()
			if opt.Repeat && rep.State == "finished" {
				return rep, nil // between passes: nothing is interrupted
			}
			return rep, ctx.Err()
		}
	}
}

type run struct {
	job     *conf.Job
	opt     Options
	m       *master.Manager
	link    *master.Link
	started time.Time
}

// agent builds the in-process worker: the job's copier fed by the link
// (uploads, throttle share, stats), as a cluster worker's is by its
// client.
func (r *run) agent(ctx context.Context) (*worker.Agent, error) {
	link, err := r.m.NewLink(ctx, localWorker, r.opt.Workers)
	if err != nil {
		return nil, err
	}
	r.link = link
	th := worker.NewThrottle(0, 0)
	if err := link.OnThrottle(ctx, r.job.Name, th.SetLimits); err != nil {
		return nil, err
	}
	// Credential refreshes and a credentials command's stderr go to the
	// run's log (warnings and errors only, by default).
	job := *r.job
	job.Src.Log, job.Dest.Log = r.opt.Log, r.opt.Log
	// The master probed the destination when the job was submitted: its
	// answer spares the copier a second probe.
	var createOnly *bool
	if enforced, known := r.m.CreateOnlyEnforced(r.job.Name); known {
		createOnly = &enforced
	}
	copier, err := jobcopier.New(ctx, &job, worker.Hooks(worker.Options{Throttle: th, Uploads: link,
		Progress: link.AddBytes, OnThrottled: link.AddSlowdown}, r.job.Name, r.opt.Observer), createOnly)
	if err != nil {
		return nil, err
	}
	return &worker.Agent{Name: localWorker, Master: link, Copier: copier, Concurrency: r.opt.Workers,
		RenewEvery: r.m.HeartbeatEvery(), Log: r.opt.Log, Observer: r.opt.Observer}, nil
}

// progressLoop reports Status until the returned stop is called, which
// also sends the final one; stop may be called more than once.
func (r *run) progressLoop() (stop func()) {
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
	return sync.OnceFunc(func() {
		close(done)
		<-finished
		r.emit()
	})
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
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 2 * time.Minute
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// events collects the manager's pass events without ever blocking it.
type events struct {
	mu    sync.Mutex
	list  []passEvent
	ready chan struct{}
}

type passEvent struct {
	job  string
	pass uint64
	err  error
}

func newEvents() *events { return &events{ready: make(chan struct{}, 1)} }

func (e *events) add(job string, pass uint64, err error) {
	e.mu.Lock()
	e.list = append(e.list, passEvent{job, pass, err})
	e.mu.Unlock()
	select {
	case e.ready <- struct{}{}:
	default:
	}
}

func (e *events) take() []passEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	l := e.list
	e.list = nil
	return l
}

// localWorker is the in-process worker's name, as stat shows it.
const localWorker = "local"
