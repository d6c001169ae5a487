package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// Agent defaults for zero fields.
const (
	DefaultConcurrency = 8
	DefaultMaxShards   = 2
	DefaultRenewEvery  = 10 * time.Second
	// Results wait at most this long (or this many) before being reported:
	// a worker killed with results unreported loses that work, so the
	// window is kept to a fraction of a second (DESIGN §3: a lost worker
	// loses little beyond what it had in flight). The tracker batches
	// each report into one transaction, with an fsync: the batch is large
	// enough that small objects at a thousand a second still cost a few
	// commits a second (at 32 the commits were 4% of a worker's CPU), and
	// the time window, not the batch, bounds what a kill loses.
	DefaultReportEvery = 250 * time.Millisecond
	DefaultReportBatch = 256
)

const (
	// Polling for work when the master has none: quick at first (a
	// scanner may be about to publish shards), then no more than every 2 s.
	pollMin = 100 * time.Millisecond
	pollMax = 2 * time.Second
	// stopTimeout bounds the best-effort reports, acks and nacks made after
	// Run was told to stop: a dead master must not hold the process.
	stopTimeout = 5 * time.Second
	// finishTries bounds the attempts to report and ack (or nack) a shard
	// when the master answers with an error that is not transient. Giving
	// up loses little: the lease expires, the shard is leased again, and
	// its reported objects are skipped as verified. Transient failures (an
	// unreachable master) are retried for as long as Run lasts, spaced up
	// to settleMax.
	finishTries = 5
	settleMax   = 10 * time.Second
)

// Agent leases shards from a master and copies their objects (or, for an
// audit grant, compares them with the destination): it is the body of a
// worker process (and of `ferry run`, with an in-process master).
type Agent struct {
	Name   string
	Master Master
	// Copier copies the objects of every shard, unless CopierFor is set.
	Copier *Copier
	// CopierFor, when set, returns the copier for a job's objects: a
	// cluster worker serves shards of many jobs, each with its own source,
	// destination and throttle. It is called once per leased shard (not
	// per object) and may block, e.g. to fetch the job's config.
	//
	// Setting it also scopes failures to jobs: a fatal copy error, or an
	// error from CopierFor, gives that shard back (Nack, with the error)
	// and the agent goes on, since one job's refused credentials say
	// nothing about another job's. Without it a fatal error ends Run, which
	// is what `ferry run` (one job, one process) wants.
	CopierFor func(ctx context.Context, job string) (*Copier, error)
	// Concurrency is how many objects are copied at once (default 8).
	Concurrency int
	// MaxShards is how many shards are held at once (default 2): one to
	// work on, one to start when the first runs dry. A shard whose results
	// cannot be reported yet keeps its place, which is what bounds memory
	// while the master is unreachable.
	MaxShards int
	// RenewEvery is the heartbeat period (default 10 s); it must be well
	// below the master's lease duration. Renew is called even when no
	// shard is held: it is also how a master learns the worker is alive.
	RenewEvery time.Duration
	// Results of a shard are reported in batches of at most ReportBatch
	// (default 256), at least every ReportEvery (default 250 ms).
	ReportEvery time.Duration
	ReportBatch int
	Log         *slog.Logger
	// Observer, if set, hears of every object started and done (metrics).
	Observer Observer
}

