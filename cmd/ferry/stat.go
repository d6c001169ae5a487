package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/standalone"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStat is what `ferry stat --json` prints per job. It never carries
// credentials: the tracker keeps only a redacted config.
type JobStat struct {
	JobName         string           `json:"job_name"`
	JobState        string           `json:"job_state"`
	Pass            uint64           `json:"pass"`
	PendingTasks    int64            `json:"pending_tasks"`
	DispatchedTasks int64            `json:"dispatched_tasks"`
	RunningTasks    int64            `json:"running_tasks"`
	SucceedTasks    int64            `json:"succeed_tasks"`
	FailedTasks     int64            `json:"failed_tasks"`
	ScanFinished    bool             `json:"scan_finished"`
	Counters        tracker.Counters `json:"counters"`
	Checkpoint      *time.Time       `json:"checkpoint,omitempty"`
	Running         []runningTask    `json:"running,omitempty"`
	Live            bool             `json:"live"` // from a running process
	Updated         time.Time        `json:"updated"`
}

type runningTask struct {
	Shard       uint64 `json:"shard"`
	Worker      string `json:"worker"`
	Attempt     int    `json:"attempt"`
	Objects     uint64 `json:"objects"`
	ObjectsDone uint64 `json:"objects_done"`
	Bytes       int64  `json:"bytes"`
	BytesDone   int64  `json:"bytes_done"`
}

func cmdStat(ctx context.Context, e *env, args []string) int {
	fs, dataDir := flags(e, "stat", "[JOB]")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 1); err != nil {
		return flagExit(err)
	}
	var (
		stats []JobStat
		err   error
	)
	if rf.set() {
		stats, err = remoteStats(ctx, e, rf, fs.Arg(0))
	} else {
		stats, err = collectStats(*dataDir, fs.Arg(0))
	}
	if err != nil {
		return fail(e, err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(stats)
		return exitOK
	}
	if len(stats) == 0 {
		fmt.Fprintf(e.stdout, "no jobs in %s\n", *dataDir)
	}
	for i, s := range stats {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printStat(e, s)
	}
	if rf.set() {
		ws, err := remoteWorkers(ctx, e, rf)
		if err != nil {
			return fail(e, err)
		}
		fmt.Fprintln(e.stdout)
		printWorkers(e, ws)
	}
	return exitOK
}

// collectStats reads the tracker, or, while `ferry run` holds it, the
// status the running process publishes.
func collectStats(dataDir, job string) ([]JobStat, error) {
	if _, err := os.Stat(filepath.Join(dataDir, tracker.DBFile)); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no ferry data in %s (set --data-dir or FERRY_DATA_DIR)", dataDir)
	}
	st, err := tracker.Open(dataDir, tracker.Options{ReadOnly: true, LockTimeout: 300 * time.Millisecond})
	if errors.Is(err, tracker.ErrInUse) {
		return liveStats(dataDir, job)
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	jobs, err := st.ListJobs()
	if err != nil {
		return nil, err
	}
	var out []JobStat
	for _, j := range jobs {
		if job != "" && j.Name != job {
			continue
		}
		s := JobStat{JobName: j.Name, JobState: string(j.State), Pass: j.Pass, Updated: time.Now()}
		if !j.Checkpoint.IsZero() {
			cp := j.Checkpoint
			s.Checkpoint = &cp
		}
		if p, ok, err := st.GetPass(j.Name, j.Pass); err != nil {
			return nil, err
		} else if ok {
			s.Counters, s.ScanFinished = p.Counters, p.ScanFinished
			s.SucceedTasks, s.FailedTasks = p.ShardsDone, p.ShardsFailed
			s.PendingTasks = p.Shards - p.ShardsDone - p.ShardsFailed
		}
		out = append(out, s)
	}
	if job != "" && len(out) == 0 {
		return nil, fmt.Errorf("no job %q in %s", job, dataDir)
	}
	return out, nil
}

func liveStats(dataDir, job string) ([]JobStat, error) {
	names := []string{job}
	if job == "" {
		files, _ := filepath.Glob(filepath.Join(dataDir, "status", "*.json"))
		names = nil
		for _, f := range files {
			names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
		}
		sort.Strings(names)
	}
	var out []JobStat
	for _, n := range names {
		s, err := standalone.ReadStatus(dataDir, n)
		if err != nil {
			if job != "" {
				return nil, fmt.Errorf("job %q: a ferry process is using %s and has published no status for it", job, dataDir)
			}
			continue
		}
		if time.Since(s.Updated) > time.Minute {
			continue // a status left by a process that is gone
		}
		out = append(out, fromStatus(s))
	}
	return out, nil
}

func fromStatus(s standalone.Status) JobStat {
	c := s.Counters
	js := JobStat{JobName: s.Job, JobState: "running", Pass: s.Pass, Counters: c, Live: true, Updated: s.Updated,
		ScanFinished: s.Live.ScanFinished || s.State == "finished" || s.State == "copying",
		PendingTasks: int64(s.Live.Pending), DispatchedTasks: int64(s.Live.Leased), RunningTasks: int64(s.Live.Leased),
		SucceedTasks: c.ShardsDone, FailedTasks: c.ShardsFailed}
	if s.State == "finished" {
		js.JobState = "finished"
	}
	for _, r := range s.Live.Running {
		js.Running = append(js.Running, runningTask{Shard: r.Shard, Worker: r.Worker, Attempt: r.Attempt,
			Objects: r.Objects, ObjectsDone: r.ObjectsDone, Bytes: r.Bytes, BytesDone: r.BytesDone})
	}
	return js
}

// printStat prints OssImport's stat block, then ferry's object counts.
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
	c := s.Counters
	fmt.Fprintf(w, "Pass: %d\n", s.Pass)
	fmt.Fprintf(w, "Objects: listed %d, verified %d, skipped %d, failed %d\n", c.Scanned, c.Verified, c.Skipped, c.Failed)
	fmt.Fprintf(w, "Bytes: listed %s, verified %s, read %s, sent %s\n", bytesIEC(c.ScannedBytes), bytesIEC(c.VerifiedBytes), bytesIEC(c.BytesRead), bytesIEC(c.BytesSent))
	if s.Checkpoint != nil {
		fmt.Fprintf(w, "Checkpoint: %s\n", s.Checkpoint.Format(time.RFC3339))
	}
}

func titleCase(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
