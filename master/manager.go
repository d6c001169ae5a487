package master

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/tracker"
)

// Errors of the Manager that its callers answer differently (the gRPC edge
// maps them to status codes). Each is wrapped with the job or worker named.
var (
	ErrUnknownJob = errors.New("no such job")
	// ErrInvalid: a bad request (a config that does not parse, a negative
	// rate); the message says what to fix.
	ErrInvalid = errors.New("invalid request")
	// ErrJobExists: the job name is taken by a job with another source or
	// destination.
	ErrJobExists = errors.New("job name already in use")
	// ErrJobState: not possible in the job's current state (clean a running
	// job, submit a job that is already running, ...).
	ErrJobState = errors.New("not possible in the job's state")
	// ErrCheck: the source or destination failed its check at submit; the
	// storage error is wrapped too (storage.Classify works on it).
	ErrCheck = errors.New("storage check failed")
)

// kindError is an error of a kind (one of the sentinels above) whose
// message is the cause's alone: a config error reads "job.cfg:7: ..." and
// errors.Is still finds ErrInvalid.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// ManagerConfig configures a Manager; zero values get defaults.
type ManagerConfig struct {
	Store   JobStore
	DataDir string // holds jobs/<job>.cfg etc. (see jobfiles.go)
	// LeaseTTL is how long a lease lasts without renewal (default 30s).
	LeaseTTL time.Duration
	// Heartbeat is how often workers are asked to heartbeat (default 5s);
	// it is also the SlowDown backoff's window.
	Heartbeat time.Duration
	// WorkerTimeout: a worker silent this long is dead and its leases go
	// back to the queue at once (default 3 × Heartbeat).
	WorkerTimeout time.Duration
	Now           func() time.Time
	Log           *slog.Logger
	// TokenBase starts the lease token counter shared by every job
	// (default: the current time in ns), so tokens differ across restarts
	// and a worker's token from before a restart is never honoured.
	TokenBase uint64
	// InProcess: the manager serves the jobs of one process, `ferry run`,
	// whose worker is in-process. Start brings back no job from the
	// tracker (the process submits its own, whatever else the data dir
	// holds), and a submitted config, which may carry credentials, stays in
	// memory: nothing but the redacted copy in the tracker is written.
	InProcess bool
	// Offline: the manager answers admin calls on a data dir no process
	// runs (`ferry stat`, `failed`, `retry`, `clean` without --master, the
	// tracker's lock proving it): Start registers the tracker's jobs but
	// runs, resumes and schedules nothing, and nothing starts a pass.
	Offline bool
	// OnPass, when set, hears of every pass that finishes (err nil) and of
	// every error that stops a pass until the manager retries it (a scan or
	// an audit that failed). `ferry run` reports and exits on them.
	OnPass func(job string, pass uint64, err error)
}