// Run works until the master says the job is finished (then it returns
// nil, once its shards are acked), until ctx ends (it returns ctx.Err()
// after a best-effort report of what is done), until a copy fails fatally
// without CopierFor (it nacks its shards and returns the error), or until
// the master refuses the worker outright (Lease or Renew fails with a
// storage.Fatal error, such as a refused cluster token).
//
// A master that is away is waited for: transient failures of Lease,
// Renew, Report and Ack are retried with backoff, results are kept until
// they are reported, and no new shard is leased while reports are failing.
// Whatever Run leaves unfinished is resumable: unacked shards are leased
// again when their leases expire, and multipart uploads resume from their
// saved state.
func (a *Agent) Run(ctx context.Context) error {
	if a.Master == nil || (a.Copier == nil && a.CopierFor == nil) {
		return errors.New("worker: agent needs a Master and a Copier (or CopierFor)")
	}
	cfg := *a
	cfg.setDefaults()
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &runner{
		a:        &cfg,
		log:      cfg.Log.With("worker", cfg.Name),
		ctx:      rctx,
		cancel:   cancel,
		active:   map[uint64]*shardRun{},
		changed:  make(chan struct{}, 1),
		flushNow: make(chan struct{}, 1),
		work:     make(chan item),
	}
	for range cfg.Concurrency {
		r.wg.Go(r.copyLoop)
	}
	r.wg.Go(r.renewLoop)
	r.wg.Go(r.flushLoop)
	err := r.leaseLoop()
	cancel(nil)
	r.wg.Wait()
	return r.shutdown(ctx, err)
}

func (a *Agent) setDefaults() {
	if a.Concurrency <= 0 {
		a.Concurrency = DefaultConcurrency
	}
	if a.MaxShards <= 0 {
		a.MaxShards = DefaultMaxShards
	}
	if a.RenewEvery <= 0 {
		a.RenewEvery = DefaultRenewEvery
	}
	if a.ReportEvery <= 0 {
		a.ReportEvery = DefaultReportEvery
	}
	if a.ReportBatch <= 0 {
		a.ReportBatch = DefaultReportBatch
	}
	if a.Log == nil {
		a.Log = slog.Default()
	}
}

// runner is the state of one Run.
type runner struct {
	a        *Agent
	log      *slog.Logger
	ctx      context.Context // ends when Run stops, for whatever reason
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup
	work     chan item
	flushNow chan struct{} // a batch is full: report without waiting for the tick

	mu      sync.Mutex
	active  map[uint64]*shardRun // by token
	fatal   error
	changed chan struct{} // a shard left active, reports flow again, or a fatal error
}

type item struct {
	s   *shardRun
	c   *Copier
	obj task.Object
}

