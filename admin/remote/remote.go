// Package remote is the admin.Client of a master: its gRPC admin service,
// with TLS and the cluster token (internal/rpcauth). It is a gRPC edge:
// the messages are converted by internal/wire/adminwire, and nothing
// outside it sees them.
package remote

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/wire/adminwire"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Client talks to one master. Safe for concurrent use.
type Client struct {
	addr    string
	conn    *grpc.ClientConn
	c       pb.AdminServiceClient
	timeout time.Duration
}

var _ admin.Client = (*Client)(nil)

// DefaultTimeout bounds each call unless Dial is told otherwise: an admin
// command should answer or say why, not hang on a master that is away.
const DefaultTimeout = 30 * time.Second

// Dial prepares a client of the master at addr (host:port); the
// connection is made at the first call. timeout bounds each call (0:
// DefaultTimeout).
func Dial(addr string, auth rpcauth.Config, timeout time.Duration) (*Client, error) {
	opts, err := rpcauth.DialOptions(auth)
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("master %s: %w", addr, err)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Client{addr: addr, conn: conn, c: pb.NewAdminServiceClient(conn), timeout: timeout}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// call makes one bounded call; a failure comes back in an operator's
// words (see rpcErr).
func call[T any](ctx context.Context, c *Client, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := f(ctx)
	if err != nil {
		var zero T
		return zero, rpcErr(c.addr, err)
	}
	return v, nil
}

// rpcErr turns a gRPC status into a message for an operator; a missing
// job wraps master.ErrUnknownJob, as with admin.Local.
func rpcErr(addr string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("master %s refused our cluster token (check --token-file / FERRY_TOKEN)", addr)
	case codes.Unavailable:
		return fmt.Errorf("master %s unreachable: %s", addr, st.Message())
	case codes.NotFound:
		return fmt.Errorf("master %s: %s: %w", addr, st.Message(), master.ErrUnknownJob)
	default:
		return fmt.Errorf("master %s: %s", addr, st.Message())
	}
}

func (c *Client) Submit(ctx context.Context, text, name string) (string, []string, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.SubmitResponse, error) {
		return c.c.Submit(ctx, &pb.SubmitRequest{Config: text, ConfigName: name})
	})
	if err != nil {
		return "", nil, err
	}
	return r.GetJob(), r.GetNotes(), nil
}

// Stat's jobs are live: the master runs them.
func (c *Client) Stat(ctx context.Context, job string) ([]admin.JobStat, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.StatResponse, error) {
		return c.c.Stat(ctx, &pb.StatRequest{Job: job})
	})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]admin.JobStat, len(r.GetJobs()))
	for i, j := range r.GetJobs() {
		out[i] = admin.JobStat{JobStat: adminwire.ToJobStat(j), Live: true, Updated: now}
	}
	return out, nil
}

func (c *Client) Failed(ctx context.Context, job string, limit int) ([]tracker.Entry, error) {
	return c.entries(ctx, &pb.FailedRequest{Job: job, Limit: int32(min(limit, 1<<31-1))})
}

func (c *Client) Kept(ctx context.Context, job string, limit int) ([]tracker.Entry, error) {
	return c.entries(ctx, &pb.FailedRequest{Job: job, Limit: int32(min(limit, 1<<31-1)), Kept: true})
}

// entries asks for the failed or (req.Kept) the kept objects.
func (c *Client) entries(ctx context.Context, req *pb.FailedRequest) ([]tracker.Entry, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.FailedResponse, error) {
		return c.c.Failed(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	out := make([]tracker.Entry, len(r.GetObjects()))
	for i, o := range r.GetObjects() {
		out[i] = adminwire.ToFailed(o)
		if req.GetKept() {
			out[i].Status, out[i].Outcome = task.StatusSkipped, task.OutcomeKept
		}
	}
	return out, nil
}

func (c *Client) Snapshots(ctx context.Context, job string) ([]master.SnapshotInfo, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.SnapshotsResponse, error) {
		return c.c.Snapshots(ctx, &pb.SnapshotsRequest{Job: job})
	})
	if err != nil {
		return nil, err
	}
	return adminwire.ToSnapshots(r), nil
}

func (c *Client) Retry(ctx context.Context, job string) (int, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.RetryResponse, error) {
		return c.c.Retry(ctx, &pb.JobRequest{Job: job})
	})
	if err != nil {
		return 0, err
	}
	return int(r.GetRequeued()), nil
}

// Clean aborts uploads with the config the master was submitted; a
// ConfigFile here is refused rather than ignored.
func (c *Client) Clean(ctx context.Context, job string, opt admin.CleanOptions) (master.Cleaned, error) {
	if opt.ConfigFile != "" {
		return master.Cleaned{}, fmt.Errorf("clean %q: %s: a master aborts the job's uploads with the config it was submitted; give no config file", job, opt.ConfigFile)
	}
	r, err := call(ctx, c, func(ctx context.Context) (*pb.CleanResponse, error) {
		return c.c.Clean(ctx, &pb.CleanRequest{Job: job, Force: opt.Force})
	})
	if err != nil {
		return master.Cleaned{}, err
	}
	return adminwire.ToCleaned(r), nil
}

func (c *Client) Pause(ctx context.Context, job string) (string, error) {
	return c.jobCall(ctx, job, c.c.Pause)
}

func (c *Client) Resume(ctx context.Context, job string) (string, error) {
	return c.jobCall(ctx, job, c.c.Resume)
}

func (c *Client) Cancel(ctx context.Context, job string) (string, error) {
	return c.jobCall(ctx, job, c.c.Cancel)
}

func (c *Client) SetCredentials(ctx context.Context, job, side string, k master.Keys) (string, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.JobResponse, error) {
		return c.c.SetCredentials(ctx, &pb.SetCredentialsRequest{Job: job, Side: side,
			AccessKey: k.AccessKey, SecretKey: k.SecretKey, SecurityToken: k.SessionToken})
	})
	if err != nil {
		return "", err
	}
	return r.GetState(), nil
}

func (c *Client) Throttle(ctx context.Context, job string, bytesPerSecond int64, objectsPerSecond float64) (string, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.JobResponse, error) {
		return c.c.SetThrottle(ctx, &pb.SetThrottleRequest{Job: job, BytesPerSecond: bytesPerSecond, ObjectsPerSecond: objectsPerSecond})
	})
	if err != nil {
		return "", err
	}
	return r.GetState(), nil
}

func (c *Client) Workers(ctx context.Context) ([]master.WorkerInfo, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.ListWorkersResponse, error) {
		return c.c.ListWorkers(ctx, &pb.ListWorkersRequest{})
	})
	if err != nil {
		return nil, err
	}
	out := make([]master.WorkerInfo, len(r.GetWorkers()))
	for i, w := range r.GetWorkers() {
		out[i] = adminwire.ToWorker(w)
	}
	return out, nil
}

// jobCall makes a call that takes a job and answers its state.
func (c *Client) jobCall(ctx context.Context, job string,
	rpc func(context.Context, *pb.JobRequest, ...grpc.CallOption) (*pb.JobResponse, error)) (string, error) {
	r, err := call(ctx, c, func(ctx context.Context) (*pb.JobResponse, error) {
		return rpc(ctx, &pb.JobRequest{Job: job})
	})
	if err != nil {
		return "", err
	}
	return r.GetState(), nil
}
