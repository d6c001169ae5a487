package master

import (
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Registration is what a worker says about itself when it (re)connects.
type Registration struct {
	Worker      string // unique name; required
	Hostname    string
	Address     string // as the master sees it (set by the gRPC edge)
	Version     string
	Concurrency int
}

// WorkerStats is what a worker measured since its previous heartbeat.
type WorkerStats struct {
	BytesSent, ObjectsDone int64
	Slowdowns              int64 // 503 SlowDown / 429 answers met
	Interval               time.Duration
}

// WorkerInfo is one worker as the operator sees it.
type WorkerInfo struct {
	Worker, Hostname, Address, Version string
	Concurrency                        int
	Leases                             int // shards it holds now, over all jobs
	BytesPerSecond                     int64
	ObjectsPerSecond                   float64
	Slowdowns                          int64 // 503 SlowDown answers it met, in total
	Registered, LastSeen               time.Time
	Alive                              bool
}

// JobThrottle is one worker's share of a job's cluster-wide limits; zero
// is unlimited.
type JobThrottle struct {
	Job              string
	BytesPerSecond   int64
	ObjectsPerSecond float64
	// KeysGeneration is the job's keys generation: a worker holding
	// another fetches the job's config again (SetCredentials).
	KeysGeneration uint64
}

// JobLimits names a job's configured cluster-wide limits.
type JobLimits struct {
	Job    string
	Limits Limits
}

// Registry owns what the master knows of its workers: who is alive (any
// call is a sign of life; silence for the timeout is death), what each
// measured, which jobs each works on, and from those the SlowDown backoff
// and every worker's share of each job's throttle. It knows nothing of
// leases: the Manager releases a dead worker's leases when Reap names it.
// Time is always passed in, so tests drive it with a fake clock. Safe for
// concurrent use; its lock is never held while calling out.
type Registry struct {
	timeout time.Duration // silence after which a worker is dead
	window  time.Duration // the heartbeat interval: the backoff's window
	log     *slog.Logger

	mu      sync.Mutex
	workers map[string]*workerState
	// active: job -> worker -> when the worker last held one of the job's
	// leases (granted or renewed); a job's throttle is shared among the
	// recent ones.
	active  map[string]map[string]time.Time
	backoff Backoff
	// lastReap: when Reap last walked the workers. Reap is called on
	// every worker call; walking 1,000 workers on each of hundreds of
	// leases a second was 4% of a busy master's CPU (docs/benchmarks.md,
	// Scale), for a verdict that cannot change faster than the timeout.
	lastReap time.Time
	// live and rates are the number of live workers and the sum of their
	// rates, kept as workers come, beat and die: a walk of every worker
	// on each heartbeat was O(workers^2) a heartbeat interval. Reap's walk
	// sets them afresh, so float rounding cannot build up.
	live  int
	rates Rates
}

// reapEvery is the fraction of the timeout between two walks of Reap: a
// silent worker is declared dead at most timeout/reapEvery late.
const reapEvery = 16

type workerState struct {
	Registration
	// implicit: known only from a lease or report, never registered (the
	// master restarted under it); its heartbeats ask it to register.
	implicit   bool
	registered time.Time
	lastSeen   time.Time // any call
	lastBeat   time.Time // last heartbeat
	alive      bool
	rates      Rates // over its last heartbeat interval
	slowdowns  int64 // total reported
}

// NewRegistry makes an empty registry.
func NewRegistry(timeout, heartbeat time.Duration, log *slog.Logger) *Registry {
	return &Registry{timeout: timeout, window: heartbeat, log: log,
		workers: map[string]*workerState{}, active: map[string]map[string]time.Time{}, backoff: Backoff{Factor: 1}}
}

// Register records a worker's registration and returns how many workers
// are alive.
func (r *Registry) Register(reg Registration, now time.Time) (live int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.touchLocked(reg.Worker, now)
	w.Registration, w.implicit, w.registered = reg, false, now
	return r.liveLocked()
}

// Touch records a sign of life; an unknown worker is added as implicit, so
// that it is reaped like any other if it goes silent. A nameless caller is
// nobody to keep alive.
func (r *Registry) Touch(worker string, now time.Time) {
	if worker == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.touchLocked(worker, now)
}

func (r *Registry) touchLocked(worker string, now time.Time) *workerState {
	w := r.workers[worker]
	if w == nil {
		w = &workerState{Registration: Registration{Worker: worker}, implicit: true, registered: now}
		r.workers[worker] = w
	}
	if !w.alive {
		w.alive = true
		r.live++ // a dead worker's rates are zero: nothing to add
		if !w.lastSeen.IsZero() {
			r.log.Info("worker back", "worker", worker, "silent_for", now.Sub(w.lastSeen).Round(time.Second))
		}
	}
	w.lastSeen = now
	return w
}

// Beat records a heartbeat's measurements and feeds the SlowDown backoff.
// registered is false for a worker the master does not know (it
// restarted) or knows only implicitly: it should register again.
func (r *Registry) Beat(worker string, stats WorkerStats, now time.Time) (registered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w := r.workers[worker]
	if w != nil {
		registered = !w.implicit
		r.touchLocked(worker, now)
		interval := stats.Interval
		if interval <= 0 && !w.lastBeat.IsZero() {
			interval = now.Sub(w.lastBeat)
		}
		if interval > 0 {
			r.rates.BytesPerSecond -= w.rates.BytesPerSecond
			r.rates.ObjectsPerSecond -= w.rates.ObjectsPerSecond
			w.rates = Rates{BytesPerSecond: float64(stats.BytesSent) / interval.Seconds(),
				ObjectsPerSecond: float64(stats.ObjectsDone) / interval.Seconds()}
			r.rates.BytesPerSecond += w.rates.BytesPerSecond
			r.rates.ObjectsPerSecond += w.rates.ObjectsPerSecond
		}
		w.lastBeat = now
		w.slowdowns += stats.Slowdowns
	}
	before := r.backoff.Current()
	r.backoff.Observe(now, stats.Slowdowns, r.clusterRatesLocked(), r.window)
	if after := r.backoff.Current(); after != before {
		r.log.Info("SlowDown backoff", "factor", after, "was", before, "worker", worker, "slowdowns", stats.Slowdowns)
	}
	return registered
}

// Reap declares workers silent for the timeout dead and returns them in
// name order; the caller releases their leases at once, without waiting
// for the lease TTL. Entries of workers dead for ten timeouts are
// forgotten. A worker declared dead that calls again is alive again.
// Calls closer together than timeout/reapEvery return nil: a death is
// noticed that much late at most.
func (r *Registry) Reap(now time.Time) (dead []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if since := now.Sub(r.lastReap); since >= 0 && since < r.timeout/reapEvery {
		return nil
	}
	r.lastReap = now
	r.live, r.rates = 0, Rates{}
	for name, w := range r.workers {
		idle := now.Sub(w.lastSeen)
		switch {
		case w.alive && idle > r.timeout:
			w.alive, w.rates = false, Rates{}
			dead = append(dead, name)
		case !w.alive && idle > 10*r.timeout:
			delete(r.workers, name)
		}
		if w.alive {
			r.live++
			r.rates.BytesPerSecond += w.rates.BytesPerSecond
			r.rates.ObjectsPerSecond += w.rates.ObjectsPerSecond
		}
	}
	sort.Strings(dead)
	return dead
}

// Holding records that worker held a lease of job at now.
func (r *Registry) Holding(job, worker string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.active[job]
	if a == nil {
		a = map[string]time.Time{}
		r.active[job] = a
	}
	a[worker] = now
}

// ForgetJob drops who worked on job (its pass ended or was replaced).
func (r *Registry) ForgetJob(job string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.active, job)
}

