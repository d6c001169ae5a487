package server

import (
	"context"
	"errors"

	"google.golang.org/grpc/peer"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ferry-migrate/ferry/internal/wire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
)

// The worker service: one Manager call per RPC.

func (s *Server) Register(ctx context.Context, req *pb.RegisterRequest) (*pb.RegisterResponse, error) {
	r := master.Registration{Worker: req.GetWorker(), Hostname: req.GetHostname(), Version: req.GetVersion(),
		Concurrency: int(req.GetConcurrency())}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		r.Address = p.Addr.String()
	}
	if err := s.m.Register(ctx, r); err != nil {
		return nil, s.toStatus("Register", err)
	}
	return &pb.RegisterResponse{HeartbeatEvery: durationpb.New(s.m.HeartbeatEvery()),
		LeaseTtl: durationpb.New(s.m.LeaseTTL()), MasterId: s.m.ID()}, nil
}

func (s *Server) Heartbeat(ctx context.Context, req *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	held := wire.ToLeases(req.GetLeases())
	stats := master.WorkerStats{BytesSent: req.GetBytesSent(), ObjectsDone: req.GetObjectsDone(),
		Slowdowns: req.GetSlowdowns(), Interval: req.GetInterval().AsDuration()}
	lost, thr, rereg, err := s.m.Heartbeat(ctx, req.GetWorker(), held, stats)
	if err != nil {
		return nil, s.toStatus("Heartbeat", err)
	}
	resp := &pb.HeartbeatResponse{Reregister: rereg, Lost: wire.Leases(lost)}
	for _, t := range thr {
		resp.Throttles = append(resp.Throttles, &pb.Throttle{Job: t.Job, BytesPerSecond: t.BytesPerSecond,
			ObjectsPerSecond: t.ObjectsPerSecond, KeysGeneration: t.KeysGeneration})
	}
	return resp, nil
}

func (s *Server) Lease(ctx context.Context, req *pb.LeaseRequest) (*pb.LeaseResponse, error) {
	gs, err := s.m.LeaseWait(ctx, req.GetWorker(), int(req.GetMax()), req.GetWait().AsDuration())
	if err != nil {
		return nil, s.toStatus("Lease", err)
	}
	resp := &pb.LeaseResponse{Grants: make([]*pb.Grant, len(gs))}
	for i, g := range gs {
		resp.Grants[i] = wire.Grant(g)
	}
	return resp, nil
}

func (s *Server) Report(ctx context.Context, req *pb.ReportRequest) (*pb.ReportResponse, error) {
	lease := task.LeaseRef{Job: req.GetJob(), Pass: req.GetPass(), Token: req.GetToken(), Shard: req.GetShard()}
	err := s.m.Report(ctx, req.GetWorker(), lease, wire.ToResults(req.GetResults()))
	if errors.Is(err, master.ErrStale) {
		return &pb.ReportResponse{Stale: true}, nil
	}
	if err != nil {
		return nil, s.toStatus("Report", err)
	}
	return &pb.ReportResponse{}, nil
}

func (s *Server) Ack(ctx context.Context, req *pb.AckRequest) (*pb.AckResponse, error) {
	stale, err := s.m.Ack(ctx, req.GetWorker(), task.LeaseRef{Job: req.GetJob(), Pass: req.GetPass(), Token: req.GetToken(), Shard: req.GetShard()})
	if err != nil {
		return nil, s.toStatus("Ack", err)
	}
	return &pb.AckResponse{Stale: stale}, nil
}

func (s *Server) Nack(ctx context.Context, req *pb.NackRequest) (*pb.NackResponse, error) {
	stale, err := s.m.Nack(ctx, req.GetWorker(), task.LeaseRef{Job: req.GetJob(), Pass: req.GetPass(), Token: req.GetToken(), Shard: req.GetShard()}, req.GetReason())
	if err != nil {
		return nil, s.toStatus("Nack", err)
	}
	return &pb.NackResponse{Stale: stale}, nil
}

// GetJob sends the job's config with its credentials: rpcauth already
// checked the cluster token, and refuses plaintext unless the operator
// chose --insecure.
func (s *Server) GetJob(ctx context.Context, req *pb.GetJobRequest) (*pb.GetJobResponse, error) {
	// The generation before the text: a change in between sends new keys
	// with the old generation, and the worker fetches once more.
	gen, err := s.m.KeysGeneration(req.GetJob())
	if err != nil {
		return nil, s.toStatus("GetJob", err)
	}
	text, err := s.m.JobConfig(req.GetJob())
	if err != nil {
		return nil, s.toStatus("GetJob", err)
	}
	if err := refuseSecretsInClear(ctx, text, req.GetJob()+".cfg"); err != nil {
		return nil, err
	}
	resp := &pb.GetJobResponse{Job: req.GetJob(), Config: text, KeysGeneration: gen}
	if enforced, known := s.m.CreateOnlyEnforced(req.GetJob()); known {
		resp.CreateOnlyEnforced = &enforced
	}
	return resp, nil
}

func (s *Server) LoadUpload(ctx context.Context, req *pb.LoadUploadRequest) (*pb.LoadUploadResponse, error) {
	u, ok, err := s.m.LoadUpload(ctx, req.GetJob(), req.GetKey())
	if err != nil {
		return nil, s.toStatus("LoadUpload", err)
	}
	if !ok {
		return &pb.LoadUploadResponse{}, nil
	}
	return &pb.LoadUploadResponse{Found: true, State: wire.Upload(u)}, nil
}

func (s *Server) SaveUpload(ctx context.Context, req *pb.SaveUploadRequest) (*pb.SaveUploadResponse, error) {
	if req.GetState() == nil {
		return nil, invalid("save upload: no state")
	}
	if err := s.m.SaveUpload(ctx, wire.ToUpload(req.GetState())); err != nil {
		return nil, s.toStatus("SaveUpload", err)
	}
	return &pb.SaveUploadResponse{}, nil
}

func (s *Server) DropUpload(ctx context.Context, req *pb.DropUploadRequest) (*pb.DropUploadResponse, error) {
	if err := s.m.DropUpload(ctx, req.GetJob(), req.GetKey()); err != nil {
		return nil, s.toStatus("DropUpload", err)
	}
	return &pb.DropUploadResponse{}, nil
}
