package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/standalone"
)

// The guided cutover on a local data dir: the state file and the report
// are package standalone's; the passes run in `ferry cutover`'s own
// process, not through a Client.

func (l *Local) CutoverStart(ctx context.Context, text, name string) (master.CutoverRun, []string, error) {
	return master.CutoverRun{}, nil, fmt.Errorf("cutover start: %w: without --master, `ferry cutover start %s` runs the full copy in its own process", ErrNeedsMaster, name)
}

func (l *Local) CutoverSwitch(ctx context.Context, job, at string) (master.CutoverRun, []string, error) {
	return master.CutoverRun{}, nil, fmt.Errorf("cutover switch %q: %w: without --master, `ferry cutover switch %s` runs the pass in its own process", job, ErrNeedsMaster, job)
}

// CutoverStatus: locally a pass runs only inside the command that started
// it, so none is Running here.
func (l *Local) CutoverStatus(ctx context.Context, job string) (master.CutoverRun, error) {
	c, err := cutover.Load(l.DataDir, job)
	if err != nil {
		return master.CutoverRun{}, unknownCutover(err)
	}
	return master.CutoverRun{State: *c}, nil
}

func (l *Local) CutoverReport(ctx context.Context, job string, limit int) (*cutover.Report, error) {
	r, err := standalone.CutoverFinish(ctx, job, standalone.Options{DataDir: l.DataDir}, limit)
	return r, unknownCutover(err)
}

// unknownCutover: no cutover of the job is an unknown job, as from a
// master.
func unknownCutover(err error) error {
	if errors.Is(err, cutover.ErrNotStarted) {
		return fmt.Errorf("%w (%w)", err, master.ErrUnknownJob)
	}
	return err
}
