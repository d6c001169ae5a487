// Package client is a worker's gRPC edge: it satisfies worker.Master over
// the network for `ferry worker`, and builds each job's copier from the
// config the master hands out. It is the only worker code that imports
// proto and internal/wire (DESIGN §2); worker itself stays transport-free.
//
// Every call rides out an unreachable master: codes.Unavailable and
// DeadlineExceeded are retried with capped exponential backoff until the
// caller's context ends, so the agent above sees a slow call, not a
// failure, while the master restarts. A refused cluster token fails at once
// with ErrTokenRefused.
package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/worker"
)

// Defaults for zero Options fields.
const (
	DefaultCallTimeout = 30 * time.Second
	DefaultMaxBackoff  = 10 * time.Second
	// DefaultHeartbeat is used when the master does not say.
	DefaultHeartbeat = 5 * time.Second
	// unreachableLogEvery spaces the "master unreachable" warnings: a
	// master away for an hour must not flood the log.
	unreachableLogEvery = 10 * time.Second
	initialBackoff      = 100 * time.Millisecond
	maxMessage          = 256 << 20
)

// ErrTokenRefused is what every call returns when the master answers
// Unauthenticated. It wraps storage.ErrAuth, so storage.Classify calls it
// Fatal and the agent stops instead of retrying forever.
var ErrTokenRefused = fmt.Errorf("the master refused our cluster token (--token-file or FERRY_TOKEN must hold the master's token): %w", storage.ErrAuth)

// ErrUntrusted is what Dial returns when TLS verification of the master
// fails: retrying cannot help until the flags change.
var ErrUntrusted = errors.New("the master's TLS certificate is not trusted: give --tls-ca the CA that signed it, " +
	"and --server-name the name it was issued for if that is not the host dialled")

// untrusted recognises a failed verification of the master's certificate.
// gRPC reports it as Unavailable with the TLS error only in the text.
func untrusted(err error) bool {
	msg := status.Convert(err).Message()
	return strings.Contains(msg, "x509: ") || strings.Contains(msg, "tls: failed to verify")
}

// Options describe this worker to the master.
type Options struct {
	Name        string // unique in the cluster (required)
	Hostname    string
	Concurrency int
	Version     string
	Log         *slog.Logger
	// CallTimeout bounds one attempt of an RPC (default 30 s).
	CallTimeout time.Duration
	// MaxBackoff caps the wait between attempts while the master is
	// unreachable, and the connection's reconnect backoff (default 10 s).
	MaxBackoff time.Duration
	// Observer, if set, hears of the bytes, retries and SlowDowns of every
	// job's copier (metrics).
	Observer worker.Observer
}

// Client talks to one master for one worker. It implements worker.Master
// (the worker argument of its methods is ignored: it speaks for
// Options.Name, the name it registered). Safe for concurrent use.
type Client struct {
	opt  Options
	log  *slog.Logger
	conn *grpc.ClientConn
	rpc  pb.WorkerServiceClient

	mu             sync.Mutex
	masterID       string
	heartbeatEvery time.Duration
	leaseTTL       time.Duration
	lastBeat       time.Time
	lastWarn       time.Time // of "master unreachable"

	bytesSent, objectsDone, slowdowns atomic.Int64 // since the last heartbeat
	// lastContact: when the master last answered a register or a
	// heartbeat (Unix ns; 0 before), for the worker's readiness.
	lastContact atomic.Int64
	// starting is set during Dial: a certificate the worker does not trust
	// is then a mistake in its flags, reported at once, not waited out.
	starting atomic.Bool

	jobsMu sync.Mutex
	jobs   map[string]*jobEntry
}

// Dial connects to the master at addr and registers. It waits for an
// unreachable master (logging so) until ctx ends; a refused token, or bad
// security settings, fail at once.
func Dial(ctx context.Context, addr string, sec rpcauth.Config, opt Options) (*Client, error) {
	if opt.Name == "" {
		return nil, errors.New("worker client: no worker name")
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.CallTimeout <= 0 {
		opt.CallTimeout = DefaultCallTimeout
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = DefaultMaxBackoff
	}
	dial, err := rpcauth.DialOptions(sec)
	if err != nil {
		return nil, fmt.Errorf("worker client: %w", err)
	}
	// gRPC's own reconnect backoff grows to two minutes by default: a
	// master back after a restart would then idle its workers for that
	// long. Cap it like the calls' backoff.
	bc := backoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = min(bc.BaseDelay, opt.MaxBackoff), opt.MaxBackoff
	dial = append(dial, grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: 20 * time.Second}),
		// A grant carries its shard's object list: 10,000 objects with
		// long keys exceed gRPC's default 4 MiB, and a grant refused for
		// size would be leased again and again, never copied.
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)))
	conn, err := grpc.NewClient(addr, dial...)
	if err != nil {
		return nil, fmt.Errorf("worker client: master %s: %w", addr, err)
	}
	c := &Client{opt: opt, log: opt.Log.With("master", addr), conn: conn, rpc: pb.NewWorkerServiceClient(conn),
		jobs: map[string]*jobEntry{}, heartbeatEvery: DefaultHeartbeat}
	c.starting.Store(true)
	defer c.starting.Store(false)
	if err := c.register(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return c, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// HeartbeatEvery is how often the master wants heartbeats (Renew), as it
// said when we registered.
func (c *Client) HeartbeatEvery() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heartbeatEvery
}

// LeaseTTL is how long the master's leases last without renewal (0 if it
// did not say).
func (c *Client) LeaseTTL() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leaseTTL
}

