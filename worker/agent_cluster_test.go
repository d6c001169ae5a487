package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// The agent as a cluster worker: shards of several jobs, per-job failures,
// and a master that goes away and comes back.

func onJob(g task.Grant, job string, token uint64) task.Grant {
	g.Job, g.Token = job, token
	return g
}

func TestAgentCopierForPerJob(t *testing.T) {
	srcA, dstA, srcB, dstB := newLocal(t), newLocal(t), newLocal(t), newLocal(t)
	a := onJob(shardOf(t, srcA, 1, 3, "a%d/o%d"), "A", 1)
	b := onJob(shardOf(t, srcB, 2, 3, "b%d/o%d"), "B", 2)
	hb := hook(dstB) // job B's destination refuses our credentials
	hb.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		return storage.ObjectInfo{}, &storage.Error{Backend: "test", Op: "put", Key: info.Key, Err: storage.ErrAuth}
	}
	c := onJob(task.Grant{Shard: task.Shard{ID: 3, Objects: a.Objects[:1]}}, "C", 3) // job C has no usable config
	copiers := map[string]*Copier{
		"A": newCopier(t, Options{Src: srcA, Dst: dstA}),
		"B": newCopier(t, Options{Src: srcB, Dst: hb}),
	}
	var mu sync.Mutex
	calls := map[string]int{}
	m := newFakeMaster(a, b, c)
	ag := &Agent{Name: "w1", Master: m, Concurrency: 2, MaxShards: 3, ReportEvery: 10 * time.Millisecond, Log: testLogger(t),
		CopierFor: func(ctx context.Context, job string) (*Copier, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[job]++
			if cp := copiers[job]; cp != nil {
				return cp, nil
			}
			return nil, errors.New("config: srcBucket missing")
		}}
	_, err := runAgent(t.Context(), t, ag)
	require.NoError(t, err, "a job's fatal error is not the worker's")
	assert.True(t, m.acked[1])
	assert.Len(t, m.results[1], 3)
	for _, r := range m.results[1] {
		sameBytes(t, getObj(t, srcA, r.Key), getObj(t, dstA, r.Dest))
	}
	assert.Contains(t, m.nacked[2], "credentials refused", "the job's shard is given back with the reason")
	assert.False(t, m.acked[2])
	assert.Contains(t, m.nacked[3], `job "C": config: srcBucket missing`)
	assert.Equal(t, map[string]int{"A": 1, "B": 1, "C": 1}, calls, "one call per shard, not per object")
}

// downMaster fails the calls selected by its switches with a transient
// error, as a client does while the master is unreachable.
type downMaster struct {
	*fakeMaster
	reportsDown atomic.Bool // Report and Ack
	leasesDown  atomic.Bool // Lease and Renew
	leased      atomic.Int64
}

var errAway = fmt.Errorf("master away: %w", storage.ErrUnavailable)

func (d *downMaster) Lease(ctx context.Context, w string, max int, wait time.Duration) ([]task.Grant, error) {
	if d.leasesDown.Load() {
		return nil, errAway
	}
	g, err := d.fakeMaster.Lease(ctx, w, max, wait)
	d.leased.Add(int64(len(g)))
	return g, err
}

func (d *downMaster) Renew(ctx context.Context, w string, held []task.LeaseRef) ([]uint64, error) {
	if d.leasesDown.Load() {
		return nil, errAway
	}
	return d.fakeMaster.Renew(ctx, w, held)
}

func (d *downMaster) Report(ctx context.Context, w string, lease task.LeaseRef, rs []task.Result) error {
	if d.reportsDown.Load() {
		return errAway
	}
	return d.fakeMaster.Report(ctx, w, lease, rs)
}

func (d *downMaster) Ack(ctx context.Context, w string, lease task.LeaseRef) error {
	if d.reportsDown.Load() {
		return errAway
	}
	return d.fakeMaster.Ack(ctx, w, lease)
}

