package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// openStore opens the tracker for a command that changes or reads it in
// full; while `ferry run` holds it, say so instead of waiting.
func openStore(dataDir string, readOnly bool) (*tracker.Store, error) {
	if _, err := os.Stat(filepath.Join(dataDir, tracker.DBFile)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no ferry data in %s (set --data-dir or FERRY_DATA_DIR)", dataDir)
	}
	st, err := tracker.Open(dataDir, tracker.Options{ReadOnly: readOnly, LockTimeout: time.Second})
	if errors.Is(err, tracker.ErrInUse) {
		return nil, fmt.Errorf("%w; `ferry stat` works meanwhile, this command needs the job stopped", err)
	}
	return st, err
}

// openJob opens the tracker and finds job in it.
func openJob(dataDir, job string, readOnly bool) (*tracker.Store, tracker.Job, error) {
	st, err := openStore(dataDir, readOnly)
	if err != nil {
		return nil, tracker.Job{}, err
	}
	j, ok, err := st.GetJob(job)
	if err == nil && !ok {
		err = fmt.Errorf("no job %q in %s", job, dataDir)
	}
	if err != nil {
		st.Close()
		return nil, tracker.Job{}, err
	}
	return st, j, nil
}

func cmdJobs(ctx context.Context, e *env, args []string) int {
	stats, code := statsFor(ctx, e, "jobs", args)
	if stats == nil {
		return code
	}
	fmt.Fprintf(e.stdout, "%-24s %-10s %5s %10s %10s %8s\n", "JOB", "STATE", "PASS", "VERIFIED", "SKIPPED", "FAILED")
	for _, s := range stats {
		fmt.Fprintf(e.stdout, "%-24s %-10s %5d %10d %10d %8d\n", s.JobName, s.JobState, s.Pass, s.Counters.Verified, s.Counters.Skipped, s.Counters.Failed)
	}
	return exitOK
}

func statsFor(ctx context.Context, e *env, name string, args []string) ([]JobStat, int) {
	fs, dataDir := flags(e, name, "")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 0, 0); err != nil {
		return nil, flagExit(err)
	}
	var (
		stats []JobStat
		err   error
	)
	if rf.set() {
		stats, err = remoteStats(ctx, e, rf, "")
	} else {
		stats, err = collectStats(*dataDir, "")
	}
	if err != nil {
		return nil, fail(e, err)
	}
	return stats, exitOK
}

func cmdFailed(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "failed", "JOB")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON lines, one object per line")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if rf.set() {
		return remoteFailed(ctx, e, rf, fs.Arg(0), *asJSON)
	}
	job := fs.Arg(0)
	st, j, err := openJob(*dataDir, job, true)
	if err != nil {
		return fail(e, err)
	}
	defer st.Close()
	n := 0
	enc := json.NewEncoder(e.stdout)
	err = st.Manifest(job, task.StatusFailed, "", func(en tracker.Entry) error {
		if en.Pass != j.Pass {
			return nil
		}
		n++
		if *asJSON {
			return enc.Encode(map[string]any{"key": en.Key, "dest": en.Dest, "size": en.Size, "class": en.Class,
				"error": en.Reason, "attempts": en.Attempts, "pass": en.Pass})
		}
		_, err := fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", en.Key, en.Class, oneLine(en.Reason))
		return err
	})
	if err != nil {
		return fail(e, err)
	}
	if !*asJSON {
		fmt.Fprintf(e.stderr, "%d failed object(s) in job %q pass %d\n", n, job, j.Pass)
	}
	return exitOK
}

func cmdRetry(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "retry", "JOB")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if rf.set() {
		return remoteRetry(ctx, e, rf, fs.Arg(0))
	}
	job := fs.Arg(0)
	st, _, err := openJob(*dataDir, job, false)
	if err != nil {
		return fail(e, err)
	}
	defer st.Close()
	n, err := st.RequeueFailed(job)
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "%d object(s) of job %q queued again; `ferry run <the job's .cfg>` copies them\n", n, job)
	return exitOK
}

