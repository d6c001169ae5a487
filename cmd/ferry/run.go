package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/standalone"
	"github.com/ferry-migrate/ferry/task"
)

func cmdRun(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "run", "JOB.cfg")
	workers := fs.Int("workers", 16, "objects copied at once")
	progress := fs.String("progress", "auto", "progress display: auto (bar on a terminal, log lines otherwise), bar, log, none")
	asJSON := fs.Bool("json", false, "print the final report as JSON")
	once := fs.Bool("once", false, "with isIncremental=true or a schedule: run one pass and exit instead of repeating")
	logFormat := addLogFormat(fs)
	httpListen := addHTTPListen(fs)
	dashFlags := addDashboardFlags(fs)
	cert := fs.String("tls-cert", "", "with --dashboard-listen: the dashboard's TLS certificate (PEM)")
	key := fs.String("tls-key", "", "with --dashboard-listen: the dashboard's TLS key (PEM)")
	tokenFile := fs.String("token-file", e.getenv("FERRY_TOKEN_FILE"), "with --dashboard-listen: file holding the token that logs in to the dashboard (env FERRY_TOKEN_FILE; else $FERRY_TOKEN)")
	insecure := fs.Bool("insecure", false, "with --dashboard-listen: serve the dashboard over plain HTTP (a try-out on localhost only)")
	cpuProfile := fs.String("cpuprofile", "", "write a Go CPU profile of the run to `FILE` (read it with go tool pprof; for performance reports)")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	log, err := newLogger(e.stderr, *logFormat, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return fail(e, err)
		}
		defer stop()
	}
	if *workers < 1 || *workers > 4096 {
		return fail(e, fmt.Errorf("--workers %d: give a number from 1 to 4096", *workers))
	}
	text, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	job, err := conf.Parse(bytes.NewReader(text), fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	for _, n := range job.Notes {
		fmt.Fprintln(e.stderr, "note:", n)
	}
	show, err := progressPrinter(e, *progress)
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stderr, "ferry: job %q (%s): %s -> %s\n", job.Name, job.Type, job.Src, job.Dest)
	if w := job.Window(); w != "" {
		fmt.Fprintf(e.stderr, "ferry: objects %s only\n", w)
	}
	repeats, kind := job.Incremental, "incremental"
	if sched := job.ScheduleText(); sched != "" {
		repeats, kind = true, "scheduled"
		fmt.Fprintf(e.stderr, "ferry: runs on the schedule %s\n", sched)
	}
	code := exitOK
	eachPass := func(rep *standalone.Report) {
		show(standalone.Status{}) // end the progress line
		printReport(e, rep, *asJSON)
		if rep.Counters.Failed > 0 || rep.Problem != "" {
			code = exitFailures
		} else {
			code = exitOK
		}
		if repeats && !*once && !rep.NextPass.IsZero() {
			fmt.Fprintf(e.stderr, "ferry: %s job: next pass at %s (Ctrl-C to stop; state is saved)\n", kind, rep.NextPass.Format(time.RFC3339))
		}
	}
	dash, err := runDashboard(e, dashFlags, *cert, *key, *tokenFile, *insecure, log)
	if err != nil {
		return fail(e, err)
	}
	defer dash.close()
	web, err := serveHTTP(ctx, e, *httpListen, "the job is not submitted yet", log)
	if err != nil {
		return fail(e, err)
	}
	defer web.close()
	submitted := func(m *master.Manager) {
		web.masterMetrics(m)
		web.setReady(nil)
		if err := dash.serve(ctx, m); err != nil {
			fmt.Fprintln(e.stderr, "ferry: dashboard:", err)
		}
	}
	rep, err := standalone.Run(ctx, string(text), fs.Arg(0), standalone.Options{DataDir: *dataDir, Workers: *workers,
		Log: log, Progress: show, Repeat: repeats && !*once, EachPass: eachPass, Observer: web.workerMetrics(), Submitted: submitted})
	if err != nil {
		show(standalone.Status{})
		if rep != nil && !errors.Is(err, context.Canceled) {
			printReport(e, rep, *asJSON)
		}
		return fail(e, err)
	}
	return code
}

// runDashboard opens `ferry run`'s dashboard; its token and TLS flags
// mean something only with --dashboard-listen.
func runDashboard(e *env, f dashboardFlags, cert, key, tokenFile string, insecure bool, log *slog.Logger) (*dashSide, error) {
	if *f.listen == "" {
		return openDashboard(e, f, dashSecurity{}, log)
	}
	tok, err := rpcauth.LoadToken(tokenFile, e.getenv)
	if err != nil {
		return nil, fmt.Errorf("--dashboard-listen: %w", err)
	}
	return openDashboard(e, f, dashSecurity{cert: cert, key: key, token: tok, insecure: insecure}, log)
}

func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitError
}

