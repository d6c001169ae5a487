package client

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/ferry-migrate/ferry/conf"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/creds"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// jobEntry is what the worker keeps per job: the throttle exists from the
// first time the job is heard of (a heartbeat's share may come before its
// first shard); the copier is built once, on the first shard.
type jobEntry struct {
	throttle *worker.Throttle
	shared   bool // a heartbeat has set the throttle

	mu     sync.Mutex // serialises building the copier and changing keys
	copier *worker.Copier
	// The static sides' key holders the copier's backends sign with, and
	// the keys generation of the config they came from (see refreshKeys).
	srcKeys, dstKeys *creds.Static
	keysGen          uint64
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
func (c *Client) applyThrottles(ctx context.Context, ts []*pb.Throttle) {
	for _, t := range ts {
		e := c.entry(t.GetJob())
		c.refreshKeys(ctx, t.GetJob(), e, t.GetKeysGeneration())
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
	cp, err := c.build(ctx, job, e)
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

// fetchJob gets the job's config (with credentials) from the master, and
// the rest of its answer: the keys generation, and what the master found
// of the destination's create-only writes.
func (c *Client) fetchJob(ctx context.Context, job string) (*conf.Job, *pb.GetJobResponse, error) {
	var resp *pb.GetJobResponse
	err := c.call(ctx, "get job", func(ctx context.Context) (err error) {
		resp, err = c.rpc.GetJob(ctx, &pb.GetJobRequest{Job: job})
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("job %q: %w", job, err)
	}
	// Relative local paths in the config resolve against the worker's
	// directory; a cluster job should use absolute ones.
	j, err := conf.Parse(strings.NewReader(resp.GetConfig()), job+".cfg")
	if err != nil {
		return nil, nil, fmt.Errorf("job %q: the master's config does not parse here: %w", job, err)
	}
	if j.Name != job {
		return nil, nil, fmt.Errorf("job %q: the master sent the config of job %q", job, j.Name)
	}
	return j, resp, nil
}

// build makes the job's copier; e.mu is held. Static sides sign through
// holders kept in e, so that refreshKeys can swap their keys under the
// copier's feet: a copy in flight signs its next request with the new ones.
func (c *Client) build(ctx context.Context, job string, e *jobEntry) (*worker.Copier, error) {
	j, resp, err := c.fetchJob(ctx, job)
	if err != nil {
		return nil, err
	}
	e.srcKeys, e.dstKeys = nil, nil
	if j.Src.SignsWithStaticKeys() {
		e.srcKeys = creds.NewStatic(j.Src.AccessKey, j.Src.SecretKey, j.Src.SessionToken)
		j.Src.Keys = e.srcKeys
	}
	if j.Dest.SignsWithStaticKeys() {
		e.dstKeys = creds.NewStatic(j.Dest.AccessKey, j.Dest.SecretKey, j.Dest.SessionToken)
		j.Dest.Keys = e.dstKeys
	}
	e.keysGen = resp.GetKeysGeneration()
	j.Src.Log, j.Dest.Log = c.log, c.log
	cp, err := jobcopier.New(ctx, j, worker.Hooks(worker.Options{
		Throttle: e.throttle,
		Uploads:  c,
		Progress: func(d int64) { c.bytesSent.Add(d) },
		// Every SlowDown answer counts for the heartbeat: the master backs
		// the whole cluster off on them.
		OnThrottled: func() { c.slowdowns.Add(1) },
	}, job, c.opt.Observer), resp.CreateOnlyEnforced)
	if err != nil {
		return nil, fmt.Errorf("job %q: %w", job, err)
	}
	return cp, nil
}

// refreshKeys applies new keys the master was given for the job
// (`ferry credentials`): when the generation a heartbeat names is not the
// one the copier's keys came from, the config is fetched again and the
// static sides' holders take its keys. A job without a copier yet gets
// the new config when it builds one. A failed fetch is logged and tried
// again at the next heartbeat (the generations still differ).
func (c *Client) refreshKeys(ctx context.Context, job string, e *jobEntry, gen uint64) {
	// Not Lock: CopierFor holds e.mu while it builds and asks for a
	// heartbeat, which lands here. A copier being built fetches the newest
	// config anyway; any other holder is done soon, and the next heartbeat
	// comes back here while the generations differ.
	if !e.mu.TryLock() {
		return
	}
	defer e.mu.Unlock()
	if e.copier == nil || e.keysGen == gen {
		return
	}
	j, resp, err := c.fetchJob(ctx, job)
	if err != nil {
		c.log.Warn("fetching the job's new keys; trying again at the next heartbeat", "job", job, "err", err)
		return
	}
	for _, s := range []struct {
		holder *creds.Static
		spec   backends.Spec
	}{{e.srcKeys, j.Src}, {e.dstKeys, j.Dest}} {
		if s.holder != nil && s.spec.SignsWithStaticKeys() {
			s.holder.Set(s.spec.AccessKey, s.spec.SecretKey, s.spec.SessionToken)
		}
	}
	e.keysGen = resp.GetKeysGeneration()
	c.log.Info("job keys replaced", "job", job, "keys_generation", e.keysGen)
}
