package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

func cmdSubmit(ctx context.Context, e *env, args []string) int {
	fs, _ := flags(e, "submit", "JOB.cfg")
	rf := addRemoteFlags(fs, e)
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if !rf.set() {
		return fail(e, fmt.Errorf("submit needs --master (or FERRY_MASTER); to run a job here, use `ferry run %s`", fs.Arg(0)))
	}
	text, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	// Parse locally first: a typo is reported here, with line numbers,
	// before the config (with its credentials) leaves this machine.
	job, err := conf.Parse(bytes.NewReader(text), fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	if *rf.insecure && job.HasCredentials() {
		return fail(e, fmt.Errorf("%s carries credentials and --insecure would send them in clear text: remove the "+
			"access keys from it and give the master and workers OSS_*/AWS_* environment variables, or use TLS", fs.Arg(0)))
	}
	// The master resolves relative local paths against the config's
	// directory, so it gets the absolute name.
	name, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.SubmitResponse, error) {
		return c.Submit(ctx, &pb.SubmitRequest{Config: string(text), ConfigName: name})
	})
	if err != nil {
		return fail(e, err)
	}
	for _, n := range resp.GetNotes() {
		fmt.Fprintln(e.stderr, "note:", n)
	}
	fmt.Fprintf(e.stdout, "job %q submitted to %s; `ferry stat --master %s %s` follows it\n", resp.GetJob(), *rf.master, *rf.master, resp.GetJob())
	return exitOK
}

// jobCall runs one admin call that takes a job name (pause, resume, ...).
func jobCall(name, summary string, call func(context.Context, pb.AdminServiceClient, *pb.JobRequest) (*pb.JobResponse, error)) func(context.Context, *env, []string) int {
	return func(ctx context.Context, e *env, args []string) int {
		fs, _ := flags(e, name, "JOB")
		rf := addRemoteFlags(fs, e)
		if err := parse(fs, args, 1, 1); err != nil {
			return flagExit(err)
		}
		if !rf.set() {
			return fail(e, fmt.Errorf("%s needs --master (or FERRY_MASTER): it %s", name, summary))
		}
		resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.JobResponse, error) {
			return call(ctx, c, &pb.JobRequest{Job: fs.Arg(0)})
		})
		if err != nil {
			return fail(e, err)
		}
		fmt.Fprintf(e.stdout, "job %q: %s\n", resp.GetJob(), resp.GetState())
		return exitOK
	}
}

var (
	cmdPause = jobCall("pause", "stops granting the job's shards (running ones finish)",
		func(ctx context.Context, c pb.AdminServiceClient, r *pb.JobRequest) (*pb.JobResponse, error) {
			return c.Pause(ctx, r)
		})
	cmdResume = jobCall("resume", "grants the job's shards again",
		func(ctx context.Context, c pb.AdminServiceClient, r *pb.JobRequest) (*pb.JobResponse, error) {
			return c.Resume(ctx, r)
		})
	cmdCancel = jobCall("cancel", "stops the job and takes its leases back (resume continues it)",
		func(ctx context.Context, c pb.AdminServiceClient, r *pb.JobRequest) (*pb.JobResponse, error) {
			return c.Cancel(ctx, r)
		})
)

func cmdThrottle(ctx context.Context, e *env, args []string) int {
	fs, _ := flags(e, "throttle", "JOB")
	rf := addRemoteFlags(fs, e)
	bps := fs.String("bytes", "0", "cluster-wide bytes per second (size suffixes: 100m, 1g); 0 = unlimited")
	ops := fs.Float64("objects", 0, "cluster-wide objects per second; 0 = unlimited")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	if !rf.set() {
		return fail(e, fmt.Errorf("throttle needs --master (or FERRY_MASTER); a standalone job takes maxBytesPerSecond in its .cfg"))
	}
	n, err := conf.ParseSize(*bps)
	if err != nil || n < 0 || *ops < 0 {
		return fail(e, fmt.Errorf("--bytes %q / --objects %v: give sizes like 100m and rates of 0 or more", *bps, *ops))
	}
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.JobResponse, error) {
		return c.SetThrottle(ctx, &pb.SetThrottleRequest{Job: fs.Arg(0), BytesPerSecond: n, ObjectsPerSecond: *ops})
	})
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "job %q: throttle set to %s/s and %g objects/s across the cluster (0 = unlimited)\n", resp.GetJob(), bytesIEC(n), *ops)
	return exitOK
}

