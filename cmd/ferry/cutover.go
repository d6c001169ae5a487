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

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/master"
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

Every subcommand takes --data-dir and --json. With --master ADDR (or FERRY_MASTER) the cutover
runs on a master: its state is kept there, start and switch submit the passes and return, status
shows the phase and whether its pass still runs, finish says "still running" until the pass ends.
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
	rf      remoteFlags
}

func newCutoverFlags(e *env, sub, args string) cutoverFlags {
	fs, dir := flags(e, "cutover "+sub, args)
	return cutoverFlags{fs: fs, dataDir: dir,
		asJSON: fs.Bool("json", false, "print JSON instead of text"),
		rf:     addRemoteFlags(fs, e)}
}

func cutoverStart(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "start", "JOB.cfg")
	workers := f.fs.Int("workers", 16, "objects copied at once")
	logFormat := addLogFormat(f.fs)
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.rf.set() {
		return cutoverStartOnMaster(ctx, e, f)
	}
	opts, err := cutoverOptions(e, *f.dataDir, *workers, *logFormat)
	if err != nil {
		return fail(e, err)
	}
	c, rep, err := standalone.CutoverStart(ctx, f.fs.Arg(0), time.Now(), opts)
	return cutoverPassEnd(e, f, c, rep, err, func(w io.Writer) { printSwitchSteps(w, c, "") })
}

func cutoverSwitch(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "switch", "JOB")
	at := f.fs.String("at", "", "T2: when writes were switched to the destination (Unix seconds or RFC 3339); "+
		"required the first time, then recorded")
	workers := f.fs.Int("workers", 16, "objects copied at once")
	logFormat := addLogFormat(f.fs)
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if f.rf.set() {
		return cutoverSwitchOnMaster(ctx, e, f, *at)
	}
	opts, err := cutoverOptions(e, *f.dataDir, *workers, *logFormat)
	if err != nil {
		return fail(e, err)
	}
	c, rep, err := standalone.CutoverSwitch(ctx, f.fs.Arg(0), *at, time.Now(), opts)
	return cutoverPassEnd(e, f, c, rep, err, func(w io.Writer) {
		fmt.Fprintf(w, "NEXT: ferry cutover finish %s (the cutover report)\n", c.Job)
	})
}

func cutoverOptions(e *env, dataDir string, workers int, logFormat string) (standalone.Options, error) {
	log, err := newLogger(e.stderr, logFormat, slog.LevelWarn)
	if err != nil {
		return standalone.Options{}, err
	}
	return standalone.Options{DataDir: dataDir, Workers: max(1, min(workers, 4096)), Log: log}, nil
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
	if *limit < 0 {
		return fail(e, fmt.Errorf("--limit %d: give 0 (all) or a positive number", *limit))
	}
	var r *cutover.Report
	err := withClient(e, f.rf, *f.dataDir, func(c admin.Client) (err error) {
		r, err = c.CutoverReport(ctx, f.fs.Arg(0), *limit)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if *f.asJSON {
		if code := printJSON(e, r); code != exitOK {
			return code
		}
	} else {
		printCutoverReport(e.stdout, r)
	}
	if !r.OK {
		return exitFailures
	}
	return exitOK
}

func cutoverStatus(ctx context.Context, e *env, args []string) int {
	f := newCutoverFlags(e, "status", "JOB")
	if err := parse(f.fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	var c master.CutoverRun
	err := withClient(e, f.rf, *f.dataDir, func(cl admin.Client) (err error) {
		c, err = cl.CutoverStatus(ctx, f.fs.Arg(0))
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if *f.asJSON {
		return printJSON(e, c)
	}
	fmt.Fprintf(e.stdout, "Cutover of job %s: phase %s\n  T1 %s (full copy, pass %d)\n", c.Job, c.Phase, c.T1.Format(time.RFC3339), c.FullPass)
	if !c.T2.IsZero() {
		fmt.Fprintf(e.stdout, "  T2 %s (pass up to T2: %d)\n", c.T2.Format(time.RFC3339), c.SwitchPass)
	}
	if c.Phase == cutover.PhaseCopied && !c.Running {
		// The full copy ended while nobody watched (on a master, start
		// returns at once): the switch steps are shown here.
		printSwitchSteps(e.stdout, &c.State, f.rf.masterArg())
	}
	fmt.Fprintf(e.stdout, "  job file %s\nNEXT: %s\n", c.Config, nextStep(c, f.rf.masterArg()))
	return exitOK
}

// nextStep is the command that comes next; on is " --master ADDR" when
// the cutover runs on a master, else "".
func nextStep(c master.CutoverRun, on string) string {
	switch {
	case c.Running:
		pass := c.FullPass
		if c.Phase == cutover.PhaseSwitching {
			pass = c.SwitchPass
		}
		return fmt.Sprintf("wait: pass %d still runs on the master; ferry cutover status%s %s", pass, on, c.Job)
	case c.Phase == cutover.PhaseCopying:
		return fmt.Sprintf("ferry cutover start%s %s (resumes the full copy; T1 stays)", on, c.Config)
	case c.Phase == cutover.PhaseCopied:
		return fmt.Sprintf("enable back-to-origin, switch writes, note T2; then ferry cutover switch%s %s --at T2", on, c.Job)
	case c.Phase == cutover.PhaseSwitching:
		return fmt.Sprintf("ferry cutover switch%s %s (runs the pass up to T2 again)", on, c.Job)
	default:
		return fmt.Sprintf("ferry cutover finish%s %s", on, c.Job)
	}
}
