package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

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
	// each report into one transaction, so this costs a few fsyncs a
	// second, not one per object.
	DefaultReportEvery = 250 * time.Millisecond
	DefaultReportBatch = 32
)

const (
	// Polling for work when the master has none: quick at first (a
	// scanner may be about to publish shards), then no more than every 2 s.
	pollMin = 100 * time.Millisecond
	pollMax = 2 * time.Second
	// stopTimeout bounds the best-effort reports, acks and nacks made after
	// Run was told to stop: a dead master must not hold the process.
	stopTimeout = 5 * time.Second
	// finishTries bounds the attempts to report and ack a completed shard.
	// Giving up loses nothing: the lease expires, the shard is leased
	// again, and its reported objects are skipped as verified.
	finishTries = 5
)

// Agent leases shards from a master and copies their objects: it is the
// body of a worker process (and of `ferry run`, with an in-process
// master).
type Agent struct {
	Name   string
	Master Master
	Copier *Copier
	// Concurrency is how many objects are copied at once (default 8).
	Concurrency int
	// MaxShards is how many shards are leased at once (default 2): one to
	// work on, one to start when the first runs dry.
	MaxShards int
	// RenewEvery is the heartbeat period (default 10 s); it must be well
	// below the master's lease duration.
	RenewEvery time.Duration
	// Results of a shard are reported in batches of ReportBatch (default
	// 100), and at least every ReportEvery (default 2 s).
	ReportEvery time.Duration
	ReportBatch int
	Log         *slog.Logger
}

// Run works until the master says the job is finished (then it returns
// nil, once its shards are acked), until ctx ends (it returns ctx.Err()
// after a best-effort report of what is done), or until a copy fails
// fatally (it nacks its shards and returns the error). Whatever it leaves
// unfinished is resumable: unacked shards are leased again when their
// leases expire, and multipart uploads resume from their saved state.
func (a *Agent) Run(ctx context.Context) error {
	if a.Master == nil || a.Copier == nil {
		return errors.New("worker: agent needs a Master and a Copier")
	}
	cfg := *a
	cfg.setDefaults()
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &runner{
		a:       &cfg,
		log:     cfg.Log.With("worker", cfg.Name),
		ctx:     rctx,
		cancel:  cancel,
		active:  map[uint64]*shardRun{},
		changed: make(chan struct{}, 1),
		work:    make(chan item),
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
	a      *Agent
	log    *slog.Logger
	ctx    context.Context // ends when Run stops, for whatever reason
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	work   chan item

	mu      sync.Mutex
	active  map[uint64]*shardRun // by token
	fatal   error
	changed chan struct{} // a shard left active, or a fatal error
}

type item struct {
	s   *shardRun
	obj task.Object
}

// leaseLoop keeps MaxShards shards leased until the job is finished, ctx
// ends or a copy fails fatally.
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
		if free := r.a.MaxShards - r.count(); !finished && free > 0 {
			grants, err := r.a.Master.Lease(r.ctx, r.a.Name, free)
			switch {
			case errors.Is(err, ErrFinished):
				finished = true
			case err != nil || len(grants) == 0:
				if err != nil && r.ctx.Err() == nil {
					r.log.Warn("lease failed; will ask again", "err", err, "in", wait)
				}
				sleep, wait = wait, min(2*wait, pollMax)
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
	res, err := r.a.Copier.Copy(s.ctx, s.g.Job, it.obj)
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
	full, done := s.add(res, r.a.ReportBatch)
	if full && !done {
		if err := r.report(r.ctx, s); err != nil && r.ctx.Err() == nil {
			r.log.Warn("report failed; will retry", "shard", s.g.ID, "err", err)
		}
	}
	if done {
		r.wg.Go(func() { r.finish(s) })
	}
}

// fail records a fatal copy error and stops the run; shutdown nacks.
func (r *runner) fail(s *shardRun, err error) {
	r.mu.Lock()
	if r.fatal == nil {
		r.fatal = fmt.Errorf("worker %s: shard %d: %w", r.a.Name, s.g.ID, err)
		r.log.Error("fatal error: stopping", "shard", s.g.ID, "err", err)
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
// every object has a result, and after a fatal error nacks the others (a
// canceled run leaves them to expire: stopping is not the shard's fault,
// and a nack could count against its retries).
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
		switch {
		case reported && s.complete():
			if err := r.a.Master.Ack(bctx, r.a.Name, s.g.Token); err != nil {
				r.log.Warn("final ack failed", "shard", s.g.ID, "err", err)
			}
		case fatal != nil:
			if err := r.a.Master.Nack(bctx, r.a.Name, s.g.Token, fatal.Error()); err != nil {
				r.log.Warn("nack failed", "shard", s.g.ID, "err", err)
			}
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
