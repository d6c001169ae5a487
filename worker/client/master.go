package client

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/internal/wire"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

var _ worker.Master = (*Client)(nil)

// lostKeep is how long a lost token is remembered: the agent still
// reports the results of a lost shard (the master records them per
// object), and the report needs the token's job.
const lostKeep = time.Hour

// Lease asks for up to max shards of any job. An empty answer means no
// work now; the master never answers "finished" to a cluster worker.
func (c *Client) Lease(ctx context.Context, _ string, max int) ([]task.Grant, error) {
	req := &pb.LeaseRequest{Worker: c.opt.Name, Max: int32(max)}
	var resp *pb.LeaseResponse
	err := c.call(ctx, "lease", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Lease(ctx, req)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]task.Grant, 0, len(resp.GetGrants()))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, pg := range resp.GetGrants() {
		g := wire.ToGrant(pg)
		g.Worker = c.opt.Name
		c.leases[g.Token] = &lease{job: g.Job}
		out = append(out, g)
	}
	return out, nil
}

// Renew is the heartbeat: it renews the leases the agent holds, sends the
// throughput since the last one, applies the job throttle shares it gets
// back, re-registers if the master asks, and returns the lost tokens.
func (c *Client) Renew(ctx context.Context, _ string, tokens []uint64) ([]uint64, error) {
	c.mu.Lock()
	held := make([]*pb.HeldLease, 0, len(tokens))
	for _, tok := range tokens {
		if l := c.leases[tok]; l != nil && l.lost.IsZero() {
			held = append(held, &pb.HeldLease{Job: l.job, Token: tok})
		}
	}
	c.mu.Unlock()
	lost, err := c.heartbeat(ctx, held)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	lost = append(lost, c.lostLater...)
	c.lostLater = nil
	c.mu.Unlock()
	return lost, nil
}

// heldLeases is every lease granted and neither settled nor lost, for a
// heartbeat sent outside Renew.
func (c *Client) heldLeases() []*pb.HeldLease {
	c.mu.Lock()
	defer c.mu.Unlock()
	var held []*pb.HeldLease
	for tok, l := range c.leases {
		if l.lost.IsZero() {
			held = append(held, &pb.HeldLease{Job: l.job, Token: tok})
		}
	}
	return held
}

// heartbeat sends one heartbeat (two if the master asks us to register
// first) and returns the tokens it says are lost.
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
	c.applyThrottles(resp.GetThrottles())
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	lost := make([]uint64, 0, len(resp.GetLost()))
	for _, h := range resp.GetLost() {
		lost = append(lost, h.GetToken())
		if l := c.leases[h.GetToken()]; l != nil && l.lost.IsZero() {
			l.lost = now
		}
	}
	for tok, l := range c.leases {
		if !l.lost.IsZero() && now.Sub(l.lost) > lostKeep {
			delete(c.leases, tok)
		}
	}
	return lost, nil
}

// jobOf returns the job of a token we were granted.
func (c *Client) jobOf(op string, token uint64) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.leases[token]
	if l == nil {
		return "", fmt.Errorf("%s: lease token %d was not granted to this worker (or was settled long ago)", op, token)
	}
	return l.job, nil
}

// settled forgets a token that was acked or nacked.
func (c *Client) settled(token uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.leases, token)
}

// Report sends results of the token's shard (lost tokens included: the
// master records a verified copy whoever made it).
func (c *Client) Report(ctx context.Context, _ string, token uint64, results []task.Result) error {
	job, err := c.jobOf("report", token)
	if err != nil {
		return err
	}
	req := &pb.ReportRequest{Worker: c.opt.Name, Job: job, Token: token, Results: wire.Results(results)}
	err = c.call(ctx, "report", func(ctx context.Context) error {
		_, err := c.rpc.Report(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	c.objectsDone.Add(int64(len(results)))
	return nil
}

// Ack says the shard is done. A stale ack (the lease had lapsed) is not
// an error: the results were recorded anyway.
func (c *Client) Ack(ctx context.Context, _ string, token uint64) error {
	job, err := c.jobOf("ack", token)
	if err != nil {
		return err
	}
	req := &pb.AckRequest{Worker: c.opt.Name, Job: job, Token: token}
	var resp *pb.AckResponse
	err = c.call(ctx, "ack", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Ack(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if resp.GetStale() {
		c.log.Debug("ack was stale: the lease had lapsed", "job", job, "token", token)
	}
	c.settled(token)
	return nil
}

// Nack gives the shard back with the reason; stale as for Ack.
func (c *Client) Nack(ctx context.Context, _ string, token uint64, reason string) error {
	job, err := c.jobOf("nack", token)
	if err != nil {
		return err
	}
	req := &pb.NackRequest{Worker: c.opt.Name, Job: job, Token: token, Reason: reason}
	err = c.call(ctx, "nack", func(ctx context.Context) error {
		_, err := c.rpc.Nack(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	c.settled(token)
	return nil
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