// Manager runs many jobs in one master process over one tracker: a
// coordinator (and scanner) per running job's pass, joined to the worker
// Registry, the job files and the pass Scheduler. It is plain Go; master/server puts
// gRPC in front of it. Safe for concurrent use.
type Manager struct {
	cfg    ManagerConfig
	st     JobStore
	log    *slog.Logger
	tokens atomic.Uint64
	id     string

	// submitMu serializes the operations that create or tear down a job's
	// runtime (submit, resume, cancel, clean, retry, a new incremental
	// pass), so their check-then-act on the tracker cannot interleave.
	submitMu sync.Mutex
	// cutoverMu serializes the cutover calls: each loads the state, decides
	// and saves it (master/cutover.go).
	cutoverMu sync.Mutex

	// The parts that own one thing each, with their own locking: the
	// workers, the files kept per job, when passes are due.
	reg    *Registry
	files  jobFiles
	sched  *Scheduler
	extras extras
	wake   wakeups // Lease calls waiting for shards (LeaseWait)

	mu   sync.Mutex // guards the fields below and every jobRun's fields
	jobs map[string]*jobRun
	rr   int // round-robin start for Lease

	ctx    context.Context // Start's: the lifetime of scanners and passes
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewManager makes a manager; Start brings back the jobs in the tracker.
func NewManager(cfg ManagerConfig) (*Manager, error) {
	if cfg.Store == nil {
		return nil, errors.New("master: manager needs a tracker store")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("master: manager needs a data dir")
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.WorkerTimeout <= 0 {
		cfg.WorkerTimeout = 3 * cfg.Heartbeat
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenBase == 0 {
		cfg.TokenBase = uint64(time.Now().UnixNano())
	}
	m := &Manager{cfg: cfg, st: cfg.Store, log: cfg.Log, id: strconv.FormatUint(cfg.TokenBase, 36),
		jobs: map[string]*jobRun{}, reg: NewRegistry(cfg.WorkerTimeout, cfg.Heartbeat, cfg.Log), files: newJobFiles(cfg.DataDir), sched: NewScheduler(), extras: extras{st: cfg.Store, log: cfg.Log}}
	m.tokens.Store(cfg.TokenBase)
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// ID changes whenever the master restarts (workers may log it).
func (m *Manager) ID() string { return m.id }

// HeartbeatEvery and LeaseTTL are what workers are told at Register.
func (m *Manager) HeartbeatEvery() time.Duration { return m.cfg.Heartbeat }
func (m *Manager) LeaseTTL() time.Duration       { return m.cfg.LeaseTTL }

func (m *Manager) now() time.Time { return m.cfg.Now() }

func (m *Manager) nextToken() uint64 { return m.tokens.Add(1) }

// Start loads every job of the tracker and resumes those whose state is
// running: backends re-opened from the saved config, the scanner restarted
// for a pass whose scan is unfinished, and every shard not done is queued
// again (leases are not persisted: what was in flight is re-granted, and
// objects verified meanwhile are left out of the grants). Incremental
// jobs get their next pass scheduled. Background work (dead-worker
// reaping, scheduling) runs until ctx ends or Close.
func (m *Manager) Start(ctx context.Context) error {
	if m.cfg.Offline {
		return m.loadOffline()
	}
	m.mu.Lock()
	prev := m.cancel
	m.ctx, m.cancel = context.WithCancel(ctx)
	context.AfterFunc(m.ctx, prev) // anything started before Start ends with it
	m.mu.Unlock()
	var jobs []tracker.Job
	if !m.cfg.InProcess {
		var err error
		if jobs, err = m.st.ListJobs(); err != nil {
			return fmt.Errorf("master: loading jobs: %w", err)
		}
	}
	for _, j := range jobs {
		jr := m.addJob(j.Name)
		if err := m.restore(jr, j); err != nil {
			// One broken job must not keep the master (and every other job)
			// down: it is reported in stat and the log.
			m.log.Error("job not resumed", "job", j.Name, "err", err)
			m.setProblem(jr, err.Error())
		}
	}
	m.wg.Add(1)
	go m.background()
	return nil
}

// Close stops every scanner and pass goroutine and waits for them. The
// tracker holds all state; a new Manager on the same store and data dir
// resumes it.
func (m *Manager) Close() {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	cancel()
	m.wg.Wait()
}

// lifetime is the context the goroutines of passes run under.
func (m *Manager) lifetime() context.Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ctx
}

// background reaps dead workers and starts scheduled passes, on a real
// ticker but at the configured clock's time.
func (m *Manager) background() {
	defer m.wg.Done()
	every := min(time.Second, max(10*time.Millisecond, m.cfg.Heartbeat/2))
	t := time.NewTicker(every)
	defer t.Stop()
	ctx := m.lifetime()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			now := m.now()
			m.reap(now)
			m.startDue(now)
		}
	}
}

// addJob returns the job's runtime record, creating it.
func (m *Manager) addJob(name string) *jobRun {
	m.mu.Lock()
	defer m.mu.Unlock()
	jr := m.jobs[name]
	if jr == nil {
		jr = &jobRun{name: name}
		m.jobs[name] = jr
	}
	return jr
}

// job looks a job up; unknown names wrap ErrUnknownJob.
func (m *Manager) job(name string) (*jobRun, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if jr := m.jobs[name]; jr != nil {
		return jr, nil
	}
	return nil, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
}

// sortedJobs returns the runtimes in name order. Called with m.mu held.
func (m *Manager) sortedJobs() []*jobRun {
	out := make([]*jobRun, 0, len(m.jobs))
	for _, jr := range m.jobs {
		out = append(out, jr)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// passEvent tells OnPass.
func (m *Manager) passEvent(job string, pass uint64, err error) {
	if m.cfg.OnPass != nil {
		m.cfg.OnPass(job, pass, err)
	}
}

func (m *Manager) setProblem(jr *jobRun, p string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	jr.problem = p
}

// trackerJob reads the job's tracker record; a job the tracker lacks wraps
// ErrUnknownJob.
func (m *Manager) trackerJob(name string) (tracker.Job, error) {
	j, ok, err := m.st.GetJob(name)
	if err != nil {
		return tracker.Job{}, fmt.Errorf("job %q: %w", name, err)
	}
	if !ok {
		return tracker.Job{}, fmt.Errorf("job %q: %w", name, ErrUnknownJob)
	}
	return j, nil
}
