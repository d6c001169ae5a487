// Package adminwire converts the admin service's messages to and from the
// master's plain values (master.JobStat, master.WorkerInfo, tracker
// entries), for both ends: master/server answers with them, admin/remote
// reads them back. It is apart from package wire because it needs package
// master, which the worker's edge (a wire user) must never pull in.
package adminwire

import (
	"github.com/ferry-migrate/ferry/internal/wire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// JobStat converts a job's stat.
func JobStat(s master.JobStat) *pb.JobStat {
	out := &pb.JobStat{Job: s.Job, Type: s.Type, State: s.State, Pass: s.Pass, PendingTasks: s.PendingTasks,
		DispatchedTasks: s.DispatchedTasks, RunningTasks: s.RunningTasks, SucceedTasks: s.SucceedTasks,
		FailedTasks: s.FailedTasks, ScanFinished: s.ScanFinished, Counters: Counters(s.Counters), Totals: Counters(s.Totals),
		Checkpoint: wire.Timestamp(s.Checkpoint), BytesPerSecondLimit: s.BytesPerSecondLimit,
		ObjectsPerSecondLimit: s.ObjectsPerSecondLimit, BackoffFactor: s.BackoffFactor, Source: s.Source, Dest: s.Dest,
		Listed: s.Listed, Excluded: s.Excluded, AuditExtra: s.AuditExtra, NextPass: wire.Timestamp(s.NextPass), LastRun: wire.Timestamp(s.LastRun), SkippedRuns: s.SkippedRuns,
		Problem: s.Problem, StaleRefused: s.StaleRefused, Window: s.Window}
	out.WriteRace = s.WriteRace
	if s.Snapshot != nil {
		out.Snapshot = SnapshotInfo(*s.Snapshot)
	}
	for _, r := range s.Running {
		out.Running = append(out.Running, &pb.RunningTask{Shard: r.Shard, Worker: r.Worker, Attempt: int32(r.Attempt),
			Objects: r.Objects, ObjectsDone: r.ObjectsDone, Bytes: r.Bytes, BytesDone: r.BytesDone,
			LeaseExpires: wire.Timestamp(r.LeaseExpires)})
	}
	return out
}

// ToJobStat converts back.
func ToJobStat(s *pb.JobStat) master.JobStat {
	out := master.JobStat{Job: s.GetJob(), Type: s.GetType(), State: s.GetState(), Pass: s.GetPass(),
		PendingTasks: s.GetPendingTasks(), DispatchedTasks: s.GetDispatchedTasks(), RunningTasks: s.GetRunningTasks(),
		SucceedTasks: s.GetSucceedTasks(), FailedTasks: s.GetFailedTasks(), ScanFinished: s.GetScanFinished(),
		Counters: ToCounters(s.GetCounters()), Totals: ToCounters(s.GetTotals()), Checkpoint: wire.Time(s.GetCheckpoint()),
		BytesPerSecondLimit: s.GetBytesPerSecondLimit(), ObjectsPerSecondLimit: s.GetObjectsPerSecondLimit(),
		BackoffFactor: s.GetBackoffFactor(), Source: s.GetSource(), Dest: s.GetDest(), Listed: s.GetListed(),
		Excluded: s.GetExcluded(), AuditExtra: s.GetAuditExtra(), NextPass: wire.Time(s.GetNextPass()), LastRun: wire.Time(s.GetLastRun()), SkippedRuns: s.GetSkippedRuns(),
		Problem: s.GetProblem(), StaleRefused: s.GetStaleRefused(), Window: s.GetWindow()}
	out.WriteRace = s.GetWriteRace()
	if si := s.GetSnapshot(); si != nil {
		v := ToSnapshotInfo(si)
		out.Snapshot = &v
	}
	for _, r := range s.GetRunning() {
		out.Running = append(out.Running, master.Running{Shard: r.GetShard(), Worker: r.GetWorker(), Attempt: int(r.GetAttempt()),
			Objects: r.GetObjects(), ObjectsDone: r.GetObjectsDone(), Bytes: r.GetBytes(), BytesDone: r.GetBytesDone(),
			LeaseExpires: wire.Time(r.GetLeaseExpires())})
	}
	return out
}

// Counters converts a pass's (or a job's total) counters.
func Counters(c tracker.Counters) *pb.Counters {
	out := &pb.Counters{Scanned: c.Scanned, ScannedBytes: c.ScannedBytes, Verified: c.Verified,
		VerifiedBytes: c.VerifiedBytes, Skipped: c.Skipped, SkippedBytes: c.SkippedBytes, Failed: c.Failed,
		FailedBytes: c.FailedBytes, BytesRead: c.BytesRead, BytesSent: c.BytesSent, Shards: c.Shards,
		ShardsDone: c.ShardsDone, ShardsFailed: c.ShardsFailed, Deleted: c.Deleted, WouldDelete: c.WouldDelete}
	out.Identical, out.IdenticalBytes, out.Kept, out.KeptBytes = c.Identical, c.IdenticalBytes, c.Kept, c.KeptBytes
	out.ServerCopied, out.ServerCopiedBytes = c.ServerCopied, c.ServerCopiedBytes
	if len(c.Methods) > 0 {
		out.Methods = make(map[string]int64, len(c.Methods))
		for m, n := range c.Methods {
			out.Methods[string(m)] = n
		}
	}
	return out
}

// ToCounters converts back.
func ToCounters(c *pb.Counters) tracker.Counters {
	out := tracker.Counters{Scanned: c.GetScanned(), ScannedBytes: c.GetScannedBytes(), Verified: c.GetVerified(),
		VerifiedBytes: c.GetVerifiedBytes(), Skipped: c.GetSkipped(), SkippedBytes: c.GetSkippedBytes(), Failed: c.GetFailed(),
		FailedBytes: c.GetFailedBytes(), BytesRead: c.GetBytesRead(), BytesSent: c.GetBytesSent(), Shards: c.GetShards(),
		ShardsDone: c.GetShardsDone(), ShardsFailed: c.GetShardsFailed(), Deleted: c.GetDeleted(), WouldDelete: c.GetWouldDelete()}
	out.Identical, out.IdenticalBytes, out.Kept, out.KeptBytes = c.GetIdentical(), c.GetIdenticalBytes(), c.GetKept(), c.GetKeptBytes()
	out.ServerCopied, out.ServerCopiedBytes = c.GetServerCopied(), c.GetServerCopiedBytes()
	if m := c.GetMethods(); len(m) > 0 {
		out.Methods = make(map[task.Method]int64, len(m))
		for k, v := range m {
			out.Methods[task.Method(k)] = v
		}
	}
	return out
}

// Worker converts a worker's state.
func Worker(w master.WorkerInfo) *pb.WorkerInfo {
	return &pb.WorkerInfo{Worker: w.Worker, Hostname: w.Hostname, Address: w.Address, Version: w.Version,
		Concurrency: int32(w.Concurrency), Leases: int32(w.Leases), ObjectsPerSecond: w.ObjectsPerSecond,
		BytesPerSecond: w.BytesPerSecond, Slowdowns: w.Slowdowns, LastHeartbeat: wire.Timestamp(w.LastSeen), Alive: w.Alive}
}

// ToWorker converts back; Registered does not cross the wire.
func ToWorker(w *pb.WorkerInfo) master.WorkerInfo {
	return master.WorkerInfo{Worker: w.GetWorker(), Hostname: w.GetHostname(), Address: w.GetAddress(), Version: w.GetVersion(),
		Concurrency: int(w.GetConcurrency()), Leases: int(w.GetLeases()), ObjectsPerSecond: w.GetObjectsPerSecond(),
		BytesPerSecond: w.GetBytesPerSecond(), Slowdowns: w.GetSlowdowns(), LastSeen: wire.Time(w.GetLastHeartbeat()), Alive: w.GetAlive()}
}

// Failed converts a failed manifest entry: what `ferry failed` shows of it.
func Failed(e tracker.Entry) *pb.FailedObject {
	return &pb.FailedObject{Key: e.Key, Dest: e.Dest, Size: e.Size, Class: e.Class, Error: e.Reason,
		Attempts: int32(e.Attempts), Pass: e.Pass}
}

// ToFailed converts back, to an entry holding just those fields.
func ToFailed(o *pb.FailedObject) tracker.Entry {
	return tracker.Entry{Result: task.Result{Key: o.GetKey(), Dest: o.GetDest(), Status: task.StatusFailed, Size: o.GetSize(),
		Class: o.GetClass(), Reason: o.GetError(), Attempts: int(o.GetAttempts())}, Pass: o.GetPass()}
}

// Cleaned converts what Clean did with a job's unfinished uploads.
func Cleaned(job string, c master.Cleaned) *pb.CleanResponse {
	return &pb.CleanResponse{Job: job, State: "cleaned", Aborted: uploadRefs(c.Aborted), Forgotten: uploadRefs(c.Forgotten)}
}

// ToCleaned converts back, to upload states holding the job, destination
// key and upload id.
func ToCleaned(r *pb.CleanResponse) master.Cleaned {
	return master.Cleaned{Aborted: toUploads(r.GetJob(), r.GetAborted()), Forgotten: toUploads(r.GetJob(), r.GetForgotten())}
}

func uploadRefs(us []task.UploadState) []*pb.UploadRef {
	out := make([]*pb.UploadRef, len(us))
	for i, u := range us {
		out[i] = &pb.UploadRef{Dest: u.Dest, UploadId: u.UploadID}
	}
	return out
}

func toUploads(job string, rs []*pb.UploadRef) []task.UploadState {
	if len(rs) == 0 {
		return nil
	}
	out := make([]task.UploadState, len(rs))
	for i, r := range rs {
		out[i] = task.UploadState{Job: job, Dest: r.GetDest(), UploadID: r.GetUploadId()}
	}
	return out
}

// SnapshotInfo converts one snapshot's description.
func SnapshotInfo(s master.SnapshotInfo) *pb.SnapshotInfo {
	return &pb.SnapshotInfo{Pass: s.Pass, Started: wire.Timestamp(s.Started), Prefix: s.Prefix, State: s.State,
		Complete: wire.Timestamp(s.Complete), Objects: s.Objects, Bytes: s.Bytes, Base: s.Base, BasePrefix: s.BasePrefix,
		BytesRead: s.BytesRead, ServerCopied: s.ServerCopied, ServerCopiedBytes: s.ServerCopiedBytes,
		Removed: wire.Timestamp(s.Removed), Why: s.Why}
}

// ToSnapshotInfo converts back.
func ToSnapshotInfo(s *pb.SnapshotInfo) master.SnapshotInfo {
	return master.SnapshotInfo{Pass: s.GetPass(), Started: wire.Time(s.GetStarted()), Prefix: s.GetPrefix(), State: s.GetState(),
		Complete: wire.Time(s.GetComplete()), Objects: s.GetObjects(), Bytes: s.GetBytes(), Base: s.GetBase(),
		BasePrefix: s.GetBasePrefix(), BytesRead: s.GetBytesRead(), ServerCopied: s.GetServerCopied(),
		ServerCopiedBytes: s.GetServerCopiedBytes(), Removed: wire.Time(s.GetRemoved()), Why: s.GetWhy()}
}

// Snapshots converts a job's snapshot list.
func Snapshots(ss []master.SnapshotInfo) *pb.SnapshotsResponse {
	out := &pb.SnapshotsResponse{Snapshots: make([]*pb.SnapshotInfo, len(ss))}
	for i, s := range ss {
		out.Snapshots[i] = SnapshotInfo(s)
	}
	return out
}

// ToSnapshots converts back; an empty list is nil, as Manager.Snapshots
// answers for a job with no snapshots.
func ToSnapshots(r *pb.SnapshotsResponse) []master.SnapshotInfo {
	if len(r.GetSnapshots()) == 0 {
		return nil
	}
	out := make([]master.SnapshotInfo, len(r.GetSnapshots()))
	for i, s := range r.GetSnapshots() {
		out[i] = ToSnapshotInfo(s)
	}
	return out
}
