package cutover

import (
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/conf"
)

// ErrPhase: the command does not fit where the cutover stands.
var ErrPhase = errors.New("cutover phase")

// Start is the state `cutover start` records before the full copy runs:
// prev, the recorded state (nil: none), while its full copy has not ended
// clean, else a new cutover with T1 = now. known says whether the tracker
// already has passes of the job (asked only for a new cutover): a cutover
// starts from a new job, so its passes are the cutover's and T1 is when
// the first one started. config names the job file (an absolute path).
func Start(prev *State, job *conf.Job, config, dataDir string, known func() (bool, error), now time.Time) (*State, error) {
	c := prev
	switch {
	case c == nil:
		ok, err := known()
		if err != nil {
			return nil, err
		}
		if ok {
			return nil, fmt.Errorf("%w: job %q already has passes in %s: a cutover starts from a new job (T1 = when its full copy starts); "+
				"choose another jobName, or `ferry clean %s` first", ErrPhase, job.Name, dataDir, job.Name)
		}
		c = &State{Job: job.Name, Config: config, T1: now.Truncate(time.Second), Phase: PhaseCopying}
	case c.Phase != PhaseCopying:
		return c, fmt.Errorf("%w: job %q: the full copy of this cutover is done (phase %s, T1 %s); next: `ferry cutover switch %s --at T2`",
			ErrPhase, job.Name, c.Phase, c.T1.Format(time.RFC3339), job.Name)
	}
	c.Config, c.Updated = config, now
	c.Source, c.Dest, c.DestBucket = job.Src.String(), job.Dest.String(), job.Dest.Bucket
	return c, nil
}

// SwitchAt records T2 for `cutover switch`: t2At (Unix seconds or RFC
// 3339), required the first time; empty runs the pass up to the recorded
// T2 again. The full copy must have ended clean, and a recorded T2 is
// never moved.
func (c *State) SwitchAt(t2At string, now time.Time) error {
	switch c.Phase {
	case PhaseCopying:
		return fmt.Errorf("%w: job %q: the full copy has not ended clean yet: run `ferry cutover start %s` (again) first",
			ErrPhase, c.Job, c.Config)
	case PhaseCopied:
		if t2At == "" {
			return fmt.Errorf("job %q: give T2, the time writes were switched to the destination: `ferry cutover switch %s --at T2`", c.Job, c.Job)
		}
	}
	if t2At == "" {
		return nil
	}
	t2, err := ParseT2(t2At, c.T1, now)
	if err != nil {
		return err
	}
	if !c.T2.IsZero() && !t2.Equal(c.T2) {
		return fmt.Errorf("%w: job %q: T2 is already recorded as %s; leave out --at to run the pass up to it again",
			ErrPhase, c.Job, c.T2.Format(time.RFC3339))
	}
	c.T2 = t2
	return nil
}

// Switching moves to the pass up to T2 of job, read again from the job
// file, which must still name the cutover's job.
func (c *State) Switching(job *conf.Job, now time.Time) error {
	if job.Name != c.Job {
		return fmt.Errorf("job file %s now names job %q, the cutover is of %q: restore jobName=%s", c.Config, job.Name, c.Job, c.Job)
	}
	c.Phase, c.Updated = PhaseSwitching, now
	return nil
}

// PassEnded records the pass the current phase ran (0: none started) and
// moves on when it ended clean (nothing failed, finished).
func (c *State) PassEnded(pass uint64, clean bool, now time.Time) {
	last, next := &c.FullPass, PhaseCopied
	if c.Phase == PhaseSwitching || c.Phase == PhaseSwitched {
		last, next = &c.SwitchPass, PhaseSwitched
	}
	if pass != 0 {
		*last = pass
	}
	if clean {
		c.Phase = next
	}
	c.Updated = now
}

// Reportable: the report needs a pass up to T2.
func (c *State) Reportable() error {
	if c.SwitchPass == 0 {
		return fmt.Errorf("%w: job %q (phase %s): no pass up to T2 has run: `ferry cutover switch %s --at T2` first",
			ErrPhase, c.Job, c.Phase, c.Job)
	}
	return nil
}
