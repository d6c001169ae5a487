package standalone

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/tracker"
)

// The guided cutover in one process: package cutover decides, these run
// its passes with Run on the local data dir and keep its state there.

// CutoverStart records T1 (now) and runs the full copy; run again after
// an interruption or failures it keeps the recorded T1 and resumes.
func CutoverStart(ctx context.Context, cfgPath string, now time.Time, opt Options) (*cutover.State, *Report, error) {
	text, job, err := cutover.ReadJob(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	abs, err := filepath.Abs(cfgPath)
	if err != nil {
		return nil, nil, fmt.Errorf("job file %s: %w", cfgPath, err)
	}
	prev, err := cutover.Load(opt.DataDir, job.Name)
	if err != nil && !errors.Is(err, cutover.ErrNotStarted) {
		return nil, nil, err
	}
	c, err := cutover.Start(prev, job, abs, opt.DataDir, func() (bool, error) { return jobKnown(opt.DataDir, job.Name) }, now)
	if err != nil {
		return c, nil, err
	}
	// T1 is durable before the first object is listed: a kill -9 during
	// the copy must not move it later.
	if err := cutover.Save(opt.DataDir, c); err != nil {
		return nil, nil, err
	}
	rep, err := Run(ctx, text, cfgPath, opt)
	return c, rep, passEnded(opt.DataDir, c, rep, err)
}

// CutoverSwitch records T2 (t2At, or the recorded one when empty) and
// runs the pass up to T2 (cutover.SwitchConfig); run again, it runs the
// pass again with the same T2 until nothing fails.
func CutoverSwitch(ctx context.Context, jobName, t2At string, now time.Time, opt Options) (*cutover.State, *Report, error) {
	c, err := cutover.Load(opt.DataDir, jobName)
	if err != nil {
		return nil, nil, err
	}
	if err := c.SwitchAt(t2At, now); err != nil {
		return c, nil, err
	}
	text, job, err := cutover.ReadJob(c.Config)
	if err != nil {
		return c, nil, err
	}
	if err := c.Switching(job, now); err != nil {
		return c, nil, err
	}
	if err := cutover.Save(opt.DataDir, c); err != nil {
		return c, nil, err
	}
	rep, err := Run(ctx, cutover.SwitchConfig(text, job, c.T2), c.Config, opt)
	return c, rep, passEnded(opt.DataDir, c, rep, err)
}

// CutoverFinish builds the cutover report from the tracker (read only);
// limit bounds each list (0 = everything). Objects the manifest shows
// deleted at the source are looked up at the destination (one HEAD each),
// so only those still there are listed.
func CutoverFinish(ctx context.Context, jobName string, opt Options, limit int) (*cutover.Report, error) {
	opt = withDefaults(opt)
	c, err := cutover.Load(opt.DataDir, jobName)
	if err != nil {
		return nil, err
	}
	if err := c.Reportable(); err != nil {
		return nil, err
	}
	_, job, err := cutover.ReadJob(c.Config)
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
	return cutover.Build(c, st, cutover.Present(ctx, dst), limit, false)
}

// passEnded records the pass a phase ran and saves c; it returns runErr,
// else the error of saving.
func passEnded(dataDir string, c *cutover.State, rep *Report, runErr error) error {
	var pass uint64
	if rep != nil {
		pass = rep.Pass
	}
	c.PassEnded(pass, runErr == nil && clean(rep), time.Now())
	if err := cutover.Save(dataDir, c); runErr == nil {
		return err
	}
	return runErr
}

func clean(r *Report) bool {
	return r != nil && r.Counters.Failed == 0 && r.Problem == "" && r.State == "finished"
}

// jobKnown says whether the data dir's tracker has the job already.
func jobKnown(dataDir, name string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dataDir, tracker.DBFile)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	st, err := tracker.Open(dataDir, tracker.Options{ReadOnly: true})
	if err != nil {
		return false, err
	}
	defer st.Close()
	_, ok, err := st.GetJob(name)
	return ok, err
}
