package master

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/storage/backends"
)

// The guided cutover on a master (docs/cutover.md): package cutover
// decides, the Manager keeps the state in its data dir (the operator may
// run the commands from any machine) and runs the passes as it runs any
// submitted job, in the background. A pass's end is read from the
// tracker when the state is next asked for, so a master restarted
// mid-pass loses nothing.

// CutoverRun is a cutover's state with its pass as the master sees it.
type CutoverRun struct {
	cutover.State
	// Running: the phase's pass (FullPass or SwitchPass) has not ended.
	Running bool `json:"running,omitempty"`
}

// CutoverStart checks the job of text (name: its file name), records T1
// in a new cutover (or keeps the recorded one while its full copy has not
// ended clean) and submits the job: the full copy runs.
func (m *Manager) CutoverStart(ctx context.Context, text, name string) (CutoverRun, []string, error) {
	m.cutoverMu.Lock()
	defer m.cutoverMu.Unlock()
	job, err := cutover.ParseJob(text, name)
	if err != nil {
		return CutoverRun{}, nil, &kindError{kind: ErrInvalid, err: err}
	}
	if err := m.offline("cutover start", job.Name); err != nil {
		return CutoverRun{}, nil, err
	}
	prev, err := m.cutoverRun(job.Name)
	if errors.Is(err, cutover.ErrNotStarted) {
		err = nil
	}
	if err != nil {
		return CutoverRun{}, nil, err
	}
	var recorded *cutover.State
	if prev.Job != "" {
		if prev.Running {
			return prev, nil, fmt.Errorf("%w: job %q: the full copy (pass %d) is still running: see `ferry cutover status --master ADDR %s`",
				ErrJobState, job.Name, prev.FullPass, job.Name)
		}
		recorded = &prev.State
	}
	known := func() (bool, error) {
		_, ok, err := m.st.GetJob(job.Name)
		return ok, err
	}
	c, err := cutover.Start(recorded, job, name, m.cfg.DataDir, known, m.now())
	if err != nil {
		return cutoverRunOf(c), nil, phaseError(err)
	}
	// T1 is durable before the first object is listed.
	if err := cutover.Save(m.cfg.DataDir, c); err != nil {
		return CutoverRun{}, nil, err
	}
	return m.cutoverSubmit(ctx, c, text, name, &c.FullPass)
}

// CutoverSwitch records T2 (at; empty: the recorded one) and submits the
// pass up to T2 (cutover.SwitchConfig of the submitted config).
func (m *Manager) CutoverSwitch(ctx context.Context, job, at string) (CutoverRun, []string, error) {
	m.cutoverMu.Lock()
	defer m.cutoverMu.Unlock()
	if err := m.offline("cutover switch", job); err != nil {
		return CutoverRun{}, nil, err
	}
	r, err := m.cutoverRun(job)
	if err != nil {
		return CutoverRun{}, nil, err
	}
	if r.Running {
		return r, nil, fmt.Errorf("%w: job %q: pass %d is still running: see `ferry cutover status --master ADDR %s`",
			ErrJobState, job, max(r.FullPass, r.SwitchPass), job)
	}
	c := &r.State
	if err := c.SwitchAt(at, m.now()); err != nil {
		return r, nil, requestError(err)
	}
	text, name, err := m.files.readConfig(job)
	if err != nil {
		return r, nil, err
	}
	cfg, err := conf.Parse(strings.NewReader(text), name)
	if err != nil {
		return r, nil, fmt.Errorf("job %q: saved config no longer parses: %w", job, err)
	}
	if err := c.Switching(cfg, m.now()); err != nil {
		return r, nil, requestError(err)
	}
	if err := cutover.Save(m.cfg.DataDir, c); err != nil {
		return r, nil, err
	}
	return m.cutoverSubmit(ctx, c, cutover.SwitchConfig(text, cfg, c.T2), name, &c.SwitchPass)
}

