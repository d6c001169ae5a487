package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/admin/remote"
)

// monitor polls the master once a second for the job's counters and the
// process's /proc figures, kills and restarts it once, and decides when
// the run is over.
type monitor struct {
	o         options
	adm       *remote.Client
	job       string
	res       *result
	ma        masterArgs
	logPath   string
	mp        *masterProc
	submitted time.Time
	switchOps func() // latencies from now on belong to "after the restart"
	leased    *lastLease

	samples []sample
	// Figures summed over the master's lives: a killed process's CPU and
	// writes are gone from /proc with it, so its last sample counts.
	cpu, prevCPU               float64
	writeBytes, prevWriteBytes int64
	writeCalls, prevWriteCalls int64
	hwm                        float64
	lastSample                 procStats
	killed                     time.Time
}

// addLife folds the latest /proc sample of the current master into the
// totals.
func (m *monitor) addLife(ps procStats) {
	m.cpu += ps.CPUSeconds - m.prevCPU
	m.writeBytes += ps.WriteBytes - m.prevWriteBytes
	m.writeCalls += ps.WriteCalls - m.prevWriteCalls
	m.prevCPU, m.prevWriteBytes, m.prevWriteCalls = ps.CPUSeconds, ps.WriteBytes, ps.WriteCalls
	m.hwm = max(m.hwm, ps.HWMMiB)
	m.lastSample = ps
}

// newLife resets the per-process baselines after a restart.
func (m *monitor) newLife() { m.prevCPU, m.prevWriteBytes, m.prevWriteCalls = 0, 0, 0 }

func (m *monitor) watch(ctx context.Context) error {
	n := int64(m.o.objects)
	var killedAt time.Time
	lastLog := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up: %w", ctx.Err())
		case <-m.mp.done:
			return fmt.Errorf("the master exited by itself: %v (log %s)", m.mp.err, m.logPath)
		case <-tick.C:
		}
		if ps, err := readProc(m.mp.pid); err == nil {
			m.addLife(ps)
		}
		if m.res.Killed && m.res.LeasingAgainS == 0 {
			if s := m.leasingAgain(); s > 0 {
				m.res.LeasingAgainS = s
				logf("workers leasing again %.1f s after the kill", s)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := m.adm.Stat(sctx, m.job)
		cancel()
		if err != nil || len(st) == 0 {
			continue // restarting, or too busy to answer within 5 s: the next tick tells
		}
		c := st[0].Counters
		now := time.Now()
		m.samples = append(m.samples, sample{t: now, verified: c.Verified})
		if st[0].ScanFinished && m.res.ScanSeconds == 0 {
			m.res.ScanSeconds = now.Sub(m.submitted).Seconds()
			logf("scan finished: %d objects in %.1f s (load %s)", c.Scanned, m.res.ScanSeconds, loadavg())
		}
		if time.Since(lastLog) >= 10*time.Second {
			lastLog = time.Now()
			logf("verified %d/%d scanned %d, %.0f objects/s over 5 s, master CPU %.1f s RSS %.0f MiB (load %s)",
				c.Verified, n, c.Scanned, m.rate(5*time.Second, now), m.cpu, m.lastSample.RSSMiB, loadavg())
		}
		if m.res.Killed && m.res.FullSpeedAgainS == 0 && m.res.PreKillRate > 0 &&
			m.rate(5*time.Second, now) >= 0.9*m.res.PreKillRate && now.Sub(killedAt) > 5*time.Second {
			m.res.FullSpeedAgainS = now.Sub(killedAt).Seconds()
			logf("full speed again %.1f s after the kill", m.res.FullSpeedAgainS)
		}
		if m.o.killAt > 0 && m.o.workers > 0 && !m.res.Killed && c.Verified >= int64(m.o.killAt*float64(n)) {
			if err := m.restart(ctx, c.Verified); err != nil {
				return err
			}
			killedAt = time.Now()
			continue
		}
		if m.o.workers == 0 && st[0].ScanFinished {
			// Scan only: the listing and the shard appends, with no
			// worker traffic competing for the master or the disk.
			m.res.WallSeconds = now.Sub(m.submitted).Seconds()
			return nil
		}
		if c.Verified+c.Failed+c.Skipped >= n && st[0].ScanFinished {
			m.res.WallSeconds = now.Sub(m.submitted).Seconds()
			m.res.Verified, m.res.Failed, m.res.Skipped = c.Verified, c.Failed, c.Skipped
			if !m.res.Killed {
				m.res.SteadyRate = m.steady(now)
			}
			m.res.PeakRate = m.peak(5 * time.Second)
			if m.res.Killed && m.res.LeasingAgainS == 0 {
				m.res.LeasingAgainS = m.leasingAgain()
			}
			if m.res.Killed && m.res.FullSpeedAgainS == 0 {
				// The job ended before the rate came back (a short run):
				// say so with a negative figure rather than none.
				m.res.FullSpeedAgainS = -1
			}
			return nil
		}
	}
}

