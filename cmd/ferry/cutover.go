package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/standalone"
)

// cutoverUsage is `ferry cutover -h`: the four steps of DESIGN §10 as
// commands, so an operator mid-migration sees the whole sequence.
const cutoverUsage = `usage: ferry cutover start JOB.cfg      record T1, run the full copy, print the switch steps
       ferry cutover switch JOB --at T2  record T2, copy what changed in [T1, T2) (never clobbering)
       ferry cutover finish JOB          the cutover report; exit 1 if anything failed or is unaccounted for
       ferry cutover status JOB          where the cutover stands (T1, T2, phase, passes)

A guided cutover after back-to-origin (docs/cutover.md):
  1. ferry cutover start JOB.cfg: T1 is recorded (durably, before anything is copied) and the
     full copy runs; run it again after an interruption or failures: T1 stays.
  2. You enable mirroring back-to-origin on the destination bucket with the source as origin,
     switch the application's writes to the destination, and note that time: T2.
  3. ferry cutover switch JOB --at T2: copies the objects changed at the source before T2 with
     overwritePolicy=if-source-newer (never, if the job says so): what the application wrote at
     the destination is kept, what is already there is not rewritten. Run it again (without
     --at) until nothing fails.
  4. ferry cutover finish JOB: every source object accounted for as copied, identical, kept
     (listed) or failed (listed), and objects deleted at the source since T1 that are still at
     the destination (listed, never deleted).

Every subcommand takes --data-dir and --json. Standalone only: --master is refused.
Run ` + "`ferry cutover SUBCOMMAND -h`" + ` for its flags.
`

func cmdCutover(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, cutoverUsage)
		return exitError
	}
	if isHelpFlag(args[0]) {
		fmt.Fprint(e.stderr, cutoverUsage)
		return exitOK
	}
	sub := map[string]func(context.Context, *env, []string) int{
		"start": cutoverStart, "switch": cutoverSwitch, "finish": cutoverFinish, "status": cutoverStatus,
	}[args[0]]
	if sub == nil {
		fmt.Fprintf(e.stderr, "ferry cutover: unknown subcommand %q: use start, switch, finish or status\n\n%s", args[0], cutoverUsage)
		return exitError
	}
	return sub(ctx, e, args[1:])
}

// cutoverFlags are the flags every cutover subcommand shares.
type cutoverFlags struct {
	fs      *flag.FlagSet
	dataDir *string
	asJSON  *bool
	master  *string
}

func newCutoverFlags(e *env, sub, args string) cutoverFlags {
	fs, dir := flags(e, "cutover "+sub, args)
	return cutoverFlags{fs: fs, dataDir: dir,
		asJSON: fs.Bool("json", false, "print JSON instead of text"),
		master: fs.String("master", "", "not supported yet: a cutover runs standalone, on --data-dir")}
}

// refuseMaster: the cluster form is not built; saying so beats silently
// running on a local data dir the operator did not mean.
func (f cutoverFlags) refuseMaster(e *env) bool {
	if *f.master == "" {
		return false
	}
	fmt.Fprintf(e.stderr, "ferry %s: --master %s: the guided cutover runs standalone only (one process, --data-dir); "+
		"in a cluster, run the passes with `ferry submit` (importUntil=T2, overwritePolicy=if-source-newer) as docs/cutover.md describes\n", f.fs.Name(), *f.master)
	return true
}

func cutoverStart(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "start", "JOB.cfg")
	workers := f.fs.Int("workers", 16, "objects copied at once")
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.refuseMaster(e) {
		return exitError
	}
	c, rep, err := standalone.CutoverStart(ctx, f.fs.Arg(0), time.Now(), cutoverOptions(e, *f.dataDir, *workers))
	return cutoverPassEnd(e, f, c, rep, err, func(w io.Writer) { printSwitchSteps(w, c) })
}

func cutoverSwitch(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "switch", "JOB")
	at := f.fs.String("at", "", "T2: when writes were switched to the destination (Unix seconds or RFC 3339); "+
		"required the first time, then recorded")
	workers := f.fs.Int("workers", 16, "objects copied at once")
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.refuseMaster(e) {
		return exitError
	}
	c, rep, err := standalone.CutoverSwitch(ctx, f.fs.Arg(0), *at, time.Now(), cutoverOptions(e, *f.dataDir, *workers))
	return cutoverPassEnd(e, f, c, rep, err, func(w io.Writer) {
		fmt.Fprintf(w, "NEXT: ferry cutover finish %s (the cutover report)\n", c.Job)
	})
}

func cutoverOptions(e *env, dataDir string, workers int) standalone.Options {
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return standalone.Options{DataDir: dataDir, Workers: max(1, min(workers, 4096)), Log: log}
}

// cutoverPassEnd prints a cutover pass's report and what comes next.
func cutoverPassEnd(e *env, f cutoverFlags, c *cutover.State, rep *standalone.Report, err error, next func(io.Writer)) int {
	if *f.asJSON {
		out := map[string]any{"cutover": c, "pass": rep}
		if err != nil {
			out["error"] = err.Error()
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else if rep != nil && !errors.Is(err, context.Canceled) {
		printReport(e, rep, false)
	}
	if err != nil {
		return fail(e, err)
	}
	if rep.Counters.Failed > 0 || rep.Problem != "" {
		fmt.Fprintf(e.stderr, "ferry: the pass ended with failures; cutover phase %s: run the same command again (`ferry failed %s` lists them)\n", c.Phase, c.Job)
		return exitFailures
	}
	if !*f.asJSON {
		next(e.stdout)
	}
	return exitOK
}

func cutoverFinish(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "finish", "JOB")
	limit := f.fs.Int("limit", 1000, "list at most `N` objects of each kind (0: all); the counts are always complete")
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.refuseMaster(e) {
		return exitError
	}
	if *limit < 0 {
		return fail(e, fmt.Errorf("--limit %d: give 0 (all) or a positive number", *limit))
	}
	r, err := standalone.CutoverFinish(ctx, f.fs.Arg(0), standalone.Options{DataDir: *f.dataDir}, *limit)
	if err != nil {
		return fail(e, err)
	}
	if *f.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
	} else {
		printCutoverReport(e.stdout, r)
	}
	if !r.OK {
		return exitFailures
	}
	return exitOK
}

func cutoverStatus(_ context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "status", "JOB")
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.refuseMaster(e) {
		return exitError
	}
	c, err := cutover.Load(*f.dataDir, f.fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	if *f.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(c)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "Cutover of job %s: phase %s\n  T1 %s (full copy, pass %d)\n", c.Job, c.Phase, c.T1.Format(time.RFC3339), c.FullPass)
	if !c.T2.IsZero() {
		fmt.Fprintf(e.stdout, "  T2 %s (pass up to T2: %d)\n", c.T2.Format(time.RFC3339), c.SwitchPass)
	}
	fmt.Fprintf(e.stdout, "  job file %s\nNEXT: %s\n", c.Config, nextStep(c))
	return exitOK
}

func nextStep(c *cutover.State) string {
	switch c.Phase {
	case cutover.PhaseCopying:
		return fmt.Sprintf("ferry cutover start %s (resumes the full copy; T1 stays)", c.Config)
	case cutover.PhaseCopied:
		return fmt.Sprintf("enable back-to-origin, switch writes, note T2; then ferry cutover switch %s --at T2", c.Job)
	case cutover.PhaseSwitching:
		return fmt.Sprintf("ferry cutover switch %s (runs the pass up to T2 again)", c.Job)
	default:
		return fmt.Sprintf("ferry cutover finish %s", c.Job)
	}
}