// CutoverStatus is the job's cutover state, its phase moved on if the
// phase's pass has ended clean since it was last asked.
func (m *Manager) CutoverStatus(job string) (CutoverRun, error) {
	m.cutoverMu.Lock()
	defer m.cutoverMu.Unlock()
	return m.cutoverRun(job)
}

// CutoverReport is the cutover report, from the tracker; objects deleted
// at the source are looked up at the destination (a HEAD each; no object
// is read). While the pass up to T2 runs, it says so and counts what is
// not done yet as unaccounted.
func (m *Manager) CutoverReport(ctx context.Context, job string, limit int) (*cutover.Report, error) {
	m.cutoverMu.Lock()
	defer m.cutoverMu.Unlock()
	r, err := m.cutoverRun(job)
	if err != nil {
		return nil, err
	}
	if err := r.Reportable(); err != nil {
		return nil, phaseError(err)
	}
	cfg, err := m.files.loadConfig(job)
	if err != nil {
		return nil, err
	}
	dst, err := backends.Open(ctx, cfg.Dest)
	if err != nil {
		return nil, fmt.Errorf("cutover report of %q: destination %s: %w", job, cfg.Dest, err)
	}
	return cutover.Build(&r.State, m.st, cutover.Present(ctx, dst), limit, r.Running)
}

// cutoverSubmit submits text and records the pass it runs into *pass.
func (m *Manager) cutoverSubmit(ctx context.Context, c *cutover.State, text, name string, pass *uint64) (CutoverRun, []string, error) {
	_, notes, err := m.Submit(ctx, text, name)
	if err != nil {
		return cutoverRunOf(c), nil, err
	}
	j, _, err := m.st.GetJob(c.Job)
	if err != nil {
		return cutoverRunOf(c), notes, err
	}
	*pass, c.Updated = j.Pass, m.now()
	if err := cutover.Save(m.cfg.DataDir, c); err != nil {
		return cutoverRunOf(c), notes, err
	}
	return CutoverRun{State: *c, Running: true}, notes, nil
}

// cutoverRun loads job's cutover state and reads the end of its phase's
// pass from the tracker, saving the state when the phase moves on.
func (m *Manager) cutoverRun(job string) (CutoverRun, error) {
	c, err := cutover.Load(m.cfg.DataDir, job)
	if err != nil {
		if errors.Is(err, cutover.ErrNotStarted) {
			return CutoverRun{}, &kindError{kind: ErrUnknownJob, err: err}
		}
		return CutoverRun{}, err
	}
	pass := c.FullPass
	if c.Phase == cutover.PhaseSwitching || c.Phase == cutover.PhaseSwitched {
		pass = c.SwitchPass
	}
	if pass == 0 || c.Phase == cutover.PhaseCopied || c.Phase == cutover.PhaseSwitched {
		return cutoverRunOf(c), nil
	}
	p, ok, err := m.st.GetPass(job, pass)
	if err != nil || !ok {
		return cutoverRunOf(c), err
	}
	if p.Finished.IsZero() {
		return CutoverRun{State: *c, Running: true}, nil
	}
	if p.ScanFinished && p.Failed == 0 && p.Problem == "" {
		c.PassEnded(pass, true, m.now())
		if err := cutover.Save(m.cfg.DataDir, c); err != nil {
			return cutoverRunOf(c), err
		}
	}
	return cutoverRunOf(c), nil
}

func cutoverRunOf(c *cutover.State) CutoverRun {
	if c == nil {
		return CutoverRun{}
	}
	return CutoverRun{State: *c}
}

// phaseError makes cutover.ErrPhase a job-state error for the edge.
func phaseError(err error) error {
	if errors.Is(err, cutover.ErrPhase) {
		return &kindError{kind: ErrJobState, err: err}
	}
	return err
}

// requestError: a refusal of the operator's request is a phase error or
// an invalid request (a bad T2, a job file renamed), never the master's.
func requestError(err error) error {
	if errors.Is(err, cutover.ErrPhase) {
		return phaseError(err)
	}
	return &kindError{kind: ErrInvalid, err: err}
}
