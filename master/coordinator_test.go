package master

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// scanned returns a store whose pass 1 holds the shards of a 30-object
// source (shards of 10) with the scan finished, and a coordinator over it.
func scanned(t *testing.T, clock *fakeClock) (*tracker.Store, *Coordinator) {
	t.Helper()
	src, _ := source(t, 30)
	st, pass := newStore(t, "j")
	c := coordinator(t, st, pass, clock)
	s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 10}, st, c.AddShards, nil)
	require.NoError(t, s.Run(t.Context()))
	require.NoError(t, c.ScanFinished())
	return st, c
}

func coordinator(t *testing.T, st *tracker.Store, pass uint64, clock *fakeClock) *Coordinator {
	t.Helper()
	c, err := NewCoordinator(CoordinatorConfig{Job: "j", Pass: pass, LeaseTTL: time.Minute, ShardRetries: 2, Now: clock.Now}, st)
	require.NoError(t, err)
	return c
}

func verified(objs []task.Object) []task.Result {
	out := make([]task.Result, len(objs))
	for i, o := range objs {
		out[i] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusVerified, Method: task.MethodSize, Size: o.Size, ModTime: o.ModTime}
	}
	return out
}

func TestCoordinatorHappyPath(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	for {
		gs, err := c.Lease(ctx, "w", 2)
		if err == task.ErrFinished {
			break
		}
		require.NoError(t, err)
		require.NotEmpty(t, gs, "work remains, so a lease must return some")
		for _, g := range gs {
			require.NoError(t, c.Report(ctx, "w", g.Ref(), verified(g.Objects)))
			require.NoError(t, c.Ack(ctx, "w", g.Token))
		}
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("pass not finished")
	}
	p, _, err := st.GetPass("j", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(30), p.Verified)
	assert.Equal(t, int64(3), p.ShardsDone)
	assert.False(t, p.Finished.IsZero())
	j, _, err := st.GetJob("j")
	require.NoError(t, err)
	assert.Equal(t, p.Started.Unix(), j.Checkpoint.Unix(), "a clean pass advances the checkpoint")
}

func TestCoordinatorDeadWorkerLosesItsShard(t *testing.T) {
	clock := &fakeClock{now: t0}
	_, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "dead", 1)
	require.NoError(t, err)
	g := gs[0]
	require.Len(t, g.Objects, 10)
	require.NoError(t, c.Report(ctx, "dead", g.Ref(), verified(g.Objects[:4])))
	// The worker dies; its lease lapses.
	clock.Add(2 * time.Minute)
	var again task.Grant
	for again.Shard.ID != g.Shard.ID {
		gs, err := c.Lease(ctx, "alive", 1)
		require.NoError(t, err)
		require.Len(t, gs, 1)
		again = gs[0]
		if again.Shard.ID != g.Shard.ID {
			require.NoError(t, c.Report(ctx, "alive", again.Ref(), verified(again.Objects)))
			require.NoError(t, c.Ack(ctx, "alive", again.Token))
		}
	}
	assert.Equal(t, 2, again.Attempt)
	assert.Equal(t, g.Objects[4:], again.Objects, "objects verified before the crash are not handed out again")
	// The dead worker comes back late: its shard was leased again, so its
	// report is refused (nothing recorded) and its ack fenced.
	require.ErrorIs(t, c.Report(ctx, "dead", g.Ref(), verified(g.Objects[4:6])), ErrStale)
	assert.ErrorIs(t, c.Ack(ctx, "dead", g.Token), ErrStale)
	lost, err := c.Renew(ctx, "dead", []uint64{g.Token})
	require.NoError(t, err)
	assert.Equal(t, []uint64{g.Token}, lost)
	require.NoError(t, c.Report(ctx, "alive", again.Ref(), verified(again.Objects)))
	require.NoError(t, c.Ack(ctx, "alive", again.Token))
	assert.ErrorIs(t, c.Report(ctx, "alive", again.Ref(), verified(again.Objects)), ErrStale,
		"a shard acked is finished: no token reports into it any more")
}

