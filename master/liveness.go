package master

import (
	"sort"
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

// workerState is the registry's entry for one worker. Guarded by
// Manager.mu.
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

// touchLocked records a sign of life; an unknown worker is added as
// implicit so that it is reaped like any other if it goes silent. Called
// with m.mu held.
func (m *Manager) touchLocked(worker string, now time.Time) *workerState {
	w := m.workers[worker]
	if w == nil {
		w = &workerState{Registration: Registration{Worker: worker}, implicit: true, registered: now}
		m.workers[worker] = w
	}
	if !w.alive {
		w.alive = true
		if !w.lastSeen.IsZero() {
			m.log.Info("worker back", "worker", worker, "silent_for", now.Sub(w.lastSeen).Round(time.Second))
		}
	}
	w.lastSeen = now
	return w
}

func (m *Manager) touch(worker string, now time.Time) {
	if worker == "" {
		return // a nameless caller is nobody to keep alive
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.touchLocked(worker, now)
}

// reap declares workers silent for WorkerTimeout dead and requeues their
// leases at once, without waiting for the lease TTL. Entries of workers
// dead for ten timeouts are forgotten. Called on every worker call and by
// the background loop, so the fake clock of tests drives it too.
//
// A worker declared dead that calls again is alive again, but its leases
// are gone: its next heartbeat reports them lost.
func (m *Manager) reap(now time.Time) {
	m.mu.Lock()
	var dead []string
	for name, w := range m.workers {
		idle := now.Sub(w.lastSeen)
		switch {
		case w.alive && idle > m.cfg.WorkerTimeout:
			w.alive, w.rates = false, Rates{}
			dead = append(dead, name)
		case !w.alive && idle > 10*m.cfg.WorkerTimeout:
			delete(m.workers, name)
		}
	}
	var coords []*Coordinator
	if len(dead) > 0 {
		for _, jr := range m.sortedJobs() {
			if jr.coord != nil {
				coords = append(coords, jr.coord)
			}
		}
	}
	m.mu.Unlock()
	sort.Strings(dead)
	for _, name := range dead {
		n := 0
		for _, c := range coords {
			k, err := c.ReleaseWorker(name)
			if err != nil {
				m.log.Error("releasing a dead worker's leases", "worker", name, "err", err)
			}
			n += k
		}
		m.log.Warn("worker presumed dead: its leases are queued again", "worker", name,
			"silent_for", m.cfg.WorkerTimeout, "leases", n)
	}
}

// liveLocked is the number of live workers (at least 1, for shares).
func (m *Manager) liveLocked() int {
	n := 0
	for _, w := range m.workers {
		if w.alive {
			n++
		}
	}
	return max(1, n)
}

// clusterRatesLocked sums the live workers' recent throughput.
func (m *Manager) clusterRatesLocked() Rates {
	var r Rates
	for _, w := range m.workers {
		if w.alive {
			r.BytesPerSecond += w.rates.BytesPerSecond
			r.ObjectsPerSecond += w.rates.ObjectsPerSecond
		}
	}
	return r
}

// Workers lists the known workers, live ones and those recently dead,
// by name.
func (m *Manager) Workers() []WorkerInfo {
	m.reap(m.now())
	m.mu.Lock()
	held := map[string]int{}
	for _, jr := range m.jobs {
		if jr.coord == nil {
			continue
		}
		for _, r := range jr.coord.Snapshot().Running {
			held[r.Worker]++
		}
	}
	out := make([]WorkerInfo, 0, len(m.workers))
	for _, w := range m.workers {
		out = append(out, WorkerInfo{Worker: w.Worker, Hostname: w.Hostname, Address: w.Address, Version: w.Version,
			Concurrency: w.Concurrency, Leases: held[w.Worker], BytesPerSecond: int64(w.rates.BytesPerSecond),
			ObjectsPerSecond: w.rates.ObjectsPerSecond, Slowdowns: w.slowdowns, Registered: w.registered,
			LastSeen: w.lastSeen, Alive: w.alive})
	}
	m.mu.Unlock()
	sort.Slice(out, func(a, b int) bool { return out[a].Worker < out[b].Worker })
	return out
}
