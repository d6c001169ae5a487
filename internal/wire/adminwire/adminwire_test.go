package adminwire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Round trips: every field an admin client shows survives the wire.
func TestRoundTrips(t *testing.T) {
	now := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.UTC)
	c := tracker.Counters{Scanned: 1, ScannedBytes: 2, Verified: 3, VerifiedBytes: 4, Skipped: 5, SkippedBytes: 6, Failed: 7,
		FailedBytes: 8, BytesRead: 9, BytesSent: 10, Shards: 11, ShardsDone: 12, ShardsFailed: 13,
		Methods: map[task.Method]int64{task.MethodCRC64: 3, task.MethodManifest: 5}, Deleted: 14, WouldDelete: 15,
		Identical: 14, IdenticalBytes: 15, Kept: 16, KeptBytes: 17, ServerCopied: 18, ServerCopiedBytes: 19}
	tot := c
	tot.Verified, tot.Methods = 300, map[task.Method]int64{task.MethodCRC64: 300}
	s := master.JobStat{Job: "j", Type: "audit", State: "paused", Pass: 4, PendingTasks: 1, DispatchedTasks: 2, RunningTasks: 3,
		SucceedTasks: 4, FailedTasks: 5, ScanFinished: true, Counters: c, Totals: tot, Checkpoint: now,
		Running:             []master.Running{{Shard: 7, Worker: "w", Attempt: 2, Objects: 10, ObjectsDone: 4, Bytes: 100, BytesDone: 40, LeaseExpires: now}},
		BytesPerSecondLimit: 1 << 20, ObjectsPerSecondLimit: 2.5, BackoffFactor: 0.5, Source: "s3://a", Dest: "oss://b",
		Listed: 20, Excluded: 2, AuditExtra: 3, NextPass: now.Add(time.Hour), LastRun: now.Add(-time.Hour), SkippedRuns: 2, Problem: "why", StaleRefused: 6,
		Window:    "modified in [2024-05-01T00:00:00Z, +inf)",
		WriteRace: "the destination does not enforce put if-match",
		Snapshot: &master.SnapshotInfo{Pass: 4, Started: now, Prefix: "b/1/", State: master.SnapshotRemoved, Complete: now.Add(time.Minute),
			Objects: 5, Bytes: 6, Base: 3, BasePrefix: "b/0/", BytesRead: 7, ServerCopied: 8, ServerCopiedBytes: 9,
			Removed: now.Add(time.Hour), Why: "keep-last 1"}}
	assert.Equal(t, s, ToJobStat(JobStat(s)))
	assert.Equal(t, master.JobStat{Job: "j"}, ToJobStat(JobStat(master.JobStat{Job: "j"})), "zero times and counters stay zero")

	w := master.WorkerInfo{Worker: "w", Hostname: "h", Address: "10.0.0.1:5", Version: "v1", Concurrency: 8, Leases: 2,
		BytesPerSecond: 99, ObjectsPerSecond: 1.5, Slowdowns: 4, LastSeen: now, Alive: true}
	assert.Equal(t, w, ToWorker(Worker(w)))

	e := tracker.Entry{Result: task.Result{Key: "k", Dest: "d/k", Status: task.StatusFailed, Size: 5, Class: "permanent",
		Reason: "boom", Attempts: 3}, Pass: 2}
	assert.Equal(t, e, ToFailed(Failed(e)))

	up := task.UploadState{Job: "j", Dest: "d/big", UploadID: "u1"}
	cl := master.Cleaned{Aborted: []task.UploadState{up}, Forgotten: []task.UploadState{up, up}}
	assert.Equal(t, cl, ToCleaned(Cleaned("j", cl)))
	assert.Equal(t, "cleaned", Cleaned("j", master.Cleaned{}).GetState())

	snaps := []master.SnapshotInfo{*s.Snapshot, {Pass: 5, Started: now, Prefix: "b/2/", State: master.SnapshotRunning}}
	assert.Equal(t, snaps, ToSnapshots(Snapshots(snaps)))
	assert.Nil(t, ToSnapshots(Snapshots(nil)), "no snapshots: nil, as the Manager answers")
}
