package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStat is what `ferry stat --json` prints per job (package statjson,
// shared with the dashboard).
type JobStat = statjson.JobStat

func cmdStat(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "stat", "[JOB]")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 1); err != nil {
		return flagExit(err)
	}
	var (
		stats []JobStat
		ws    []master.WorkerInfo
	)
	err := withClient(e, rf, *dataDir, func(c admin.Client) error {
		ss, err := c.Stat(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		stats = toJobStats(ss)
		if rf.set() && !*asJSON {
			ws, err = c.Workers(ctx)
		}
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if *asJSON {
		return printJSON(e, stats)
	}
	if len(stats) == 0 {
		fmt.Fprintf(e.stdout, "no jobs in %s\n", rf.where(*dataDir))
	}
	for i, s := range stats {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printStat(e, s)
	}
	if rf.set() {
		fmt.Fprintln(e.stdout)
		printWorkers(e, ws)
	}
	return exitOK
}

// collectStats gets the jobs' stats from the master or the data dir.
func collectStats(ctx context.Context, e *env, rf remoteFlags, dataDir, job string) ([]JobStat, error) {
	var out []JobStat
	err := withClient(e, rf, dataDir, func(c admin.Client) error {
		ss, err := c.Stat(ctx, job)
		out = toJobStats(ss)
		return err
	})
	return out, err
}

func toJobStats(ss []admin.JobStat) []JobStat { return statjson.FromAdmin(ss) }

// printStat prints OssImport's stat block, then ferry's object counts: the
// current pass's, and the job's totals over all its passes (a pass with
// nothing to do counts zeros; what the job did is in the totals).
func printStat(e *env, s JobStat) {
	w := e.stdout
	fmt.Fprintf(w, "JobName: %s\n", s.JobName)
	fmt.Fprintf(w, "JobState: %s\n", titleCase(s.JobState))
	fmt.Fprintf(w, "PendingTasks: %d\n", s.PendingTasks)
	fmt.Fprintf(w, "DispatchedTasks: %d\n", s.DispatchedTasks)
	fmt.Fprintf(w, "RunningTasks: %d\n", s.RunningTasks)
	fmt.Fprintf(w, "SucceedTasks: %d\n", s.SucceedTasks)
	fmt.Fprintf(w, "FailedTasks: %d\n", s.FailedTasks)
	fmt.Fprintf(w, "ScanFinished: %t\n", s.ScanFinished)
	if len(s.Running) > 0 {
		fmt.Fprintln(w, "RunningTasks Progress:")
		for _, r := range s.Running {
			fmt.Fprintf(w, "  shard %d (worker %s, attempt %d): %d/%d objects, %s/%s\n",
				r.Shard, r.Worker, r.Attempt, r.ObjectsDone, r.Objects, bytesIEC(r.BytesDone), bytesIEC(r.Bytes))
		}
	}
	c, t := s.Counters, s.Totals
	fmt.Fprintf(w, "Pass: %d\n", s.Pass)
	if s.JobType == string(conf.JobAudit) {
		// An audit copies nothing: its results are the matches (verified)
		// and the differences (failed).
		fmt.Fprintf(w, "Objects: compared %d, match %d, differ or missing %d, only at the destination %d\n",
			c.Verified+c.Failed, c.Verified, c.Failed, s.AuditExtra)
		fmt.Fprintf(w, "Bytes: verified %s, read %s\n", bytesIEC(c.VerifiedBytes), bytesIEC(c.BytesRead))
		fmt.Fprintf(w, "Totals (%s): objects compared %d, match %d, differ or missing %d\n", passes(s.Pass), t.Verified+t.Failed, t.Verified, t.Failed)
	} else {
		fmt.Fprintf(w, "Objects: listed %d, verified %d, skipped %d, failed %d\n", c.Scanned, c.Verified, c.Skipped, c.Failed)
		fmt.Fprintf(w, "Bytes: listed %s, verified %s, read %s, sent %s\n", bytesIEC(c.ScannedBytes), bytesIEC(c.VerifiedBytes), bytesIEC(c.BytesRead), bytesIEC(c.BytesSent))
		fmt.Fprintf(w, "Totals (%s): objects listed %d, verified %d, skipped %d, failed %d; shards %d (done %d, failed %d); bytes verified %s, sent %s\n",
			passes(s.Pass), t.Scanned, t.Verified, t.Skipped, t.Failed, t.Shards, t.ShardsDone, t.ShardsFailed, bytesIEC(t.VerifiedBytes), bytesIEC(t.BytesSent))
		fmt.Fprintf(w, "Outcomes: %s\n", outcomes(c))
	}
	if s.WriteRace != "" {
		fmt.Fprintf(w, "WriteRace: %s\n", s.WriteRace)
	}
	if s.Snapshot != nil {
		fmt.Fprintf(w, "Snapshot: %s\n", snapshotLine(*s.Snapshot))
		if s.Snapshot.Why != "" {
			fmt.Fprintf(w, "  why: %s\n", oneLine(s.Snapshot.Why))
		}
	}
	if c.Deleted+c.WouldDelete > 0 {
		fmt.Fprintf(w, "Deletes: %s\n", deletesLine(c))
	}
	if s.Window != "" {
		fmt.Fprintf(w, "Window: objects %s\n", s.Window)
	}
	if s.Checkpoint != nil {
		fmt.Fprintf(w, "Checkpoint: %s\n", s.Checkpoint.Format(time.RFC3339))
	}
	if lim := limitsLine(s); lim != "" {
		fmt.Fprintf(w, "Limits: %s\n", lim)
	}
	if s.LastRun != nil {
		fmt.Fprintf(w, "LastRun: %s\n", s.LastRun.Format(time.RFC3339))
	}
	if s.NextPass != nil {
		fmt.Fprintf(w, "NextPass: %s\n", s.NextPass.Format(time.RFC3339))
	}
	if s.SkippedRuns > 0 {
		fmt.Fprintf(w, "SkippedRuns: %d (scheduled times that came while the previous run was still going)\n", s.SkippedRuns)
	}
	if s.StaleRefused > 0 {
		fmt.Fprintf(w, "StaleRefused: %d (late results from lost leases, not recorded)\n", s.StaleRefused)
	}
	if s.Problem != "" {
		fmt.Fprintf(w, "Problem: %s\n", s.Problem)
	}
}

// limitsLine describes the cluster-wide limits in force; "" when there
// are none and no SlowDown backoff.
func limitsLine(s JobStat) string {
	var parts []string
	if s.BytesPerSecondLimit > 0 {
		parts = append(parts, bytesIEC(s.BytesPerSecondLimit)+"/s")
	}
	if s.ObjectsPerSecondLimit > 0 {
		parts = append(parts, fmt.Sprintf("%g objects/s", s.ObjectsPerSecondLimit))
	}
	if s.BackoffFactor > 0 && s.BackoffFactor < 1 {
		parts = append(parts, fmt.Sprintf("SlowDown backoff x%.2f", s.BackoffFactor))
	}
	return strings.Join(parts, ", ")
}

func passes(n uint64) string {
	if n == 1 {
		return "1 pass"
	}
	return fmt.Sprintf("%d passes", n)
}

func titleCase(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// deletesLine describes a pass's delete propagation (deleteExtraneous).
func deletesLine(c tracker.Counters) string {
	return fmt.Sprintf("deleted %d, would delete %d (destination objects with no source object)", c.Deleted, c.WouldDelete)
}

// outcomes counts a pass's objects by the overwrite policy's outcomes
// (docs/job-config.md, overwritePolicy): copied and identical make up
// "verified"; the skipped objects the policy did not keep (unchanged since
// a verified pass, directory markers, ...) are the rest of "skipped".
//
// A snapshot's copies made inside the destination from the base
// snapshot are copies too; they are named apart, as they read nothing
// from the source.
func outcomes(c tracker.Counters) string {
	s := fmt.Sprintf("copied %d, identical %d, kept at the destination %d, failed %d",
		c.Verified-c.Identical, c.Identical, c.Kept, c.Failed)
	if c.ServerCopied > 0 {
		s += fmt.Sprintf("; of the copied, %d (%s) made by a server-side copy from the base snapshot, nothing read from the source",
			c.ServerCopied, bytesIEC(c.ServerCopiedBytes))
	}
	return s
}