// A lease that lapsed but whose shard nobody holds yet is still the
// shard's latest: its results are this pass's and are recorded.
func TestCoordinatorLapsedLeaseStillReports(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "slow", 1)
	require.NoError(t, err)
	g := gs[0]
	clock.Add(3 * time.Minute) // past the 1-minute lease
	require.NoError(t, c.Report(ctx, "slow", g.Ref(), verified(g.Objects[:1])))
	known, err := st.Lookup("j", []string{g.Objects[0].Key})
	require.NoError(t, err)
	assert.Equal(t, task.StatusVerified, known[g.Objects[0].Key].Status)
}

func TestCoordinatorNackLimitFailsObjectsWithReason(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	var failedShard uint64
	for {
		gs, err := c.Lease(ctx, "w", 1)
		if err == task.ErrFinished {
			break
		}
		require.NoError(t, err)
		g := gs[0]
		if failedShard == 0 || g.Shard.ID == failedShard {
			failedShard = g.Shard.ID
			if g.Attempt == 1 {
				require.NoError(t, c.Report(ctx, "w", g.Ref(), verified(g.Objects[:3])))
			} else {
				assert.Len(t, g.Objects, 7, "the retry carries only what has no result")
			}
			require.NoError(t, c.Nack(ctx, "w", g.Token, "destination unreachable"))
			continue
		}
		require.NoError(t, c.Report(ctx, "w", g.Ref(), verified(g.Objects)))
		require.NoError(t, c.Ack(ctx, "w", g.Token))
	}
	p, _, err := st.GetPass("j", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(7), p.Failed, "the 7 objects without a result are failed, none lost")
	assert.Equal(t, int64(23), p.Verified)
	var reasons []string
	require.NoError(t, st.Manifest("j", task.StatusFailed, "", func(e tracker.Entry) error {
		reasons = append(reasons, e.Reason)
		return nil
	}))
	require.Len(t, reasons, 7)
	assert.Contains(t, reasons[0], "destination unreachable")
	j, _, err := st.GetJob("j")
	require.NoError(t, err)
	assert.True(t, j.Checkpoint.IsZero(), "a pass with failures does not advance the checkpoint")

	// ferry retry: the failures are queued again and a new run finishes them.
	n, err := st.RequeueFailed("j")
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	c2 := coordinator(t, st, 1, clock)
	require.NoError(t, c2.ScanFinished())
	gs, err := c2.Lease(ctx, "w", 10)
	require.NoError(t, err)
	var objs []task.Object
	for _, g := range gs {
		objs = append(objs, g.Objects...)
		require.NoError(t, c2.Report(ctx, "w", g.Ref(), verified(g.Objects)))
		require.NoError(t, c2.Ack(ctx, "w", g.Token))
	}
	assert.Len(t, objs, 7)
	_, err = c2.Lease(ctx, "w", 1)
	assert.ErrorIs(t, err, task.ErrFinished)
	p, _, err = st.GetPass("j", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(0), p.Failed)
	assert.Equal(t, int64(30), p.Verified)
}

func TestCoordinatorRestartRequeuesInFlight(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "w", 3)
	require.NoError(t, err)
	require.Len(t, gs, 3)
	require.NoError(t, c.Report(ctx, "w", gs[0].Ref(), verified(gs[0].Objects)))
	// The master process dies here; a new one opens the same store.
	c2 := coordinator(t, st, 1, clock)
	snap := c2.Snapshot()
	assert.Equal(t, 3, snap.Pending, "everything that was leased is pending again")
	assert.True(t, snap.ScanFinished)
	total := 0
	for {
		gs, err := c2.Lease(ctx, "w2", 5)
		if err == task.ErrFinished {
			break
		}
		require.NoError(t, err)
		for _, g := range gs {
			total += len(g.Objects)
			require.NoError(t, c2.Report(ctx, "w2", g.Ref(), verified(g.Objects)))
			require.NoError(t, c2.Ack(ctx, "w2", g.Token))
		}
	}
	assert.Equal(t, 20, total, "the verified shard is not copied again")
}