// register announces the worker; again when a heartbeat says the master
// does not know us (it restarted).
func (c *Client) register(ctx context.Context) error {
	req := &pb.RegisterRequest{Worker: c.opt.Name, Concurrency: int32(c.opt.Concurrency), Version: c.opt.Version, Hostname: c.opt.Hostname}
	var resp *pb.RegisterResponse
	err := c.call(ctx, "register", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Register(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if d := resp.GetHeartbeatEvery().AsDuration(); d > 0 {
		c.heartbeatEvery = d
	}
	c.leaseTTL = resp.GetLeaseTtl().AsDuration()
	if c.masterID != "" && c.masterID != resp.GetMasterId() {
		c.log.Info("master restarted; registered again", "master_id", resp.GetMasterId())
	} else {
		c.log.Info("registered with master", "worker", c.opt.Name, "master_id", resp.GetMasterId(),
			"heartbeat_every", c.heartbeatEvery, "lease_ttl", c.leaseTTL)
	}
	c.masterID = resp.GetMasterId()
	c.lastContact.Store(time.Now().UnixNano())
	return nil
}

// LastContact is when the master last answered a register or a
// heartbeat; zero before the first answer.
func (c *Client) LastContact() time.Time {
	if ns := c.lastContact.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// call runs one RPC (f, given a per-attempt timeout), retrying while the
// master is unreachable until ctx ends. Errors come back wrapped so that
// storage.Classify reads them right: a refused token is Fatal
// (ErrTokenRefused), the end of ctx is Canceled, and whatever the master
// answered is Permanent (the agent bounds its retries of those: a shard
// whose ack the master keeps failing must not be held forever).
func (c *Client) call(ctx context.Context, op string, f func(context.Context) error) error {
	return c.callWaiting(ctx, op, 0, f)
}

// callWaiting is call for an RPC the master may hold open up to wait by
// design (a lease waiting for a shard): each attempt gets wait on top of
// the call timeout.
func (c *Client) callWaiting(ctx context.Context, op string, wait time.Duration, f func(context.Context) error) error {
	var away time.Time // when this call first found the master unreachable
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.opt.CallTimeout+wait)
		err := f(actx)
		cancel()
		if err == nil {
			if !away.IsZero() {
				c.log.Info("master reachable again", "op", op, "after", time.Since(away).Round(time.Millisecond))
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (last error: %v)", op, ctx.Err(), err)
		}
		switch status.Code(err) {
		case codes.Unavailable, codes.DeadlineExceeded:
			if c.starting.Load() && untrusted(err) {
				return fmt.Errorf("%s: %w: %w", op, ErrUntrusted, err)
			}
		case codes.Unauthenticated:
			return fmt.Errorf("%s: %w", op, ErrTokenRefused)
		default:
			return fmt.Errorf("%s: %w", op, err)
		}
		if away.IsZero() {
			away = time.Now()
		}
		wait := c.backoff(attempt)
		c.warnUnreachable(op, err, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (master unreachable: %v)", op, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// storeErr marks the master's server-side failures of upload-state calls
// (Internal, Aborted, ResourceExhausted) as storage.ErrUnavailable: the
// copier then retries the object's attempt rather than failing the object
// for good over a hiccup of the master's database.
func storeErr(err error) error {
	switch status.Code(err) {
	case codes.Internal, codes.Aborted, codes.ResourceExhausted:
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// backoff is exponential with full jitter in its upper half, capped at
// MaxBackoff: workers that lost the master together do not return to it
// in lockstep.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.opt.MaxBackoff
	if attempt < 30 {
		d = min(d, initialBackoff<<attempt)
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (c *Client) warnUnreachable(op string, err error, wait time.Duration) {
	c.mu.Lock()
	now := time.Now()
	warn := now.Sub(c.lastWarn) >= unreachableLogEvery
	if warn {
		c.lastWarn = now
	}
	c.mu.Unlock()
	if warn {
		c.log.Warn("master unreachable, retrying", "op", op, "err", err, "next_in", wait.Round(time.Millisecond))
	} else {
		c.log.Debug("master unreachable, retrying", "op", op, "err", err, "next_in", wait.Round(time.Millisecond))
	}
}

// takeStats returns a heartbeat carrying the stats since the last one
// (interval 0 on the first: the master then measures it itself), resets
// them, and returns the previous heartbeat's time for restoreStats.
func (c *Client) takeStats(now time.Time) (req *pb.HeartbeatRequest, prev time.Time) {
	c.mu.Lock()
	prev = c.lastBeat
	var interval time.Duration
	if !prev.IsZero() {
		interval = now.Sub(prev)
	}
	c.lastBeat = now
	c.mu.Unlock()
	return &pb.HeartbeatRequest{Worker: c.opt.Name, BytesSent: c.bytesSent.Swap(0), ObjectsDone: c.objectsDone.Swap(0),
		Slowdowns: c.slowdowns.Swap(0), Interval: durationpb.New(interval)}, prev
}

// restoreStats puts back the stats of a heartbeat that was not delivered,
// so the next one covers both intervals.
func (c *Client) restoreStats(req *pb.HeartbeatRequest, prev time.Time) {
	c.bytesSent.Add(req.GetBytesSent())
	c.objectsDone.Add(req.GetObjectsDone())
	c.slowdowns.Add(req.GetSlowdowns())
	c.mu.Lock()
	c.lastBeat = prev
	c.mu.Unlock()
}
