package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/statjson"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

func cmdJobs(ctx context.Context, e *env, args []string) int {
	stats, code := statsFor(ctx, e, "jobs", args)
	if stats == nil {
		return code
	}
	fmt.Fprintf(e.stdout, "%-24s %-10s %5s %10s %10s %8s  %-20s  %s\n", "JOB", "STATE", "PASS", "VERIFIED", "SKIPPED", "FAILED", "LAST RUN", "NEXT RUN")
	for _, s := range stats {
		fmt.Fprintf(e.stdout, "%-24s %-10s %5d %10d %10d %8d  %-20s  %s\n", s.JobName, s.JobState, s.Pass, s.Counters.Verified, s.Counters.Skipped,
			s.Counters.Failed, timeOrDash(s.LastRun), timeOrDash(s.NextPass))
	}
	return exitOK
}

func statsFor(ctx context.Context, e *env, name string, args []string) ([]JobStat, int) {
	fs, dataDir := flags(e, name, "")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 0, 0); err != nil {
		return nil, flagExit(err)
	}
	stats, err := collectStats(ctx, e, rf, *dataDir, "")
	if err != nil {
		return nil, fail(e, err)
	}
	return stats, exitOK
}

func cmdFailed(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "failed", "JOB")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON lines, one object per line")
	kept := fs.Bool("kept", false, "list instead the objects the overwrite policy kept at the destination, with the reason")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	job := fs.Arg(0)
	var es []tracker.Entry
	err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		if *kept {
			es, err = c.Kept(ctx, job, 0)
		} else {
			es, err = c.Failed(ctx, job, 0)
		}
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	enc := json.NewEncoder(e.stdout)
	for _, en := range es {
		switch {
		case *asJSON && *kept:
			_ = enc.Encode(map[string]any{"key": en.Key, "dest": en.Dest, "size": en.Size, "reason": en.Reason, "pass": en.Pass})
		case *asJSON:
			_ = enc.Encode(statjson.FailedOf(en))
		case *kept:
			fmt.Fprintf(e.stdout, "%s\t%s\n", en.Key, oneLine(en.Reason))
		default:
			fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", en.Key, en.Class, oneLine(en.Reason))
		}
	}
	if !*asJSON {
		pass, what := "", "failed"
		if len(es) > 0 {
			pass = fmt.Sprintf(" pass %d", es[0].Pass)
		}
		if *kept {
			what = "kept"
		}
		fmt.Fprintf(e.stderr, "%d %s object(s) in job %q%s\n", len(es), what, job, pass)
	}
	return exitOK
}

func cmdRetry(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "retry", "JOB")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	job := fs.Arg(0)
	var n int
	err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		n, err = c.Retry(ctx, job)
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if rf.set() {
		fmt.Fprintf(e.stdout, "%d object(s) of job %q queued again on the master\n", n, job)
	} else {
		fmt.Fprintf(e.stdout, "%d object(s) of job %q queued again; `ferry run <the job's .cfg>` copies them\n", n, job)
	}
	return exitOK
}

func cmdClean(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "clean", "JOB [JOB.cfg]")
	rf := addRemoteFlags(fs, e)
	force := fs.Bool("force", false, "forget unfinished multipart uploads without aborting them")
	if err := parse(fs, args, 1, 2); err != nil {
		return flagExit(err)
	}
	job := fs.Arg(0)
	var done master.Cleaned
	err := withClient(e, rf, *dataDir, func(c admin.Client) (err error) {
		done, err = c.Clean(ctx, job, admin.CleanOptions{ConfigFile: fs.Arg(1), Force: *force})
		return err
	})
	for _, u := range done.Aborted {
		fmt.Fprintf(e.stderr, "aborted unfinished upload of %q\n", u.Dest)
	}
	for _, u := range done.Forgotten {
		fmt.Fprintf(e.stderr, "warning: not aborted: upload %s of %q (abort it or let a lifecycle rule expire it)\n", u.UploadID, u.Dest)
	}
	switch {
	case errors.Is(err, master.ErrUploadsLeft):
		return fail(e, fmt.Errorf("%w: give the job's .cfg (`ferry clean %s JOB.cfg`) so they are aborted, or --force to forget them", err, job))
	case err != nil:
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "job %q removed from %s\n", job, rf.where(*dataDir))
	return exitOK
}

// timeOrDash is t in RFC 3339, or "-" when there is none.
func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}
