package server

import (
	"context"

	"github.com/ferry-migrate/ferry/internal/wire/adminwire"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// The guided cutover: the Manager keeps its state and runs its passes.

func (s *Server) CutoverStart(ctx context.Context, req *pb.SubmitRequest) (*pb.CutoverResponse, error) {
	if err := refuseSecretsInClear(ctx, req.GetConfig(), req.GetConfigName()); err != nil {
		return nil, err
	}
	r, notes, err := s.m.CutoverStart(ctx, req.GetConfig(), req.GetConfigName())
	if err != nil {
		return nil, s.toStatus("CutoverStart", err)
	}
	return &pb.CutoverResponse{State: adminwire.CutoverState(r), Notes: notes}, nil
}

func (s *Server) CutoverSwitch(ctx context.Context, req *pb.CutoverSwitchRequest) (*pb.CutoverResponse, error) {
	r, notes, err := s.m.CutoverSwitch(ctx, req.GetJob(), req.GetAt())
	if err != nil {
		return nil, s.toStatus("CutoverSwitch", err)
	}
	return &pb.CutoverResponse{State: adminwire.CutoverState(r), Notes: notes}, nil
}

func (s *Server) CutoverStatus(ctx context.Context, req *pb.JobRequest) (*pb.CutoverResponse, error) {
	r, err := s.m.CutoverStatus(req.GetJob())
	if err != nil {
		return nil, s.toStatus("CutoverStatus", err)
	}
	return &pb.CutoverResponse{State: adminwire.CutoverState(r)}, nil
}

func (s *Server) CutoverReport(ctx context.Context, req *pb.CutoverReportRequest) (*pb.CutoverReportResponse, error) {
	if req.GetLimit() < 0 {
		return nil, invalid("cutover report: limit %d: give 0 (all) or a positive number", req.GetLimit())
	}
	r, err := s.m.CutoverReport(ctx, req.GetJob(), int(req.GetLimit()))
	if err != nil {
		return nil, s.toStatus("CutoverReport", err)
	}
	return adminwire.CutoverReport(r), nil
}