func printReport(e *env, r *standalone.Report, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		// The snapshot in the shape `ferry snapshots --json` prints; the
		// shallower field hides the embedded report's.
		_ = enc.Encode(struct {
			*standalone.Report
			Snapshot *snapshotInfo `json:"snapshot,omitempty"`
		}{r, toSnapshotPtr(r.Snapshot)})
		return
	}
	c := r.Counters
	w := e.stdout
	fmt.Fprintf(w, "\nJob %s, pass %d: %s after %s\n", r.Job, r.Pass, r.State, r.Elapsed.Round(time.Millisecond))
	if r.Type == string(conf.JobAudit) {
		fmt.Fprintf(w, "  objects   compared %d | match %d | differ or missing %d", c.Verified+c.Failed, c.Verified, c.Failed)
	} else {
		fmt.Fprintf(w, "  objects   verified %d | skipped %d | failed %d | listed for this pass %d", c.Verified, c.Skipped, c.Failed, c.Scanned)
	}
	if r.Excluded > 0 {
		fmt.Fprintf(w, " | excluded by filters %d", r.Excluded)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  bytes     verified %s | skipped %s | failed %s\n", bytesIEC(c.VerifiedBytes), bytesIEC(c.SkippedBytes), bytesIEC(c.FailedBytes))
	fmt.Fprintf(w, "  transfer  read %s | sent %s | %s\n", bytesIEC(c.BytesRead), bytesIEC(c.BytesSent), rate(c.BytesSent, r.Elapsed))
	if r.Type != string(conf.JobAudit) {
		fmt.Fprintf(w, "  outcomes  %s\n", outcomes(c))
	}
	fmt.Fprintf(w, "  verified by")
	for _, m := range []task.Method{task.MethodCRC64, task.MethodChecksum, task.MethodMD5, task.MethodMultipartETag, task.MethodReread, task.MethodSize, task.MethodManifest, task.MethodManifestCRC64, task.MethodCopyETag} {
		fmt.Fprintf(w, "  %s %d", m, c.Methods[m])
	}
	fmt.Fprintln(w)
	if r.Extra > 0 {
		fmt.Fprintf(w, "  audit     %d object(s) exist only at the destination\n", r.Extra)
	}
	if c.Deleted+c.WouldDelete > 0 {
		fmt.Fprintf(w, "  deletes   %s\n", deletesLine(c))
	}
	if sn := toSnapshotPtr(r.Snapshot); sn != nil {
		fmt.Fprintf(w, "  snapshot  %s\n", snapshotLine(*sn))
		if sn.Why != "" {
			fmt.Fprintf(w, "            why: %s\n", oneLine(sn.Why))
		}
	}
	if r.WriteRace != "" {
		fmt.Fprintf(w, "  WARNING   race window: %s\n", r.WriteRace)
	}
	for _, k := range r.Kept {
		fmt.Fprintf(w, "  KEPT %q: %s\n", k.Key, oneLine(k.Reason))
	}
	if int64(len(r.Kept)) < c.Kept {
		fmt.Fprintf(w, "  ... %d more kept (the manifest lists each with its reason)\n", c.Kept-int64(len(r.Kept)))
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  FAILED %q: %s\n", f.Key, oneLine(f.Reason))
	}
	if int64(len(r.Failures)) < c.Failed {
		fmt.Fprintf(w, "  ... %d more: ferry failed %s\n", c.Failed-int64(len(r.Failures)), r.Job)
	}
	switch {
	case r.Problem != "" && c.Failed == 0:
		fmt.Fprintf(w, "RESULT: FAILED: %s\n", r.Problem)
	case c.Failed > 0 && r.Type == string(conf.JobAudit):
		fmt.Fprintf(w, "RESULT: %d object(s) DIFFER or are missing at the destination; `ferry failed %s` lists them\n", c.Failed, r.Job)
	case c.Failed > 0:
		fmt.Fprintf(w, "RESULT: %d object(s) FAILED; `ferry failed %s` lists them, `ferry retry %s` queues them again\n", c.Failed, r.Job, r.Job)
	case r.State == "finished" && r.Type == string(conf.JobAudit):
		fmt.Fprintf(w, "RESULT: OK: all %d object(s) match\n", c.Verified)
	case r.State == "finished":
		fmt.Fprintf(w, "RESULT: OK: %d verified, %d skipped, 0 failed\n", c.Verified, c.Skipped)
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// progressPrinter returns what shows Status while a job runs.
func progressPrinter(e *env, mode string) (func(standalone.Status), error) {
	if mode == "auto" {
		mode = "log"
		if f, ok := e.stderr.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				mode = "bar"
			}
		}
	}
	switch mode {
	case "none":
		return func(standalone.Status) {}, nil
	case "bar":
		var drawn bool
		return func(s standalone.Status) {
			if s.Job == "" { // end of run
				if drawn {
					fmt.Fprintln(e.stderr)
				}
				drawn = false
				return
			}
			drawn = true
			fmt.Fprintf(e.stderr, "\r\033[K%s", progressLine(s))
		}, nil
	case "log":
		var last time.Time
		return func(s standalone.Status) {
			if s.Job == "" || time.Since(last) < 10*time.Second && s.State != "finished" {
				return
			}
			last = time.Now()
			fmt.Fprintf(e.stderr, "%s %s\n", time.Now().Format("15:04:05"), progressLine(s))
		}, nil
	}
	return nil, fmt.Errorf("--progress %q: use auto, bar, log or none", mode)
}

func progressLine(s standalone.Status) string {
	c := s.Counters
	done := c.Verified + c.Failed + c.Skipped
	total := max(c.Scanned, done)
	scan := "scan done"
	if s.State == "scanning" {
		scan = "scanning"
	}
	doneBytes := c.VerifiedBytes + c.SkippedBytes + c.FailedBytes
	return fmt.Sprintf("[%s] objects %d/%d  bytes %s/%s  %s  ETA %s  failed %d",
		scan, done, total, bytesIEC(doneBytes), bytesIEC(max(c.ScannedBytes, doneBytes)),
		rate(s.BytesSent, s.Elapsed), eta(doneBytes, c.ScannedBytes, s.Elapsed), c.Failed)
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