// Effective returns l under the current SlowDown backoff, and the factor.
func (r *Registry) Effective(l Limits) (Limits, float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.backoff.Current()
	return Effective(l, f, r.backoff.Base), f
}

// Shares returns worker's share of each job's limits (see WorkerShare),
// zero entries included so that a lifted limit reaches the workers too.
func (r *Registry) Shares(worker string, now time.Time, jobs []JobLimits) []JobThrottle {
	r.mu.Lock()
	defer r.mu.Unlock()
	live, factor, base := r.liveLocked(), r.backoff.Current(), r.backoff.Base
	out := make([]JobThrottle, 0, len(jobs))
	for _, j := range jobs {
		active, isActive := 0, false
		for w, t := range r.active[j.Job] {
			if ws := r.workers[w]; ws != nil && ws.alive && now.Sub(t) <= r.timeout {
				active++
				isActive = isActive || w == worker
			}
		}
		s := WorkerShare(Effective(j.Limits, factor, base), live, active, isActive)
		out = append(out, JobThrottle{Job: j.Job, BytesPerSecond: s.BytesPerSecond, ObjectsPerSecond: s.ObjectsPerSecond})
	}
	return out
}

// Workers lists the known workers by name, live ones and those recently
// dead; held counts the leases each holds.
func (r *Registry) Workers(held map[string]int) []WorkerInfo {
	r.mu.Lock()
	out := make([]WorkerInfo, 0, len(r.workers))
	for _, w := range r.workers {
		out = append(out, WorkerInfo{Worker: w.Worker, Hostname: w.Hostname, Address: w.Address, Version: w.Version,
			Concurrency: w.Concurrency, Leases: held[w.Worker], BytesPerSecond: int64(w.rates.BytesPerSecond),
			ObjectsPerSecond: w.rates.ObjectsPerSecond, Slowdowns: w.slowdowns, Registered: w.registered,
			LastSeen: w.lastSeen, Alive: w.alive})
	}
	r.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Worker < out[b].Worker })
	return out
}

// liveLocked is the number of live workers (at least 1, for shares).
func (r *Registry) liveLocked() int { return max(1, r.live) }

// clusterRatesLocked sums the live workers' recent throughput. Rounding
// in the running sum may leave a hair below zero where there is nothing.
func (r *Registry) clusterRatesLocked() Rates {
	return Rates{BytesPerSecond: max(0, r.rates.BytesPerSecond), ObjectsPerSecond: max(0, r.rates.ObjectsPerSecond)}
}
