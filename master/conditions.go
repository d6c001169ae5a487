package master

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
)

// probeTimeout bounds the probe of a destination's conditional writes
// (about 20 small requests).
const probeTimeout = 2 * time.Minute

// probeWrites finds out, once per job, which conditional writes the
// destination enforces (storage.ProbeConditions, DESIGN §10), logs it, and
// keeps for stat and the run report the sentence naming the race window
// that remains: where the store enforces nothing, an object the application
// writes between a worker's check and its write is overwritten. Only jobs
// whose overwrite policy refuses some replacement need it; a policy of
// always promises nothing to protect, and an audit writes nothing.
//
// A probe that cannot tell (the store failed it) is a warning, never a
// reason not to run: the window is then reported as unknown.
func (m *Manager) probeWrites(ctx context.Context, jr *jobRun, cfg *conf.Job, dst storage.Backend) {
	if !cfg.WritesConditionally() {
		return
	}
	m.mu.Lock()
	done := jr.writeRaceProbed
	m.mu.Unlock()
	if done {
		return
	}
	log := m.log.With("job", cfg.Name)
	got, ok, residual := probeResidual(ctx, dst, cfg.DestStaticPrefix(), log)
	m.mu.Lock()
	jr.writeRace, jr.writeRaceProbed = residual, true
	jr.writes, jr.writesKnown = got, ok
	m.mu.Unlock()
}

// probeResidual probes dst with a scratch key under prefix (random, so
// nobody else writes it) and returns what it found (ok false when it could
// not tell) and Conditions.Residual, or a sentence saying the window is
// unknown.
func probeResidual(ctx context.Context, dst storage.Backend, prefix string, log *slog.Logger) (got storage.Conditions, ok bool, residual string) {
	key := storage.ProbeKey(prefix)
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	got, err := storage.ProbeConditions(ctx, dst, key)
	if err != nil {
		s := fmt.Sprintf("unknown: probing the destination's conditional writes failed (%v); any write may clobber an object written between ferry's check and it", err)
		log.Warn("destination's conditional writes could not be probed", "err", err)
		return storage.Conditions{}, false, s
	}
	if r := got.Residual(); r != "" {
		log.Warn("race window: "+r, "missing", got.Missing())
		return got, true, r
	}
	log.Info("destination enforces conditional writes: no object written between ferry's check and its write is clobbered")
	return got, true, ""
}

// CreateOnlyEnforced is the master's answer, for its workers' copiers
// (worker/jobcopier), to whether the job's destination refuses a
// create-only write over an existing object: the master probed it when the
// job started, and N workers probing it again would cost the store N times
// 20 requests for the same answer. A job that writes nothing create-only
// needs no probe: the answer is no. known is false when the master has no
// answer (the job is not running here, or its probe could not tell): the
// copier then probes for itself.
func (m *Manager) CreateOnlyEnforced(job string) (enforced, known bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	jr := m.jobs[job]
	switch {
	case jr == nil || jr.cfg == nil:
		return false, false
	case !jr.cfg.WritesConditionally():
		return false, true
	}
	return jr.writes.PutIfAbsent, jr.writesKnown
}

// writeRace is the window probeWrites found for the job cfg describes, ""
// when its policy or type needs no probe: what beginPass records with the
// pass, for stat after the run.
func (m *Manager) writeRace(cfg *conf.Job) string {
	if !cfg.WritesConditionally() {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if jr := m.jobs[cfg.Name]; jr != nil {
		return jr.writeRace
	}
	return ""
}
