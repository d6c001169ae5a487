package master

import "time"

// reap asks the registry for workers gone silent and requeues their leases
// at once, without waiting for the lease TTL. Called on every worker call
// and by the background loop, so the fake clock of tests drives it too.
//
// A worker declared dead that calls again is alive again, but its leases
// are gone: its next heartbeat reports them lost.
func (m *Manager) reap(now time.Time) {
	dead := m.reg.Reap(now)
	if len(dead) == 0 {
		return
	}
	m.mu.Lock()
	var coords []*Coordinator
	for _, jr := range m.sortedJobs() {
		if jr.coord != nil {
			coords = append(coords, jr.coord)
		}
	}
	m.mu.Unlock()
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

// Workers lists the known workers, live ones and those recently dead,
// by name, with the leases each holds.
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
	m.mu.Unlock()
	return m.reg.Workers(held)
}