func TestCoordinatorReleaseWorker(t *testing.T) {
	clock := &fakeClock{now: t0}
	_, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "dead", 2)
	require.NoError(t, err)
	require.Len(t, gs, 2)
	require.NoError(t, c.Report(ctx, "dead", gs[0].Ref(), verified(gs[0].Objects[:3])))
	n, err := c.ReleaseWorker("dead")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, c.Snapshot().Running)
	clock.Add(time.Second) // far inside the 1-minute TTL
	again, err := c.Lease(ctx, "alive", 3)
	require.NoError(t, err)
	require.Len(t, again, 3)
	byShard := map[uint64]task.Grant{}
	for _, g := range again {
		byShard[g.ID] = g
	}
	assert.Equal(t, gs[0].Objects[3:], byShard[gs[0].ID].Objects, "reported objects are not handed out again")
	assert.Equal(t, 2, byShard[gs[1].ID].Attempt)
	assert.ErrorIs(t, c.Ack(ctx, "dead", gs[0].Token), ErrStale)
}

func TestCoordinatorCloseAndLoadPending(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "w", 1)
	require.NoError(t, err)
	c.Close()
	assert.True(t, c.Closed())
	none, err := c.Lease(ctx, "w", 3)
	require.NoError(t, err)
	assert.Empty(t, none, "a closed coordinator grants nothing")
	lost, err := c.Renew(ctx, "w", []uint64{gs[0].Token})
	require.NoError(t, err)
	assert.Equal(t, []uint64{gs[0].Token}, lost)
	require.NoError(t, c.Report(ctx, "w", gs[0].Ref(), verified(gs[0].Objects)), "late reports still count")

	// A fresh coordinator resumes the pass; LoadPending is idempotent.
	c2 := coordinator(t, st, 1, clock)
	require.NoError(t, c2.LoadPending())
	assert.Equal(t, 3, c2.Snapshot().Pending)
}

// After a master restart the new coordinator never issued the workers'
// tokens. Results under such a token are taken while nobody has leased
// the shard since (the same pass, the same objects), and refused once the
// shard has a new holder.
func TestCoordinatorAfterRestartTakesResultsOfUnleasedShards(t *testing.T) {
	clock := &fakeClock{now: t0}
	st, c := scanned(t, clock)
	ctx := context.Background()
	gs, err := c.Lease(ctx, "w1", 2)
	require.NoError(t, err)
	require.Len(t, gs, 2)
	a, b := gs[0], gs[1]

	// The restarted master's, whose tokens differ from the old ones.
	next := uint64(1 << 20)
	c2, err := NewCoordinator(CoordinatorConfig{Job: "j", Pass: 1, LeaseTTL: time.Minute, Now: clock.Now,
		Tokens: func() uint64 { next++; return next }}, st)
	require.NoError(t, err)
	require.NoError(t, c2.Report(ctx, "w1", a.Ref(), verified(a.Objects[:2])), "shard a is pending and unleased")
	known, err := st.Lookup("j", []string{a.Objects[0].Key})
	require.NoError(t, err)
	assert.Equal(t, task.StatusVerified, known[a.Objects[0].Key].Status)

	var again task.Grant
	for again.ID != b.ID {
		gs, err := c2.Lease(ctx, "w2", 1)
		require.NoError(t, err)
		require.Len(t, gs, 1)
		again = gs[0]
	}
	assert.ErrorIs(t, c2.Report(ctx, "w1", b.Ref(), verified(b.Objects)), ErrStale, "shard b has a new holder")
}
