package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/master"
)

// The cutover's --master forms: the master keeps the state and runs the
// passes in the background, so start and switch return once the pass is
// submitted; status and finish follow it.

func cutoverStartOnMaster(ctx context.Context, e *env, f cutoverFlags) int {
	text, name, job, err := readForMaster(f.rf, f.fs.Arg(0))
	if err == nil {
		// Refused here too: before the config leaves this machine.
		err = cutover.Check(job)
	}
	if err != nil {
		return fail(e, err)
	}
	return cutoverSubmitted(ctx, e, f, func(c admin.Client) (master.CutoverRun, []string, error) {
		return c.CutoverStart(ctx, text, name)
	})
}

func cutoverSwitchOnMaster(ctx context.Context, e *env, f cutoverFlags, at string) int {
	return cutoverSubmitted(ctx, e, f, func(c admin.Client) (master.CutoverRun, []string, error) {
		return c.CutoverSwitch(ctx, f.fs.Arg(0), at)
	})
}

// cutoverSubmitted makes the call that submits a pass and says how to
// follow it.
func cutoverSubmitted(ctx context.Context, e *env, f cutoverFlags, call func(admin.Client) (master.CutoverRun, []string, error)) int {
	var (
		r     master.CutoverRun
		notes []string
	)
	err := withClient(e, f.rf, *f.dataDir, func(c admin.Client) (err error) {
		r, notes, err = call(c)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if *f.asJSON {
		return printJSON(e, map[string]any{"cutover": r, "notes": notes})
	}
	for _, n := range notes {
		fmt.Fprintln(e.stderr, "note:", n)
	}
	fmt.Fprintf(e.stdout, "Cutover of job %s on master %s: phase %s, T1 %s", r.Job, *f.rf.master, r.Phase, r.T1.Format(time.RFC3339))
	if !r.T2.IsZero() {
		fmt.Fprintf(e.stdout, ", T2 %s", r.T2.Format(time.RFC3339))
	}
	fmt.Fprintf(e.stdout, "\nNEXT: %s\n", nextStep(r, f.rf.masterArg()))
	return exitOK
}