// While reports fail, the agent keeps its results, takes no new shard
// (bounded memory), never gives a shard up, and reports everything once
// the master takes reports again: no result is lost.
func TestAgentWaitsForMaster(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	var grants []task.Grant
	for id := uint64(1); id <= 4; id++ {
		grants = append(grants, shardOf(t, src, id, 3, "s%d/o%d"))
	}
	m := &downMaster{fakeMaster: newFakeMaster(grants...)}
	m.reportsDown.Store(true)
	m.leasesDown.Store(true)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Concurrency: 2, MaxShards: 2,
		ReportEvery: 10 * time.Millisecond, ReportBatch: 2, RenewEvery: 20 * time.Millisecond, Log: testLogger(t)}
	done := make(chan error, 1)
	go func() { done <- a.Run(t.Context()) }()

	time.Sleep(300 * time.Millisecond) // master entirely away: nothing to do, nothing dies
	m.leasesDown.Store(false)          // leases come back, reports do not
	require.Eventually(t, func() bool { return countFiles(t, dst) == 6 }, 5*time.Second, 10*time.Millisecond,
		"the two shards held are copied while their results cannot be reported")
	time.Sleep(2 * time.Second) // longer than finishTries of non-transient errors would last
	assert.Equal(t, int64(2), m.leased.Load(), "no new shard while results wait")
	m.mu.Lock()
	assert.Empty(t, m.acked)
	assert.Empty(t, m.results)
	m.mu.Unlock()

	m.reportsDown.Store(false)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(15 * time.Second):
		t.Fatal("agent did not finish after the master came back")
	}
	for _, g := range grants {
		assert.True(t, m.acked[g.Token], "shard %d acked", g.ID)
		assert.Len(t, m.results[g.Token], 3, "shard %d: every result reported", g.ID)
	}
	assert.Empty(t, m.nacked)
}

func countFiles(t *testing.T, b storage.Backend) int {
	n := 0
	_ = b.List(t.Context(), "", "", func(storage.ObjectInfo) error { n++; return nil })
	return n
}

// A lease lost while reports fail is reported once the master is back,
// and never acked.
func TestAgentLostShardReportedLater(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	g := shardOf(t, src, 1, 4, "s%d/o%d")
	hs := hook(src)
	hs.beforeOpen = func(ctx context.Context, key string) error {
		if strings.HasSuffix(key, "o3") {
			<-ctx.Done() // the last object hangs until the shard is dropped
			return ctx.Err()
		}
		return nil
	}
	m := &downMaster{fakeMaster: newFakeMaster(g)}
	m.finishWhen = false
	m.reportsDown.Store(true)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: hs, Dst: dst}), Concurrency: 4,
		ReportEvery: 10 * time.Millisecond, RenewEvery: 20 * time.Millisecond, Log: testLogger(t)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	require.Eventually(t, func() bool { return countFiles(t, dst) == 3 }, 5*time.Second, 10*time.Millisecond)
	m.mu.Lock()
	m.loseOnRenew[g.Token] = true
	m.mu.Unlock()
	time.Sleep(100 * time.Millisecond)
	m.reportsDown.Store(false)
	require.Eventually(t, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.results[g.Token]) == 3
	}, 5*time.Second, 10*time.Millisecond, "the lost shard's results reach the master")
	cancel()
	<-done
	assert.False(t, m.acked[g.Token])
	assert.Empty(t, m.nacked)
}

// A master that refuses the worker (a Fatal error, e.g. a wrong cluster
// token) ends Run at once; an idle agent still heartbeats.
func TestAgentRefusedByMaster(t *testing.T) {
	m := &refusing{fakeMaster: newFakeMaster()}
	m.finishWhen = false
	src, dst := newLocal(t), newLocal(t)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), RenewEvery: 10 * time.Millisecond, Log: testLogger(t)}
	took, err := runAgent(t.Context(), t, a)
	require.ErrorIs(t, err, storage.ErrAuth)
	assert.Less(t, took, 2*time.Second)
	assert.GreaterOrEqual(t, m.renews.Load(), int64(3), "Renew is called with no shard held: it is the heartbeat")
}

type refusing struct {
	*fakeMaster
	renews atomic.Int64
}

func (r *refusing) Renew(ctx context.Context, w string, held []task.LeaseRef) ([]uint64, error) {
	if r.renews.Add(1) < 3 {
		return nil, nil
	}
	return nil, fmt.Errorf("the master refused our cluster token: %w", storage.ErrAuth)
}
