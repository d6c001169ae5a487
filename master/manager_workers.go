package master

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// maxLease bounds one Lease call, whatever a worker asks.
const maxLease = 256

// Register announces a worker, first or again after a reconnect. A worker
// restarted under the same name holds none of its old leases; they lapse
// at their deadline (it does not list them in its heartbeats).
func (m *Manager) Register(ctx context.Context, r Registration) error {
	if r.Worker == "" {
		return fmt.Errorf("%w: register: empty worker name", ErrInvalid)
	}
	live := m.reg.Register(r, m.now())
	m.log.Info("worker registered", "worker", r.Worker, "hostname", r.Hostname, "address", r.Address,
		"concurrency", r.Concurrency, "version", r.Version, "live_workers", live)
	return nil
}

// Heartbeat renews the worker's leases and returns those it lost (expired
// and re-granted, dropped by a cancel, unknown after a master restart),
// its share of every active job's throttle, and reregister=true when the
// master does not know the worker (it restarted): the worker should
// Register again. The stats feed the operator view and the SlowDown
// backoff.
func (m *Manager) Heartbeat(ctx context.Context, worker string, held []task.LeaseRef, stats WorkerStats) (lost []task.LeaseRef, throttles []JobThrottle, reregister bool, err error) {
	if worker == "" {
		return nil, nil, false, fmt.Errorf("%w: heartbeat: empty worker name", ErrInvalid)
	}
	now := m.now()
	reregister = !m.reg.Beat(worker, stats, now)
	m.reap(now)
	lost, err = m.renew(ctx, worker, held, now)
	if err != nil {
		return nil, nil, reregister, err
	}
	return lost, m.throttles(worker, now), reregister, nil
}

// renew renews held leases job by job; leases of unknown or stopped jobs,
// and of passes that are not the job's current one, are lost.
func (m *Manager) renew(ctx context.Context, worker string, held []task.LeaseRef, now time.Time) ([]task.LeaseRef, error) {
	type passKey struct {
		job  string
		pass uint64
	}
	byPass := map[passKey][]uint64{}
	refs := map[uint64]task.LeaseRef{}
	for _, h := range held {
		k := passKey{h.Job, h.Pass}
		byPass[k] = append(byPass[k], h.Token)
		refs[h.Token] = h
	}
	keys := make([]passKey, 0, len(byPass))
	for k := range byPass {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		return keys[a].job < keys[b].job || keys[a].job == keys[b].job && keys[a].pass < keys[b].pass
	})
	var lost []task.LeaseRef
	for _, k := range keys {
		job, tokens := k.job, byPass[k]
		m.mu.Lock()
		var coord *Coordinator
		if jr := m.jobs[job]; jr != nil && jr.coord != nil && jr.coord.Pass() == k.pass {
			coord = jr.coord
		}
		m.mu.Unlock()
		gone := tokens
		if coord != nil {
			var err error
			if gone, err = coord.Renew(ctx, worker, tokens); err != nil {
				return nil, fmt.Errorf("job %q: renewing leases of worker %q: %w", job, worker, err)
			}
		}
		for _, t := range gone {
			lost = append(lost, refs[t])
		}
		if coord != nil && len(gone) < len(tokens) {
			m.reg.Holding(job, worker, now)
		}
	}
	return lost, nil
}

// throttles returns worker's share of each running job's limits, zero
// entries included so that a lifted limit reaches the workers too.
func (m *Manager) throttles(worker string, now time.Time) []JobThrottle {
	m.mu.Lock()
	var jobs []JobLimits
	gens := map[string]uint64{}
	for _, jr := range m.sortedJobs() {
		if jr.coord != nil && !jr.coord.Closed() {
			jobs = append(jobs, JobLimits{Job: jr.name, Limits: jr.limits()})
			gens[jr.name] = jr.keysGen
		}
	}
	m.mu.Unlock()
	shares := m.reg.Shares(worker, now, jobs)
	for i := range shares {
		shares[i].KeysGeneration = gens[shares[i].Job]
	}
	return shares
}

// Lease grants up to max shards, one at a time round-robin over the
// running, unpaused jobs, so that every job moves. It never answers
// task.ErrFinished: a worker serves the cluster, not one job, and keeps
// polling; an empty answer means "nothing now".
func (m *Manager) Lease(ctx context.Context, worker string, max int) ([]task.Grant, error) {
	if worker == "" {
		return nil, fmt.Errorf("%w: lease: empty worker name", ErrInvalid)
	}
	max = min(maxLease, max)
	if max < 1 {
		max = 1
	}
	now := m.now()
	m.reg.Touch(worker, now)
	m.reap(now)
	m.mu.Lock()
	var coords []*Coordinator
	var names []string
	jobs := m.sortedJobs()
	for i := range jobs {
		jr := jobs[(m.rr+i)%len(jobs)]
		if jr.granting() {
			coords, names = append(coords, jr.coord), append(names, jr.name)
		}
	}
	m.rr++
	m.mu.Unlock()

	var out []task.Grant
	for len(out) < max {
		got := false
		for i, c := range coords {
			if len(out) >= max {
				break
			}
			gs, err := c.Lease(ctx, worker, 1)
			if errors.Is(err, task.ErrFinished) {
				continue // the watcher records the end of the pass
			}
			if err != nil {
				err = fmt.Errorf("job %q: lease for worker %q: %w", names[i], worker, err)
				if len(out) > 0 {
					// Those granted must reach the worker, or they sit idle
					// until the lease expires.
					m.log.Error("lease", "err", err)
					return out, nil
				}
				return nil, err
			}
			got = got || len(gs) > 0
			out = append(out, gs...)
			if len(gs) > 0 {
				m.reg.Holding(names[i], worker, now)
			}
		}
		if !got {
			break
		}
	}
	return out, nil
}