// restart kills the master with SIGKILL and starts it again on the same
// data dir and address, then waits (in the background of the run) for
// workers to lease from it.
func (m *monitor) restart(ctx context.Context, verified int64) error {
	now := time.Now()
	// The baseline for "full speed again" is the average since the first
	// result, not the last seconds: on a shared machine the rate swings
	// by 2x from one 10 s window to the next, and a kill that happens to
	// fall on a peak would never be caught up with.
	m.res.SteadyRate = m.steady(now)
	m.res.PreKillRate = m.res.SteadyRate
	m.res.PreKill10s = m.rate(10*time.Second, now)
	if ps, err := readProc(m.mp.pid); err == nil {
		m.addLife(ps)
	}
	logf("kill -9 the master at %d verified (%.0f objects/s on average, %.0f over the last 10 s; load %s)", verified, m.res.SteadyRate, m.res.PreKill10s, loadavg())
	m.mp.kill()
	killed := time.Now()
	m.res.Killed, m.res.KilledAt = true, verified
	m.switchOps()
	m.newLife()
	mp, err := startMaster(ctx, m.ma, m.logPath)
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	m.mp = mp
	m.killed = killed
	return nil
}

// leasingAgain is how long after the kill a worker first asked for a
// lease that the new master answered with work; 0 while none has. The
// asking time is what counts, so the figure includes the worker's wait
// in its client's retry backoff, as a real worker's would.
func (m *monitor) leasingAgain() float64 {
	if t := m.leased.get(); !m.killed.IsZero() && t.After(m.killed) {
		return t.Sub(m.killed).Seconds()
	}
	return 0
}

// rate is objects verified per second over the last window.
func (m *monitor) rate(window time.Duration, now time.Time) float64 {
	if len(m.samples) < 2 {
		return 0
	}
	last := m.samples[len(m.samples)-1]
	for i := len(m.samples) - 2; i >= 0; i-- {
		if s := m.samples[i]; now.Sub(s.t) >= window || i == 0 {
			if d := last.t.Sub(s.t).Seconds(); d > 0 {
				return float64(last.verified-s.verified) / d
			}
			return 0
		}
	}
	return 0
}

// steady is the average rate from the first sample with a verified
// object to now.
func (m *monitor) steady(now time.Time) float64 {
	for _, s := range m.samples {
		if s.verified > 0 {
			last := m.samples[len(m.samples)-1]
			if d := last.t.Sub(s.t).Seconds(); d > 0 {
				return float64(last.verified-s.verified) / d
			}
			return 0
		}
	}
	return 0
}

// peak is the best rate over any window of the run.
func (m *monitor) peak(window time.Duration) float64 {
	best := 0.0
	j := 0
	for i := range m.samples {
		for j < i && m.samples[i].t.Sub(m.samples[j+1].t) >= window {
			j++
		}
		if d := m.samples[i].t.Sub(m.samples[j].t); d >= window {
			best = max(best, float64(m.samples[i].verified-m.samples[j].verified)/d.Seconds())
		}
	}
	return best
}
