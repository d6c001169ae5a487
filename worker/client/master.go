package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/ferry-migrate/ferry/internal/wire"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

var _ worker.Master = (*Client)(nil)

// Lease asks for up to max shards of any job. An empty answer means no
// work now; the master never answers "finished" to a cluster worker.
func (c *Client) Lease(ctx context.Context, _ string, max int, wait time.Duration) ([]task.Grant, error) {
	req := &pb.LeaseRequest{Worker: c.opt.Name, Max: int32(max)}
	if wait > 0 {
		req.Wait = durationpb.New(wait)
	}
	var resp *pb.LeaseResponse
	// The master may hold the call for wait: that is not the master being
	// slow, so it does not count against the call's timeout.
	err := c.callWaiting(ctx, "lease", wait, func(ctx context.Context) (err error) {
		resp, err = c.rpc.Lease(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]task.Grant, 0, len(resp.GetGrants()))
	for _, pg := range resp.GetGrants() {
		g := wire.ToGrant(pg)
		g.Worker = c.opt.Name
		out = append(out, g)
	}
	return out, nil
}

// Renew is the heartbeat: it renews the leases the agent holds, sends the
// throughput since the last one, applies the job throttle shares it gets
// back, re-registers if the master asks, and returns the lost tokens.
func (c *Client) Renew(ctx context.Context, _ string, held []task.LeaseRef) ([]uint64, error) {
	return c.heartbeat(ctx, wire.Leases(held))
}

// heartbeat sends one heartbeat (two if the master asks us to register
// first) and returns the tokens it says are lost. A heartbeat renews
// only the leases it lists: one sent without them (for a throttle share)
// takes none away.
func (c *Client) heartbeat(ctx context.Context, held []*pb.HeldLease) ([]uint64, error) {
	req, prev := c.takeStats(time.Now())
	req.Leases = held
	send := func() (resp *pb.HeartbeatResponse, err error) {
		err = c.call(ctx, "heartbeat", func(ctx context.Context) (err error) {
			resp, err = c.rpc.Heartbeat(ctx, req)
			return err
		})
		return resp, err
	}
	resp, err := send()
	if err == nil && resp.GetReregister() {
		// The master restarted (or declared us dead and forgot us). Our
		// leases from before are void there; it says which in the answer
		// to the heartbeat we repeat once registered, stats included (the
		// master that did not know us did not count them).
		c.log.Info("the master does not know this worker; registering again")
		if err = c.register(ctx); err == nil {
			resp, err = send()
		}
	}
	if err != nil {
		c.restoreStats(req, prev)
		return nil, err
	}
	c.lastContact.Store(time.Now().UnixNano())
	c.applyThrottles(ctx, resp.GetThrottles())
	lost := make([]uint64, 0, len(resp.GetLost()))
	for _, h := range resp.GetLost() {
		lost = append(lost, h.GetToken())
	}
	return lost, nil
}

// Report sends results of the lease's shard. A lease the master no longer
// honours is answered task.ErrStale: nothing was recorded.
func (c *Client) Report(ctx context.Context, _ string, lease task.LeaseRef, results []task.Result) error {
	req := &pb.ReportRequest{Worker: c.opt.Name, Job: lease.Job, Pass: lease.Pass, Token: lease.Token, Shard: lease.Shard, Results: wire.Results(results)}
	var resp *pb.ReportResponse
	err := c.call(ctx, "report", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Report(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if resp.GetStale() {
		return fmt.Errorf("job %q pass %d: report under token %d: %w", lease.Job, lease.Pass, lease.Token, task.ErrStale)
	}
	c.objectsDone.Add(int64(len(results)))
	return nil
}

// Ack says the shard is done. A stale ack (the lease had lapsed) is not
// an error: nothing is left to do for this worker.
func (c *Client) Ack(ctx context.Context, _ string, lease task.LeaseRef) error {
	req := &pb.AckRequest{Worker: c.opt.Name, Job: lease.Job, Pass: lease.Pass, Token: lease.Token, Shard: lease.Shard}
	var resp *pb.AckResponse
	err := c.call(ctx, "ack", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Ack(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if resp.GetStale() {
		c.log.Debug("ack was stale: the lease had lapsed", "job", lease.Job, "pass", lease.Pass, "token", lease.Token)
	}
	return nil
}

// Nack gives the shard back with the reason; stale as for Ack.
func (c *Client) Nack(ctx context.Context, _ string, lease task.LeaseRef, reason string) error {
	req := &pb.NackRequest{Worker: c.opt.Name, Job: lease.Job, Pass: lease.Pass, Token: lease.Token, Shard: lease.Shard, Reason: reason}
	return c.call(ctx, "nack", func(ctx context.Context) error {
		_, err := c.rpc.Nack(ctx, req)
		return err
	})
}

// LoadUpload, SaveUpload and DropUpload keep multipart state on the
// master, so whichever worker copies the object next resumes the upload.
func (c *Client) LoadUpload(ctx context.Context, job, key string) (task.UploadState, bool, error) {
	req := &pb.LoadUploadRequest{Job: job, Key: key}
	var resp *pb.LoadUploadResponse
	err := c.call(ctx, "load upload state", func(ctx context.Context) (err error) {
		resp, err = c.rpc.LoadUpload(ctx, req)
		return err
	})
	if err != nil || !resp.GetFound() {
		return task.UploadState{}, false, storeErr(err)
	}
	return wire.ToUpload(resp.GetState()), true, nil
}

func (c *Client) SaveUpload(ctx context.Context, s task.UploadState) error {
	req := &pb.SaveUploadRequest{State: wire.Upload(s)}
	return storeErr(c.call(ctx, "save upload state", func(ctx context.Context) error {
		_, err := c.rpc.SaveUpload(ctx, req)
		return err
	}))
}

func (c *Client) DropUpload(ctx context.Context, job, key string) error {
	req := &pb.DropUploadRequest{Job: job, Key: key}
	return storeErr(c.call(ctx, "drop upload state", func(ctx context.Context) error {
		_, err := c.rpc.DropUpload(ctx, req)
		return err
	}))
}
