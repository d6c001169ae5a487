package client

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/ferry-migrate/ferry/conf"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// jobEntry is what the worker keeps per job: the throttle exists from the
// first time the job is heard of (a heartbeat's share may come before its
// first shard); the copier is built once, on the first shard.
type jobEntry struct {
	throttle *worker.Throttle
	shared   bool // a heartbeat has set the throttle

	mu     sync.Mutex // serialises building the copier
	copier *worker.Copier
}

// entry returns the job's entry, creating it (unlimited) if new.
func (c *Client) entry(job string) *jobEntry {
	c.jobsMu.Lock()
	defer c.jobsMu.Unlock()
	e := c.jobs[job]
	if e == nil {
		e = &jobEntry{throttle: worker.NewThrottle(0, 0)}
		c.jobs[job] = e
	}
	return e
}

// Throttle returns the job's throttle, whose limits are this worker's
// share of the job's cluster-wide limits, as the last heartbeat said.
func (c *Client) Throttle(job string) *worker.Throttle { return c.entry(job).throttle }

// applyThrottles sets each job's share. A job the answer does not mention
// keeps its last share (the master lists every active job, zero limits
// included, so a lifted limit arrives as a zero).
func (c *Client) applyThrottles(ts []*pb.Throttle) {
	for _, t := range ts {
		e := c.entry(t.GetJob())
		e.throttle.SetLimits(t.GetBytesPerSecond(), t.GetObjectsPerSecond())
		c.jobsMu.Lock()
		first := !e.shared
		e.shared = true
		c.jobsMu.Unlock()
		if b, o := t.GetBytesPerSecond(), t.GetObjectsPerSecond(); first && (b > 0 || o > 0) {
			c.log.Info("job throttle share", "job", t.GetJob(), "bytes_per_second", b, "objects_per_second", o)
		}
	}
}

func (c *Client) hasShare(job string) bool {
	e := c.entry(job)
	c.jobsMu.Lock()
	defer c.jobsMu.Unlock()
	return e.shared
}

// CopierFor returns the copier for the job's objects (for
// worker.Agent.CopierFor), built on first use from the config the master
// hands out and cached: source and destination backends, the job's copy
// settings, the job's throttle, and the master as upload store, so that
// any worker can resume any multipart upload. The config carries
// credentials: it is never logged, and errors about it name keys, not
// values.
func (c *Client) CopierFor(ctx context.Context, job string) (*worker.Copier, error) {
	e := c.entry(job)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.copier != nil {
		return e.copier, nil
	}
	cp, err := c.build(ctx, job, e.throttle)
	if err != nil {
		return nil, err // not cached: the next shard of the job tries again
	}
	if !c.hasShare(job) {
		// Without a share the throttle is open, and a job limited to
		// 10 MB/s across 36 workers would get 36 times that until the next
		// heartbeat. Ask for the share before the first copy.
		if _, err := c.heartbeat(ctx, nil); err != nil {
			return nil, fmt.Errorf("job %q: fetching its throttle share: %w", job, err)
		}
	}
	e.copier = cp
	c.log.Info("job ready", "job", job)
	return cp, nil
}

func (c *Client) build(ctx context.Context, job string, th *worker.Throttle) (*worker.Copier, error) {
	var resp *pb.GetJobResponse
	err := c.call(ctx, "get job", func(ctx context.Context) (err error) {
		resp, err = c.rpc.GetJob(ctx, &pb.GetJobRequest{Job: job})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", job, err)
	}
	// Relative local paths in the config resolve against the worker's
	// directory; a cluster job should use absolute ones.
	j, err := conf.Parse(strings.NewReader(resp.GetConfig()), job+".cfg")
	if err != nil {
		return nil, fmt.Errorf("job %q: the master's config does not parse here: %w", job, err)
	}
	if j.Name != job {
		return nil, fmt.Errorf("job %q: the master sent the config of job %q", job, j.Name)
	}
	cp, err := jobcopier.New(ctx, j, worker.Hooks(worker.Options{
		Throttle: th,
		Uploads:  c,
		Progress: func(d int64) { c.bytesSent.Add(d) },
		// Every SlowDown answer counts for the heartbeat: the master backs
		// the whole cluster off on them.
		OnThrottled: func() { c.slowdowns.Add(1) },
	}, job, c.opt.Observer))
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", job, err)
	}
	return cp, nil
}
