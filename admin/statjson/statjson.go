// Package statjson holds the JSON shapes of `ferry stat --json` and
// `ferry snapshots --json`, and their conversion from admin's stats. The
// CLI and the dashboard both use it, so a number means the same in both
// and there is one place that decides how it is written.
package statjson

import (
	"time"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStat is what `ferry stat --json` prints per job, and what the
// dashboard's /api/jobs serves: one shape, so both show the same numbers. It never carries
// credentials: the tracker keeps only a redacted config.
type JobStat struct {
	JobName         string           `json:"job_name"`
	JobType         string           `json:"job_type,omitempty"` // import or audit
	JobState        string           `json:"job_state"`
	Pass            uint64           `json:"pass"`
	PendingTasks    int64            `json:"pending_tasks"`
	DispatchedTasks int64            `json:"dispatched_tasks"`
	RunningTasks    int64            `json:"running_tasks"`
	SucceedTasks    int64            `json:"succeed_tasks"`
	FailedTasks     int64            `json:"failed_tasks"`
	ScanFinished    bool             `json:"scan_finished"`
	Counters        tracker.Counters `json:"counters"` // the current (or last) pass's
	Totals          tracker.Counters `json:"totals"`   // every pass's, added up
	Checkpoint      *time.Time       `json:"checkpoint,omitempty"`
	Running         []RunningTask    `json:"running,omitempty"`
	// Why the job is not progressing ("" when fine), and when an
	// incremental job's next pass starts.
	Problem  string     `json:"problem,omitempty"`
	NextPass *time.Time `json:"next_pass,omitempty"`
	LastRun  *time.Time `json:"last_run,omitempty"` // when the last finished pass ended
	// Scheduled runs skipped because the previous run was still going.
	SkippedRuns int64 `json:"skipped_runs,omitempty"`
	// An audit's objects found only at the destination.
	AuditExtra int64 `json:"audit_extra,omitempty"`
	// The time window, "modified in [since, until)"; empty without one.
	Window string `json:"window,omitempty"`
	// Results refused since the master started because their lease was
	// no longer current (a late worker); never recorded.
	StaleRefused int64 `json:"stale_refused,omitempty"`
	// The race window the destination leaves open (conditional writes it
	// does not enforce); "" when none.
	WriteRace string `json:"write_race,omitempty"`
	// The current (or last) pass's snapshot (backupKind=snapshot), as
	// `ferry snapshots --json` prints each.
	Snapshot *Snapshot `json:"snapshot,omitempty"`
	// Cluster-wide limits in force (0: unlimited), SlowDown backoff
	// included, and the backoff factor (1: none).
	BytesPerSecondLimit   int64     `json:"bytes_per_second_limit,omitempty"`
	ObjectsPerSecondLimit float64   `json:"objects_per_second_limit,omitempty"`
	BackoffFactor         float64   `json:"backoff_factor,omitempty"`
	Live                  bool      `json:"live"` // from a running process
	Updated               time.Time `json:"updated"`
}

type RunningTask struct {
	Shard       uint64 `json:"shard"`
	Worker      string `json:"worker"`
	Attempt     int    `json:"attempt"`
	Objects     uint64 `json:"objects"`
	ObjectsDone uint64 `json:"objects_done"`
	Bytes       int64  `json:"bytes"`
	BytesDone   int64  `json:"bytes_done"`
}

func FromAdmin(ss []admin.JobStat) []JobStat {
	out := make([]JobStat, len(ss))
	for i, s := range ss {
		js := JobStat{JobName: s.Job, JobType: s.Type, JobState: s.State, Pass: s.Pass, PendingTasks: s.PendingTasks,
			DispatchedTasks: s.DispatchedTasks, RunningTasks: s.RunningTasks, SucceedTasks: s.SucceedTasks,
			FailedTasks: s.FailedTasks, ScanFinished: s.ScanFinished, Counters: s.Counters, Totals: s.Totals,
			Live: s.Live, Updated: s.Updated, Problem: s.Problem, AuditExtra: s.AuditExtra, SkippedRuns: s.SkippedRuns, StaleRefused: s.StaleRefused, Window: s.Window,
			BytesPerSecondLimit: s.BytesPerSecondLimit, ObjectsPerSecondLimit: s.ObjectsPerSecondLimit, BackoffFactor: s.BackoffFactor}
		js.WriteRace = s.WriteRace
		js.Snapshot = SnapshotPtr(s.Snapshot)
		if !s.NextPass.IsZero() {
			np := s.NextPass
			js.NextPass = &np
		}
		if !s.LastRun.IsZero() {
			lr := s.LastRun
			js.LastRun = &lr
		}
		if !s.Checkpoint.IsZero() {
			cp := s.Checkpoint
			js.Checkpoint = &cp
		}
		for _, r := range s.Running {
			js.Running = append(js.Running, RunningTask{Shard: r.Shard, Worker: r.Worker, Attempt: r.Attempt,
				Objects: r.Objects, ObjectsDone: r.ObjectsDone, Bytes: r.Bytes, BytesDone: r.BytesDone})
		}
		out[i] = js
	}
	return out
}

// Snapshot is one snapshot as `ferry snapshots --json` prints it, and
// the `snapshot` of `ferry stat --json`: one shape for both, so a script
// reads either the same way. Times are UTC.
type Snapshot struct {
	Pass    uint64    `json:"pass"`
	Started time.Time `json:"started"`
	Prefix  string    `json:"prefix"`
	State   string    `json:"state"` // running, complete, incomplete, removing, removed
	// Complete: when the manifest was written.
	Complete *time.Time `json:"complete,omitempty"`
	Objects  int64      `json:"objects"`
	Bytes    int64      `json:"bytes"`
	// Base: the pass of the snapshot unchanged objects were copied from;
	// 0 for the first.
	Base       uint64 `json:"base"`
	BasePrefix string `json:"base_prefix,omitempty"`
	// BytesRead from the source; ServerCopied(Bytes): copied inside the
	// destination from the base, nothing read from the source.
	BytesRead         int64      `json:"bytes_read"`
	ServerCopied      int64      `json:"server_copied"`
	ServerCopiedBytes int64      `json:"server_copied_bytes"`
	Removed           *time.Time `json:"removed,omitempty"`
	// Why it was (or is being) removed, or what a retention dry run
	// would do.
	Why string `json:"why,omitempty"`
}

func SnapshotOf(s master.SnapshotInfo) Snapshot {
	return Snapshot{Pass: s.Pass, Started: s.Started.UTC(), Prefix: s.Prefix, State: s.State,
		Complete: utcOrNil(s.Complete), Objects: s.Objects, Bytes: s.Bytes, Base: s.Base, BasePrefix: s.BasePrefix,
		BytesRead: s.BytesRead, ServerCopied: s.ServerCopied, ServerCopiedBytes: s.ServerCopiedBytes,
		Removed: utcOrNil(s.Removed), Why: s.Why}
}

// SnapshotPtr converts a stat's optional snapshot.
func SnapshotPtr(s *master.SnapshotInfo) *Snapshot {
	if s == nil {
		return nil
	}
	si := SnapshotOf(*s)
	return &si
}

func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}