func cmdWorkers(ctx context.Context, e *env, args []string) int {
	fs, _ := flags(e, "workers", "")
	rf := addRemoteFlags(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args, 0, 0); err != nil {
		return flagExit(err)
	}
	if !rf.set() {
		return fail(e, fmt.Errorf("workers needs --master (or FERRY_MASTER): `ferry run` has no remote workers"))
	}
	ws, err := remoteWorkers(ctx, e, rf)
	if err != nil {
		return fail(e, err)
	}
	if *asJSON {
		return printJSON(e, ws)
	}
	printWorkers(e, ws)
	return exitOK
}

func printWorkers(e *env, ws []*pb.WorkerInfo) {
	fmt.Fprintf(e.stdout, "%-24s %-6s %6s %7s %10s %12s %s\n", "WORKER", "ALIVE", "CONC", "LEASES", "OBJECTS/S", "BYTES/S", "LAST HEARTBEAT")
	for _, w := range ws {
		fmt.Fprintf(e.stdout, "%-24s %-6t %6d %7d %10.1f %12s %s ago\n", w.GetWorker(), w.GetAlive(), w.GetConcurrency(), w.GetLeases(),
			w.GetObjectsPerSecond(), bytesIEC(w.GetBytesPerSecond())+"/s", time.Since(w.GetLastHeartbeat().AsTime()).Round(time.Second))
	}
}

// remoteWorkers fetches the master's workers for `stat`.
func remoteWorkers(ctx context.Context, e *env, rf remoteFlags) ([]*pb.WorkerInfo, error) {
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.ListWorkersResponse, error) {
		return c.ListWorkers(ctx, &pb.ListWorkersRequest{})
	})
	if err != nil {
		return nil, err
	}
	return resp.GetWorkers(), nil
}

func printJSON(e *env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fail(e, err)
	}
	return exitOK
}

// remoteStats fetches job stats from a master, in the local command's shape.
func remoteStats(ctx context.Context, e *env, rf remoteFlags, job string) ([]JobStat, error) {
	resp, err := adminCall(ctx, e, rf, func(ctx context.Context, c pb.AdminServiceClient) (*pb.StatResponse, error) {
		return c.Stat(ctx, &pb.StatRequest{Job: job})
	})
	if err != nil {
		return nil, err
	}
	var out []JobStat
	for _, j := range resp.GetJobs() {
		s := JobStat{JobName: j.GetJob(), JobState: j.GetState(), Pass: j.GetPass(), PendingTasks: j.GetPendingTasks(),
			DispatchedTasks: j.GetDispatchedTasks(), RunningTasks: j.GetRunningTasks(), SucceedTasks: j.GetSucceedTasks(),
			FailedTasks: j.GetFailedTasks(), ScanFinished: j.GetScanFinished(), Live: true, Updated: time.Now(),
			Counters: countersFrom(j.GetCounters())}
		if cp := j.GetCheckpoint(); cp != nil {
			t := cp.AsTime()
			s.Checkpoint = &t
		}
		for _, r := range j.GetRunning() {
			s.Running = append(s.Running, runningTask{Shard: r.GetShard(), Worker: r.GetWorker(), Attempt: int(r.GetAttempt()),
				Objects: r.GetObjects(), ObjectsDone: r.GetObjectsDone(), Bytes: r.GetBytes(), BytesDone: r.GetBytesDone()})
		}
		out = append(out, s)
	}
	return out, nil
}

func countersFrom(c *pb.Counters) tracker.Counters {
	out := tracker.Counters{Scanned: c.GetScanned(), ScannedBytes: c.GetScannedBytes(), Verified: c.GetVerified(),
		VerifiedBytes: c.GetVerifiedBytes(), Skipped: c.GetSkipped(), SkippedBytes: c.GetSkippedBytes(), Failed: c.GetFailed(),
		FailedBytes: c.GetFailedBytes(), BytesRead: c.GetBytesRead(), BytesSent: c.GetBytesSent(), Shards: c.GetShards(),
		ShardsDone: c.GetShardsDone(), ShardsFailed: c.GetShardsFailed()}
	if m := c.GetMethods(); len(m) > 0 {
		out.Methods = map[task.Method]int64{}
		for k, v := range m {
			out.Methods[task.Method(k)] = v
		}
	}
	return out
}
