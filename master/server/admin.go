package server

import (
	"context"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/wire/adminwire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
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
		resp.Jobs[i] = adminwire.JobStat(st)
	}
	return resp, nil
}

func (s *Server) ListWorkers(ctx context.Context, req *pb.ListWorkersRequest) (*pb.ListWorkersResponse, error) {
	ws := s.m.Workers()
	resp := &pb.ListWorkersResponse{Workers: make([]*pb.WorkerInfo, len(ws))}
	for i, w := range ws {
		resp.Workers[i] = adminwire.Worker(w)
	}
	return resp, nil
}

func (s *Server) Failed(ctx context.Context, req *pb.FailedRequest) (*pb.FailedResponse, error) {
	if req.GetLimit() < 0 {
		return nil, invalid("failed: limit %d: give 0 (all) or a positive number", req.GetLimit())
	}
	list := s.m.Failed
	if req.GetKept() {
		list = s.m.Kept
	}
	es, err := list(req.GetJob(), int(req.GetLimit()))
	if err != nil {
		return nil, s.toStatus("Failed", err)
	}
	resp := &pb.FailedResponse{Objects: make([]*pb.FailedObject, len(es))}
	for i, e := range es {
		resp.Objects[i] = adminwire.Failed(e)
	}
	return resp, nil
}

// Snapshots is authenticated as every admin call is, by the interceptor
// rpcauth installs for the whole service.
func (s *Server) Snapshots(ctx context.Context, req *pb.SnapshotsRequest) (*pb.SnapshotsResponse, error) {
	ss, err := s.m.Snapshots(req.GetJob())
	if err != nil {
		return nil, s.toStatus("Snapshots", err)
	}
	return adminwire.Snapshots(ss), nil
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
func (s *Server) Clean(ctx context.Context, req *pb.CleanRequest) (*pb.CleanResponse, error) {
	done, err := s.m.CleanJob(ctx, req.GetJob(), master.CleanOptions{Force: req.GetForce()})
	if err != nil {
		return nil, s.toStatus("Clean", err)
	}
	return adminwire.Cleaned(req.GetJob(), done), nil
}

func (s *Server) SetThrottle(ctx context.Context, req *pb.SetThrottleRequest) (*pb.JobResponse, error) {
	return s.jobOp(ctx, "SetThrottle", req.GetJob(), func(ctx context.Context, job string) error {
		return s.m.SetThrottle(ctx, job, req.GetBytesPerSecond(), req.GetObjectsPerSecond())
	})
}

// SetCredentials gives a running job new static keys (master.SetCredentials).
// Keys travel only over TLS, like a config that carries them.
func (s *Server) SetCredentials(ctx context.Context, req *pb.SetCredentialsRequest) (*pb.JobResponse, error) {
	if !overTLS(ctx) {
		return nil, status.Error(codes.FailedPrecondition, "this connection is not TLS (master run with --insecure): "+
			"keys are not sent in clear text; give the master and workers credentials in their environment instead")
	}
	return s.jobOp(ctx, "SetCredentials", req.GetJob(), func(ctx context.Context, job string) error {
		return s.m.SetCredentials(ctx, job, req.GetSide(), master.Keys{AccessKey: req.GetAccessKey(),
			SecretKey: req.GetSecretKey(), SessionToken: req.GetSecurityToken()})
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