// leaseLoop keeps MaxShards shards leased until the job is finished, ctx
// ends or the run fails.
func (r *runner) leaseLoop() error {
	wait := pollMin
	finished := false
	for {
		if err := r.fatalErr(); err != nil {
			return err
		}
		if r.ctx.Err() != nil {
			return context.Cause(r.ctx)
		}
		sleep := time.Duration(-1) // -1: until a shard leaves or Run stops
		free := r.a.MaxShards - r.count()
		switch {
		case finished || free <= 0:
		case r.backlogged():
			// Results wait for a master that does not take them: more
			// shards would only pile up more. Look again when reports flow
			// (signal) or after a while.
			sleep = pollMax
		default:
			// The master may hold the call up to wait for a shard, so
			// new work is taken when it is queued, not at the next poll;
			// only what is left of wait is slept after an empty answer
			// (all of it from a master that answers at once).
			asked := time.Now()
			grants, err := r.a.Master.Lease(r.ctx, r.a.Name, free, wait)
			switch {
			case errors.Is(err, ErrFinished):
				finished = true
			case err != nil && storage.Classify(err) == storage.Fatal:
				r.failRun(fmt.Errorf("lease: %w", err))
				continue
			case err != nil || len(grants) == 0:
				if err != nil && r.ctx.Err() == nil {
					r.log.Warn("lease failed; will ask again", "err", err, "in", wait)
				}
				sleep = wait - time.Since(asked)
				if err != nil {
					sleep = wait // a failed call waited for nothing
				}
				sleep, wait = max(sleep, 0), min(2*wait, pollMax)
			default:
				before := r.count()
				for _, g := range grants {
					r.start(g)
				}
				if r.count() > before {
					wait = pollMin
					continue // more may be free
				}
				sleep = wait // only shards we already hold: do not spin
			}
		}
		if finished && r.count() == 0 {
			return nil
		}
		var timer *time.Timer
		var tick <-chan time.Time
		if sleep >= 0 {
			timer = time.NewTimer(sleep)
			tick = timer.C
		}
		select {
		case <-r.ctx.Done():
		case <-r.changed:
		case <-tick:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// copyLoop is one of the Concurrency copy goroutines.
func (r *runner) copyLoop() {
	for {
		select {
		case <-r.ctx.Done():
			return
		case it := <-r.work:
			r.copyOne(it)
		}
	}
}

func (r *runner) copyOne(it item) {
	s := it.s
	do := it.c.Copy
	if s.g.Audit {
		do = it.c.Audit
	}
	if obs := r.a.Observer; obs != nil {
		obs.ObjectStarted(s.g.Job)
	}
	res, err := do(s.ctx, s.g.Job, it.obj)
	if obs := r.a.Observer; obs != nil {
		obs.ObjectDone(s.g.Job, res, err == nil)
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return // stopped, or the lease was lost: the object stays with the shard
		}
		r.fail(s, err)
		return
	}
	if res.Status == task.StatusFailed {
		r.log.Warn("object failed", "shard", s.g.ID, "key", res.Key, "class", res.Class, "reason", res.Reason, "attempts", res.Attempts)
	} else {
		r.log.Debug("object done", "shard", s.g.ID, "key", res.Key, "status", res.Status.String(), "method", string(res.Method))
	}
	// Reporting is the flush loop's business: a copy goroutine never waits
	// for the master, so an unreachable master does not stop the copies of
	// the shards already held.
	full, done := s.add(res, r.a.ReportBatch)
	switch {
	case done:
		r.wg.Go(func() { r.finish(s) })
	case full:
		r.kick()
	}
}

// fail handles a fatal copy error: with CopierFor it is that job's problem
// and the shard is given back; otherwise the run stops (shutdown nacks).
func (r *runner) fail(s *shardRun, err error) {
	if r.a.CopierFor != nil {
		r.giveBack(s, err)
		return
	}
	r.failRun(fmt.Errorf("shard %d: %w", s.g.ID, err))
}

// failRun records the error that ends the run and stops it.
func (r *runner) failRun(err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = fmt.Errorf("worker %s: %w", r.a.Name, err)
		r.log.Error("fatal error: stopping", "err", err)
	}
	r.mu.Unlock()
	r.cancel(err)
	r.signal()
}

func (r *runner) fatalErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fatal
}

// shutdown runs after every goroutine has stopped. With a short timeout
// that ignores ctx's end, it reports what is done, acks the shards whose
// every object has a result, nacks the shards given back, and after a
// fatal error nacks the others (a canceled run leaves them to expire:
// stopping is not the shard's fault, and a nack could count against its
// retries).
func (r *runner) shutdown(ctx context.Context, loopErr error) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopTimeout)
	defer cancel()
	fatal := r.fatalErr()
	for _, s := range r.shards() {
		reported := true
		if err := r.report(bctx, s); err != nil {
			r.log.Warn("final report failed", "shard", s.g.ID, "err", err)
			reported = false
		}
		state, reason := s.status()
		switch {
		case state == shardLost:
			// reported above; the lease is someone else's
		case state == shardGiven:
			r.nack(bctx, s, reason)
		case reported && s.complete():
			if err := r.a.Master.Ack(bctx, r.a.Name, s.g.Ref()); err != nil {
				r.log.Warn("final ack failed", "shard", s.g.ID, "err", err)
			}
		case fatal != nil:
			r.nack(bctx, s, fatal.Error())
		}
	}
	switch {
	case fatal != nil:
		return fatal
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return loopErr
}

func (r *runner) nack(ctx context.Context, s *shardRun, reason string) {
	if err := r.a.Master.Nack(ctx, r.a.Name, s.g.Ref(), reason); err != nil {
		r.log.Warn("nack failed", "shard", s.g.ID, "err", err)
	}
}
