// Package server is the master's gRPC edge: it serves the worker and
// admin services of proto/ferry/v1 by translating messages (internal/wire)
// to calls on a master.Manager, and the Manager's errors to status codes.
// It holds no state of its own. Transport security (TLS, cluster token)
// comes from internal/rpcauth.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage"
)

// Server implements pb.WorkerServiceServer and pb.AdminServiceServer.
type Server struct {
	pb.UnimplementedWorkerServiceServer
	pb.UnimplementedAdminServiceServer
	m   *master.Manager
	log *slog.Logger
}

var (
	_ pb.WorkerServiceServer = (*Server)(nil)
	_ pb.AdminServiceServer  = (*Server)(nil)
)

// New makes the services over m.
func New(m *master.Manager, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{m: m, log: log}
}

// stopGrace is how long Serve lets calls in progress finish at shutdown
// before cutting them (a worker retries what was cut).
const stopGrace = 5 * time.Second

// Serve serves both services on lis, secured by auth (TLS and the cluster
// token on every call, see rpcauth.ServerOptions), until ctx ends. It
// returns nil after a shutdown caused by ctx.
func (s *Server) Serve(ctx context.Context, lis net.Listener, auth rpcauth.Config) error {
	opts, err := rpcauth.ServerOptions(auth, s.log)
	if err != nil {
		lis.Close()
		return fmt.Errorf("master server: %w", err)
	}
	gs := grpc.NewServer(opts...)
	pb.RegisterWorkerServiceServer(gs, s)
	pb.RegisterAdminServiceServer(gs, s)
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	select {
	case err := <-served:
		return fmt.Errorf("master server: %w", err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		gs.Stop()
		<-stopped
	}
	<-served
	return nil
}

// toStatus maps a Manager error to a gRPC status. The messages are the
// Manager's, which never hold secrets; internal errors are logged too.
func (s *Server) toStatus(method string, err error) error {
	if err == nil {
		return nil
	}
	code := codes.Internal
	switch {
	case errors.Is(err, master.ErrUnknownJob):
		code = codes.NotFound
	case errors.Is(err, master.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, master.ErrJobExists):
		code = codes.AlreadyExists
	case errors.Is(err, master.ErrJobState):
		code = codes.FailedPrecondition
	case errors.Is(err, master.ErrCheck):
		// A storage that is down for a moment is worth retrying; a missing
		// bucket or a refused key needs the operator.
		code = codes.FailedPrecondition
		if storage.Classify(err) == storage.Retryable {
			code = codes.Unavailable
		}
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	}
	if code == codes.Internal {
		s.log.Error("rpc failed", "method", method, "err", err)
	}
	return status.Error(code, err.Error())
}

// invalid answers a malformed request.
func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
