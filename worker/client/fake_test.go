package client

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

const testToken = "0123456789abcdef-worker-client-test"

// fakeMaster is an in-memory WorkerServiceServer that records what it is
// told. Its state outlives the gRPC servers in front of it, so a test can
// stop the server and start another on the same address: a master that
// was unreachable for a while.
type fakeMaster struct {
	pb.UnimplementedWorkerServiceServer

	mu         sync.Mutex
	registers  []*pb.RegisterRequest
	heartbeats []*pb.HeartbeatRequest
	queue      []*pb.Grant
	// leaseWaits and leaseLeft: each Lease's wait, and the time its
	// deadline left it on arrival.
	leaseWaits, leaseLeft []time.Duration
	reports               []*pb.ReportRequest
	results               map[uint64]map[string]*pb.Result // by token, key: reports are idempotent
	acks                  []*pb.AckRequest
	nacks                 []*pb.NackRequest
	stale                 map[uint64]bool // tokens whose ack is stale
	staleReport           map[uint64]bool // Report answers stale for these tokens
	lost                  []*pb.HeldLease // answered by the next heartbeat
	throttles             []*pb.Throttle  // answered by every heartbeat
	reregister            int             // answer reregister this many times
	configs               map[string]string
	keysGens              map[string]uint64 // GetJob's keys_generation by job
	createOnly            map[string]*bool  // GetJob's create_only_enforced by job
	getJobs               int
	uploads               map[string]*pb.UploadState
	saves                 int
	saveErr               error  // answered by SaveUpload instead of saving
	onReport              func() // called (without mu) after a report is recorded
}

func newFakeMaster() *fakeMaster {
	return &fakeMaster{results: map[uint64]map[string]*pb.Result{}, stale: map[uint64]bool{},
		configs: map[string]string{}, keysGens: map[string]uint64{}, createOnly: map[string]*bool{}, uploads: map[string]*pb.UploadState{}}
}

func (f *fakeMaster) Register(_ context.Context, r *pb.RegisterRequest) (*pb.RegisterResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registers = append(f.registers, r)
	return &pb.RegisterResponse{HeartbeatEvery: durationpb.New(50 * time.Millisecond), LeaseTtl: durationpb.New(time.Minute), MasterId: "m1"}, nil
}

func (f *fakeMaster) Heartbeat(_ context.Context, r *pb.HeartbeatRequest) (*pb.HeartbeatResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.heartbeats = append(f.heartbeats, r)
	if f.reregister > 0 {
		// A real master answers lost leases too; this one keeps them for
		// the heartbeat after the worker registered again.
		f.reregister--
		return &pb.HeartbeatResponse{Throttles: f.throttles, Reregister: true}, nil
	}
	resp := &pb.HeartbeatResponse{Lost: f.lost, Throttles: f.throttles}
	f.lost = nil
	return resp, nil
}

func (f *fakeMaster) Lease(ctx context.Context, r *pb.LeaseRequest) (*pb.LeaseResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.leaseWaits = append(f.leaseWaits, r.GetWait().AsDuration())
	if dl, ok := ctx.Deadline(); ok {
		f.leaseLeft = append(f.leaseLeft, time.Until(dl))
	}
	n := min(int(r.GetMax()), len(f.queue))
	g := f.queue[:n]
	f.queue = f.queue[n:]
	return &pb.LeaseResponse{Grants: g}, nil
}

func (f *fakeMaster) Report(_ context.Context, r *pb.ReportRequest) (*pb.ReportResponse, error) {
	f.mu.Lock()
	f.reports = append(f.reports, r)
	if f.staleReport[r.GetToken()] {
		f.mu.Unlock()
		return &pb.ReportResponse{Stale: true}, nil
	}
	m := f.results[r.GetToken()]
	if m == nil {
		m = map[string]*pb.Result{}
		f.results[r.GetToken()] = m
	}
	for _, res := range r.GetResults() {
		m[res.GetKey()] = res
	}
	hook := f.onReport
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	return &pb.ReportResponse{}, nil
}

func (f *fakeMaster) Ack(_ context.Context, r *pb.AckRequest) (*pb.AckResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, r)
	return &pb.AckResponse{Stale: f.stale[r.GetToken()]}, nil
}

func (f *fakeMaster) Nack(_ context.Context, r *pb.NackRequest) (*pb.NackResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nacks = append(f.nacks, r)
	return &pb.NackResponse{}, nil
}

func (f *fakeMaster) GetJob(_ context.Context, r *pb.GetJobRequest) (*pb.GetJobResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.getJobs++
	return &pb.GetJobResponse{Job: r.GetJob(), Config: f.configs[r.GetJob()], KeysGeneration: f.keysGens[r.GetJob()],
		CreateOnlyEnforced: f.createOnly[r.GetJob()]}, nil
}

func (f *fakeMaster) LoadUpload(_ context.Context, r *pb.LoadUploadRequest) (*pb.LoadUploadResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, ok := f.uploads[r.GetJob()+"\x00"+r.GetKey()]
	return &pb.LoadUploadResponse{Found: ok, State: st}, nil
}

func (f *fakeMaster) SaveUpload(_ context.Context, r *pb.SaveUploadRequest) (*pb.SaveUploadResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saveErr != nil {
		return nil, f.saveErr
	}
	f.saves++
	f.uploads[r.GetState().GetJob()+"\x00"+r.GetState().GetKey()] = proto.Clone(r.GetState()).(*pb.UploadState)
	return &pb.SaveUploadResponse{}, nil
}

func (f *fakeMaster) DropUpload(_ context.Context, r *pb.DropUploadRequest) (*pb.DropUploadResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.uploads, r.GetJob()+"\x00"+r.GetKey())
	return &pb.DropUploadResponse{}, nil
}

// serve puts a TLS gRPC server with the token check in front of f, on addr
// ("127.0.0.1:0" for any port), and returns it and its address.
func serve(t *testing.T, f *fakeMaster, cert *testserver.Cert, addr, token string) (*grpc.Server, string) {
	t.Helper()
	opts, err := rpcauth.ServerOptions(rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: token}, nil)
	require.NoError(t, err)
	s := grpc.NewServer(opts...)
	pb.RegisterWorkerServiceServer(s, f)
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return s, l.Addr().String()
}

// dial connects a client named w1 with test-sized backoffs.
func dial(t *testing.T, addr string, cert *testserver.Cert, log *slog.Logger) *Client {
	t.Helper()
	sec := rpcauth.Config{CAFile: cert.CertFile, ServerName: "localhost", Token: testToken}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, sec, Options{Name: "w1", Hostname: "host1", Concurrency: 4, Version: "test",
		Log: log, MaxBackoff: 200 * time.Millisecond, CallTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// logBuf is a log sink tests can search, mirrored to t.Log.
type logBuf struct {
	t  *testing.T
	mu sync.Mutex
	b  bytes.Buffer
}

func newLog(t *testing.T) (*slog.Logger, *logBuf) {
	lb := &logBuf{t: t}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Log(strings.TrimSpace(string(p)))
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// do runs fn with the fake's state locked: the race detector does not see
// the network as synchronisation.
func (f *fakeMaster) do(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// mustFreeAddr returns a local address nothing listens on.
func mustFreeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func countOf(s, sub string) int { return strings.Count(s, sub) }