func cmdClean(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "clean", "JOB [JOB.cfg]")
	rf := addRemoteFlags(fs, e)
	force := fs.Bool("force", false, "forget unfinished multipart uploads without aborting them")
	if err := parse(fs, args, 1, 2); err != nil {
		return flagExit(err)
	}
	if rf.set() {
		// The master holds the job's config and aborts its uploads itself.
		return jobCall("clean", "deletes the job's state on the master",
			func(ctx context.Context, c pb.AdminServiceClient, r *pb.JobRequest) (*pb.JobResponse, error) {
				return c.Clean(ctx, r)
			})(ctx, e, args)
	}
	job := fs.Arg(0)
	st, _, err := openJob(*dataDir, job, false)
	if err != nil {
		return fail(e, err)
	}
	defer st.Close()
	var uploads []task.UploadState
	if err := st.Uploads(job, func(u task.UploadState) error { uploads = append(uploads, u); return nil }); err != nil {
		return fail(e, err)
	}
	if len(uploads) > 0 {
		if err := abortUploads(ctx, e, fs.Arg(1), job, uploads, *force); err != nil {
			return fail(e, err)
		}
	}
	if err := st.DeleteJob(job); err != nil {
		return fail(e, err)
	}
	_ = os.Remove(filepath.Join(*dataDir, "status", job+".json"))
	fmt.Fprintf(e.stdout, "job %q removed from %s\n", job, *dataDir)
	return exitOK
}

// abortUploads aborts the job's unfinished multipart uploads at the
// destination (they hold storage until aborted), which needs the job's
// config for credentials; --force forgets them instead, naming each.
func abortUploads(ctx context.Context, e *env, cfgPath, job string, uploads []task.UploadState, force bool) error {
	if cfgPath == "" {
		if !force {
			return fmt.Errorf("job %q has %d unfinished multipart upload(s) at the destination: give the job's .cfg "+
				"(`ferry clean %s JOB.cfg`) so they are aborted, or --force to forget them", job, len(uploads), job)
		}
		for _, u := range uploads {
			fmt.Fprintf(e.stderr, "warning: not aborted: upload %s of %q (abort it or let a lifecycle rule expire it)\n", u.UploadID, u.Dest)
		}
		return nil
	}
	cfg, err := conf.Load(cfgPath)
	if err != nil {
		return err
	}
	if cfg.Name != job {
		return fmt.Errorf("%s is the config of job %q, not %q", cfgPath, cfg.Name, job)
	}
	dst, err := backends.Open(ctx, cfg.Dest)
	if err != nil {
		return err
	}
	mp, ok := dst.(storage.Multipart)
	if !ok {
		return nil
	}
	for _, u := range uploads {
		if err := mp.AbortUpload(ctx, storage.Upload{Key: u.Dest, ID: u.UploadID}); err != nil {
			return fmt.Errorf("aborting upload of %q: %w (use --force to forget it)", u.Dest, err)
		}
		fmt.Fprintf(e.stderr, "aborted unfinished upload of %q\n", u.Dest)
	}
	return nil
}

func remoteFailed(ctx context.Context, e *env, rf remoteFlags, job string, asJSON bool) int {
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.FailedResponse, error) {
		return c.Failed(ctx, &pb.FailedRequest{Job: job})
	})
	if err != nil {
		return fail(e, err)
	}
	enc := json.NewEncoder(e.stdout)
	for _, o := range resp.GetObjects() {
		if asJSON {
			_ = enc.Encode(map[string]any{"key": o.GetKey(), "dest": o.GetDest(), "size": o.GetSize(), "class": o.GetClass(),
				"error": o.GetError(), "attempts": o.GetAttempts()})
			continue
		}
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", o.GetKey(), o.GetClass(), oneLine(o.GetError()))
	}
	if !asJSON {
		fmt.Fprintf(e.stderr, "%d failed object(s) in job %q\n", len(resp.GetObjects()), job)
	}
	return exitOK
}

func remoteRetry(ctx context.Context, e *env, rf remoteFlags, job string) int {
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.RetryResponse, error) {
		return c.Retry(ctx, &pb.JobRequest{Job: job})
	})
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "%d object(s) of job %q queued again on the master\n", resp.GetRequeued(), job)
	return exitOK
}
