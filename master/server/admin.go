package server

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/tracker"
)

// The admin service.

func (s *Server) Submit(ctx context.Context, req *pb.SubmitRequest) (*pb.SubmitResponse, error) {
	if err := refuseSecretsInClear(ctx, req.GetConfig(), req.GetConfigName()); err != nil {
		return nil, err
	}
	job, notes, err := s.m.Submit(ctx, req.GetConfig(), req.GetConfigName())
	if err != nil {
		return nil, s.toStatus("Submit", err)
	}
	return &pb.SubmitResponse{Job: job, Notes: notes}, nil
}

func (s *Server) Stat(ctx context.Context, req *pb.StatRequest) (*pb.StatResponse, error) {
	stats, err := s.m.Stat(req.GetJob())
	if err != nil {
		return nil, s.toStatus("Stat", err)
	}
	resp := &pb.StatResponse{Jobs: make([]*pb.JobStat, len(stats))}
	for i, st := range stats {
		resp.Jobs[i] = jobStat(st)
	}
	return resp, nil
}

func jobStat(s master.JobStat) *pb.JobStat {
	out := &pb.JobStat{Job: s.Job, State: s.State, Pass: s.Pass, PendingTasks: s.PendingTasks,
		DispatchedTasks: s.DispatchedTasks, RunningTasks: s.RunningTasks, SucceedTasks: s.SucceedTasks,
		FailedTasks: s.FailedTasks, ScanFinished: s.ScanFinished, Counters: counters(s.Counters),
		Checkpoint: ts(s.Checkpoint), BytesPerSecondLimit: s.BytesPerSecondLimit,
		ObjectsPerSecondLimit: s.ObjectsPerSecondLimit, Source: s.Source, Dest: s.Dest,
		StaleRefused: s.StaleRefused}
	for _, r := range s.Running {
		out.Running = append(out.Running, &pb.RunningTask{Shard: r.Shard, Worker: r.Worker, Attempt: int32(r.Attempt),
			Objects: r.Objects, ObjectsDone: r.ObjectsDone, Bytes: r.Bytes, BytesDone: r.BytesDone,
			LeaseExpires: ts(r.LeaseExpires)})
	}
	return out
}

func counters(c tracker.Counters) *pb.Counters {
	out := &pb.Counters{Scanned: c.Scanned, ScannedBytes: c.ScannedBytes, Verified: c.Verified,
		VerifiedBytes: c.VerifiedBytes, Skipped: c.Skipped, SkippedBytes: c.SkippedBytes, Failed: c.Failed,
		FailedBytes: c.FailedBytes, BytesRead: c.BytesRead, BytesSent: c.BytesSent, Shards: c.Shards,
		ShardsDone: c.ShardsDone, ShardsFailed: c.ShardsFailed}
	if len(c.Methods) > 0 {
		out.Methods = make(map[string]int64, len(c.Methods))
		for m, n := range c.Methods {
			out.Methods[string(m)] = n
		}
	}
	return out
}

func (s *Server) ListWorkers(ctx context.Context, req *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	ws := s.m.Workers()
	resp := &pb.ListWorkersResponse{Workers: make([]*pb.WorkerInfo, len(ws))}
	for i, w := range ws {
		resp.Workers[i] = &pb.WorkerInfo{Worker: w.Worker, Hostname: w.Hostname, Address: w.Address,
			Concurrency: int32(w.Concurrency), Leases: int32(w.Leases), ObjectsPerSecond: w.ObjectsPerSecond,
			BytesPerSecond: w.BytesPerSecond, LastHeartbeat: ts(w.LastSeen), Alive: w.Alive}
	}
	return resp, nil
}

func (s *Server) Failed(ctx context.Context, req *pb.FailedRequest) (*pb.FailedResponse, error) {
	if req.GetLimit() < 0 {
		return nil, invalid("failed: limit %d: give 0 (all) or a positive number", req.GetLimit())
	}
	es, err := s.m.Failed(req.GetJob(), int(req.GetLimit()))
	if err != nil {
		return nil, s.toStatus("Failed", err)
	}
	resp := &pb.FailedResponse{Objects: make([]*pb.FailedObject, len(es))}
	for i, e := range es {
		resp.Objects[i] = &pb.FailedObject{Key: e.Key, Dest: e.Dest, Size: e.Size, Class: e.Class,
			Error: e.Reason, Attempts: int32(e.Attempts)}
	}
	return resp, nil
}

func (s *Server) Retry(ctx context.Context, req *pb.JobRequest) (*pb.RetryResponse, error) {
	n, err := s.m.Retry(ctx, req.GetJob())
	if err != nil {
		return nil, s.toStatus("Retry", err)
	}
	return &pb.RetryResponse{Job: req.GetJob(), Requeued: int64(n)}, nil
}

func (s *Server) Pause(ctx context.Context, req *pb.JobRequest) (*pb.JobResponse, error) {
	return s.jobOp(ctx, "Pause", req.GetJob(), s.m.Pause)
}

func (s *Server) Resume(ctx context.Context, req *pb.JobRequest) (*pb.JobResponse, error) {
	return s.jobOp(ctx, "Resume", req.GetJob(), s.m.Resume)
}

func (s *Server) Cancel(ctx context.Context, req *pb.JobRequest) (*pb.JobResponse, error) {
	return s.jobOp(ctx, "Cancel", req.GetJob(), s.m.Cancel)
}

// Clean answers state "cleaned": the job is gone.
func (s *Server) Clean(ctx context.Context, req *pb.JobRequest) (*pb.JobResponse, error) {
	if err := s.m.Clean(ctx, req.GetJob()); err != nil {
		return nil, s.toStatus("Clean", err)
	}
	return &pb.JobResponse{Job: req.GetJob(), State: "cleaned"}, nil
}

func (s *Server) SetThrottle(ctx context.Context, req *pb.SetThrottleRequest) (*pb.JobResponse, error) {
	return s.jobOp(ctx, "SetThrottle", req.GetJob(), func(ctx context.Context, job string) error {
		return s.m.SetThrottle(ctx, job, req.GetBytesPerSecond(), req.GetObjectsPerSecond())
	})
}

// jobOp runs op and answers the job's state after it.
func (s *Server) jobOp(ctx context.Context, method, job string, op func(context.Context, string) error) (*pb.JobResponse, error) {
	if err := op(ctx, job); err != nil {
		return nil, s.toStatus(method, err)
	}
	state, err := s.m.State(job)
	if err != nil {
		return nil, s.toStatus(method, err)
	}
	return &pb.JobResponse{Job: job, State: state}, nil
}

// ts converts a time; the zero time (never, unknown) is left unset.
func ts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
