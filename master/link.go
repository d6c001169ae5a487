package master

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// Link is the in-process transport between a worker agent and the
// Manager: it satisfies worker.Master (structurally: master does not
// import worker) with the same Manager calls the gRPC server makes for a
// remote worker. `ferry run` is a Manager and an agent joined by a Link,
// so the job's lifecycle is the cluster's, not a copy of it.
type Link struct {
	m      *Manager
	worker string

	// Progress counters the agent's copier feeds; heartbeats send them
	// as the worker's stats, as a remote worker's client does.
	bytesTotal, bytesSent, objectsDone, slowdowns atomic.Int64

	mu        sync.Mutex
	lastBeat  time.Time
	throttles map[string]func(bytesPerSecond int64, objectsPerSecond float64)
}

// NewLink registers worker with the manager and returns its link.
func (m *Manager) NewLink(ctx context.Context, worker string, concurrency int) (*Link, error) {
	if err := m.Register(ctx, Registration{Worker: worker, Hostname: "in-process", Concurrency: concurrency}); err != nil {
		return nil, err
	}
	return &Link{m: m, worker: worker, lastBeat: time.Now(), throttles: map[string]func(int64, float64){}}, nil
}

// OnThrottle sets what applies the worker's share of job's cluster-wide
// limits; it is called at once with the current share and then on every
// heartbeat.
func (l *Link) OnThrottle(ctx context.Context, job string, apply func(bytesPerSecond int64, objectsPerSecond float64)) error {
	l.mu.Lock()
	l.throttles[job] = apply
	l.mu.Unlock()
	_, err := l.Renew(ctx, l.worker, nil)
	return err
}

// AddBytes, AddObjects and AddSlowdown feed the worker's stats.
func (l *Link) AddBytes(n int64) { l.bytesSent.Add(n); l.bytesTotal.Add(n) }
func (l *Link) AddObjects(n int) { l.objectsDone.Add(int64(n)) }
func (l *Link) AddSlowdown()     { l.slowdowns.Add(1) }

// BytesSent is every byte the worker sent since the link was made.
func (l *Link) BytesSent() int64 { return l.bytesTotal.Load() }

func (l *Link) Lease(ctx context.Context, _ string, max int, wait time.Duration) ([]task.Grant, error) {
	return l.m.LeaseWait(ctx, l.worker, max, wait)
}

// Renew is the heartbeat: leases, stats, and the throttle shares back.
func (l *Link) Renew(ctx context.Context, _ string, held []task.LeaseRef) ([]uint64, error) {
	now := time.Now()
	l.mu.Lock()
	stats := WorkerStats{BytesSent: l.bytesSent.Swap(0), ObjectsDone: l.objectsDone.Swap(0),
		Slowdowns: l.slowdowns.Swap(0), Interval: now.Sub(l.lastBeat)}
	l.lastBeat = now
	l.mu.Unlock()
	lost, thr, rereg, err := l.m.Heartbeat(ctx, l.worker, held, stats)
	if err == nil && rereg {
		err = l.m.Register(ctx, Registration{Worker: l.worker, Hostname: "in-process"})
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for _, t := range thr {
		if apply := l.throttles[t.Job]; apply != nil {
			apply(t.BytesPerSecond, t.ObjectsPerSecond)
		}
	}
	l.mu.Unlock()
	out := make([]uint64, len(lost))
	for i, h := range lost {
		out[i] = h.Token
	}
	return out, nil
}

func (l *Link) Report(ctx context.Context, _ string, lease task.LeaseRef, results []task.Result) error {
	if err := l.m.Report(ctx, l.worker, lease, results); err != nil {
		return err
	}
	l.AddObjects(len(results))
	return nil
}

// Ack and Nack of a lease the master no longer honours succeed: the
// shard is someone else's now, nothing is left to do for this worker.
func (l *Link) Ack(ctx context.Context, _ string, lease task.LeaseRef) error {
	_, err := l.m.Ack(ctx, l.worker, lease)
	return err
}

func (l *Link) Nack(ctx context.Context, _ string, lease task.LeaseRef, reason string) error {
	_, err := l.m.Nack(ctx, l.worker, lease, reason)
	return err
}

func (l *Link) LoadUpload(ctx context.Context, job, key string) (task.UploadState, bool, error) {
	return l.m.LoadUpload(ctx, job, key)
}

func (l *Link) SaveUpload(ctx context.Context, s task.UploadState) error {
	return l.m.SaveUpload(ctx, s)
}

func (l *Link) DropUpload(ctx context.Context, job, key string) error {
	return l.m.DropUpload(ctx, job, key)
}