// coordOf returns the coordinator of the lease's pass. A pass that is not
// the job's current one, or that no longer runs here, is stale: the refusal
// is counted and logged, and nothing is recorded.
func (m *Manager) coordOf(op, worker string, lease task.LeaseRef) (*Coordinator, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	jr := m.jobs[lease.Job]
	if jr == nil {
		return nil, fmt.Errorf("job %q: %w", lease.Job, ErrUnknownJob)
	}
	if jr.coord == nil || jr.coord.Pass() != lease.Pass {
		return nil, m.staleLocked(jr, op, worker, lease, fmt.Errorf("job %q: %s of pass %d: the job is at pass %d: %w", lease.Job, op, lease.Pass, jr.pass, ErrStale))
	}
	return jr.coord, nil
}

// staleLocked counts and logs a refused result, ack or nack, and returns
// err. Called with m.mu held.
func (m *Manager) staleLocked(jr *jobRun, op, worker string, lease task.LeaseRef, err error) error {
	jr.staleRefused++
	m.log.Warn("refused a stale "+op, "job", lease.Job, "pass", lease.Pass, "token", lease.Token, "worker", worker,
		"job_pass", jr.pass, "refused_total", jr.staleRefused)
	return err
}

// stale counts and logs a refusal the coordinator made.
func (m *Manager) stale(op, worker string, lease task.LeaseRef, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if jr := m.jobs[lease.Job]; jr != nil {
		return m.staleLocked(jr, op, worker, lease, err)
	}
	return err
}

// Report records object results of the lease's shard. It is idempotent.
// A lease of an earlier pass, or one whose shard was leased again, is
// refused with ErrStale: its results may describe objects the current pass
// sees differently, and recording them would make the pass skip those.
func (m *Manager) Report(ctx context.Context, worker string, lease task.LeaseRef, results []task.Result) error {
	m.reg.Touch(worker, m.now())
	coord, err := m.coordOf("report", worker, lease)
	if err != nil {
		return err
	}
	err = coord.Report(ctx, worker, lease, results)
	if errors.Is(err, ErrStale) {
		return m.stale("report", worker, lease, err)
	}
	if err != nil {
		return fmt.Errorf("job %q: report from worker %q: %w", lease.Job, worker, err)
	}
	return nil
}

// Ack finishes a shard. A lease the master no longer honours (it lapsed
// and was re-granted, the job was canceled, the pass ended, the master
// restarted) answers stale=true: harmless to the worker, which drops it.
func (m *Manager) Ack(ctx context.Context, worker string, lease task.LeaseRef) (stale bool, err error) {
	return m.settle("ack", worker, lease, func(c *Coordinator) error { return c.Ack(ctx, worker, lease.Token) })
}

// Nack gives a shard back with the reason; stale as for Ack.
func (m *Manager) Nack(ctx context.Context, worker string, lease task.LeaseRef, reason string) (stale bool, err error) {
	return m.settle("nack", worker, lease, func(c *Coordinator) error { return c.Nack(ctx, worker, lease.Token, reason) })
}

func (m *Manager) settle(op, worker string, lease task.LeaseRef, call func(*Coordinator) error) (stale bool, err error) {
	m.reg.Touch(worker, m.now())
	coord, err := m.coordOf(op, worker, lease)
	if errors.Is(err, ErrStale) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	err = call(coord)
	if errors.Is(err, ErrStale) {
		_ = m.stale(op, worker, lease, err)
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("job %q: %s from worker %q: %w", lease.Job, op, worker, err)
	}
	return false, nil
}

// LoadUpload, SaveUpload and DropUpload keep multipart upload state on the
// master, so any worker can resume any upload.
func (m *Manager) LoadUpload(ctx context.Context, job, key string) (task.UploadState, bool, error) {
	if _, err := m.job(job); err != nil {
		return task.UploadState{}, false, err
	}
	return m.st.GetUpload(job, key)
}

func (m *Manager) SaveUpload(ctx context.Context, s task.UploadState) error {
	if _, err := m.job(s.Job); err != nil {
		return err
	}
	return m.st.PutUpload(s)
}

func (m *Manager) DropUpload(ctx context.Context, job, key string) error {
	if _, err := m.job(job); err != nil {
		return err
	}
	return m.st.DeleteUpload(job, key)
}

// JobConfig returns the job's config as submitted, credentials included.
// It is for workers (over TLS, holding the cluster token) and nothing
// else: never log or display it.
func (m *Manager) JobConfig(job string) (string, error) {
	if _, err := m.job(job); err != nil {
		return "", err
	}
	text, _, err := m.files.readConfig(job)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: job %q was not submitted to this master (no saved config)", ErrUnknownJob, job)
	}
	return text, err
}
