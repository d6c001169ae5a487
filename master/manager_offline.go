package master

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/tracker"
)

// loadOffline is Start for an Offline manager: every job of the tracker
// is registered with what the data dir keeps of it (a master's saved
// config, throttle and pause), so stat, failed, retry and clean answer as
// a master would, but nothing runs.
func (m *Manager) loadOffline() error {
	jobs, err := m.st.ListJobs()
	if err != nil {
		return fmt.Errorf("master: loading jobs: %w", err)
	}
	for _, j := range jobs {
		jr := m.addJob(j.Name)
		over, hasOver, err := m.files.loadThrottle(j.Name)
		if err != nil {
			m.setProblem(jr, err.Error())
		}
		cfg, err := m.files.loadConfig(j.Name)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			m.setProblem(jr, err.Error())
		}
		m.mu.Lock()
		if hasOver {
			jr.override = &over
		}
		jr.paused, jr.pass, jr.cfg = m.files.paused(j.Name), j.Pass, cfg
		m.mu.Unlock()
	}
	return nil
}

// offline refuses what would start a pass on an Offline manager.
func (m *Manager) offline(op, job string) error {
	if !m.cfg.Offline {
		return nil
	}
	return fmt.Errorf("%w: job %q: %s runs jobs, and nothing runs them in this process: use `ferry run` or a master", ErrJobState, job, op)
}

// jobConfig is the job's config: the saved one, else the redacted copy
// in the tracker (a `ferry run` job has no saved config); nil when
// neither parses.
func jobConfig(cfg *conf.Job, j tracker.Job) *conf.Job {
	if cfg != nil || j.Config == "" {
		return cfg
	}
	c, err := conf.Parse(strings.NewReader(j.Config), j.Name+".cfg")
	if err != nil {
		return nil
	}
	return c
}
