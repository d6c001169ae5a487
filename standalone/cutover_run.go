package standalone

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// ErrCutoverPhase: the command does not fit where the cutover stands.
var ErrCutoverPhase = errors.New("cutover phase")

// CutoverStart records T1 (now) and runs the full copy; run again after
// an interruption or failures it keeps the recorded T1 and resumes.
func CutoverStart(ctx context.Context, cfgPath string, now time.Time, opt Options) (*Cutover, *Report, error) {
	text, job, err := readCutoverJob(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(cfgPath)
	if err != nil {
		return nil, nil, fmt.Errorf("job file %s: %w", cfgPath, err)
	}
	c, err := LoadCutover(opt.DataDir, job.Name)
	switch {
	case errors.Is(err, ErrNoCutover):
		if err := refuseExistingJob(opt.DataDir, job.Name); err != nil {
			return nil, nil, err
		}
		c = &Cutover{Job: job.Name, Config: abs, T1: now.Truncate(time.Second), Phase: PhaseCopying}
	case err != nil:
		return nil, nil, err
	case c.Phase != PhaseCopying:
		return c, nil, fmt.Errorf("%w: job %q: the full copy of this cutover is done (phase %s, T1 %s); next: `ferry cutover switch %s --at T2`",
			ErrCutoverPhase, job.Name, c.Phase, c.T1.Format(time.RFC3339), job.Name)
	}
	c.Config, c.Updated = abs, now
	c.Source, c.Dest, c.DestBucket = job.Src.String(), job.Dest.String(), job.Dest.Bucket
	// T1 is durable before the first object is listed: a kill -9 during
	// the copy must not move it later.
	if err := SaveCutover(opt.DataDir, c); err != nil {
		return nil, nil, err
	}
	rep, err := Run(ctx, text, cfgPath, opt)
	return c, rep, c.passEnded(opt.DataDir, rep, err, &c.FullPass, PhaseCopied)
}

// CutoverSwitch records T2 (t2At, or the recorded one when empty) and
// runs the pass up to T2 (SwitchConfig); run again, it runs the pass
// again with the same T2 until nothing fails.
func CutoverSwitch(ctx context.Context, jobName, t2At string, now time.Time, opt Options) (*Cutover, *Report, error) {
	c, err := LoadCutover(opt.DataDir, jobName)
	if err != nil {
		return nil, nil, err
	}
	switch c.Phase {
	case PhaseCopying:
		return c, nil, fmt.Errorf("%w: job %q: the full copy has not ended clean yet: run `ferry cutover start %s` (again) first",
			ErrCutoverPhase, jobName, c.Config)
	case PhaseCopied:
		if t2At == "" {
			return c, nil, fmt.Errorf("job %q: give T2, the time writes were switched to the destination: `ferry cutover switch %s --at T2`", jobName, jobName)
		}
	}
	if t2At != "" {
		t2, err := ParseT2(t2At, c.T1, now)
		if err != nil {
			return c, nil, err
		}
		if !c.T2.IsZero() && !t2.Equal(c.T2) {
			return c, nil, fmt.Errorf("%w: job %q: T2 is already recorded as %s; leave out --at to run the pass up to it again",
				ErrCutoverPhase, jobName, c.T2.Format(time.RFC3339))
		}
		c.T2 = t2
	}
	text, job, err := readCutoverJob(c.Config)
	if err != nil {
		return c, nil, err
	}
	if job.Name != c.Job {
		return c, nil, fmt.Errorf("job file %s now names job %q, the cutover is of %q: restore jobName=%s", c.Config, job.Name, c.Job, c.Job)
	}
	c.Phase, c.Updated = PhaseSwitching, now
	if err := SaveCutover(opt.DataDir, c); err != nil {
		return c, nil, err
	}
	rep, err := Run(ctx, SwitchConfig(text, job, c.T2), c.Config, opt)
	return c, rep, c.passEnded(opt.DataDir, rep, err, &c.SwitchPass, PhaseSwitched)
}

// CutoverFinish builds the cutover report from the tracker (read only);
// limit bounds each list (0 = everything). Objects the manifest shows
// deleted at the source are looked up at the destination (one HEAD each),
// so only those still there are listed.
func CutoverFinish(ctx context.Context, jobName string, opt Options, limit int) (*CutoverReport, error) {
	opt = withDefaults(opt)
	c, err := LoadCutover(opt.DataDir, jobName)
	if err != nil {
		return nil, err
	}
	if c.SwitchPass == 0 {
		return nil, fmt.Errorf("%w: job %q (phase %s): no pass up to T2 has run: `ferry cutover switch %s --at T2` first",
			ErrCutoverPhase, jobName, c.Phase, jobName)
	}
	_, job, err := readCutoverJob(c.Config)
	if err != nil {
		return nil, err
	}
	dst, err := backends.Open(ctx, job.Dest)
	if err != nil {
		return nil, fmt.Errorf("cutover report of %q: destination %s: %w", jobName, job.Dest, err)
	}
	st, err := tracker.Open(opt.DataDir, tracker.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	b := newReportBuilder(c, limit)
	b.present = func(key string) (bool, error) {
		_, err := dst.Stat(ctx, key)
		if errors.Is(err, storage.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	if err := st.Manifest(jobName, task.StatusUnknown, "", b.add); err != nil {
		return nil, fmt.Errorf("cutover report of %q: %w", jobName, err)
	}
	p, found, err := st.GetPass(jobName, c.SwitchPass)
	if err != nil {
		return nil, fmt.Errorf("cutover report of %q: %w", jobName, err)
	}
	return b.finish(p, found), nil
}

// passEnded records the pass a phase ran (into *pass) and moves to next
// when it ended clean; it returns runErr, else the error of saving.
func (c *Cutover) passEnded(dataDir string, rep *Report, runErr error, pass *uint64, next Phase) error {
	if rep != nil {
		*pass = rep.Pass
	}
	if runErr == nil && clean(rep) {
		c.Phase = next
	}
	c.Updated = time.Now()
	if err := SaveCutover(dataDir, c); runErr == nil {
		return err
	}
	return runErr
}

func clean(r *Report) bool {
	return r != nil && r.Counters.Failed == 0 && r.Problem == "" && r.State == "finished"
}

func readCutoverJob(path string) (string, *conf.Job, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("job file: %w", err)
	}
	text := string(b)
	job, err := conf.Parse(strings.NewReader(text), path)
	if err != nil {
		return "", nil, err
	}
	if err := CutoverCheck(job); err != nil {
		return "", nil, err
	}
	return text, job, nil
}

// refuseExistingJob: a cutover starts with a job the data dir does not
// know yet, so its passes are the cutover's and T1 is when the first one
// started.
func refuseExistingJob(dataDir, name string) error {
	if _, err := os.Stat(filepath.Join(dataDir, tracker.DBFile)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	st, err := tracker.Open(dataDir, tracker.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, ok, err := st.GetJob(name); err != nil || !ok {
		return err
	}
	return fmt.Errorf("%w: job %q already has passes in %s: a cutover starts from a new job (T1 = when its full copy starts); "+
		"choose another jobName, or `ferry clean %s` first", ErrCutoverPhase, name, dataDir, name)
}
