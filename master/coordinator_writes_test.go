package master

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// gatedStore holds SetShardState calls to one state until released: a
// commit that takes as long as the test wants.
type gatedStore struct {
	Store
	state   tracker.ShardState
	entered chan uint64
	release chan struct{}
	others  chan uint64 // calls for other states, as they start
}

func (s *gatedStore) SetShardState(job string, n, id uint64, state tracker.ShardState, attempts int, lastErr string) error {
	if state == s.state {
		s.entered <- id
		<-s.release
	} else {
		select {
		case s.others <- id:
		default:
		}
	}
	return s.Store.SetShardState(job, n, id, state, attempts, lastErr)
}

// gated returns the 30-object pass of scanned and a coordinator over it
// whose writes of state wait for the test; the test must close release.
func gated(t *testing.T, state tracker.ShardState) (*tracker.Store, *gatedStore, *Coordinator) {
	t.Helper()
	clock := &fakeClock{now: t0}
	st, _ := scanned(t, clock)
	gs := &gatedStore{Store: st, state: state, entered: make(chan uint64, 8), release: make(chan struct{}),
		others: make(chan uint64, 8)}
	c, err := NewCoordinator(CoordinatorConfig{Job: "j", Pass: 1, LeaseTTL: time.Minute, ShardRetries: 2, Now: clock.Now}, gs)
	require.NoError(t, err)
	return st, gs, c
}

// within fails the test if ch yields nothing in a generous bound: the
// operation it waits for is blocked, not slow.
func within[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still blocked", what)
		panic("unreachable")
	}
}

// leased leases n shards for worker and reports them all verified.
func leased(t *testing.T, c *Coordinator, worker string, n int) []task.Grant {
	t.Helper()
	grants, err := c.Lease(t.Context(), worker, n)
	require.NoError(t, err)
	require.Len(t, grants, n)
	for _, g := range grants {
		require.NoError(t, c.Report(t.Context(), worker, g.Ref(), verified(g.Objects)))
	}
	return grants
}

// ackAsync acks g from another goroutine: the ack blocks while its
// commit is held. The error arrives on the returned channel.
func ackAsync(c *Coordinator, worker string, g task.Grant) <-chan error {
	acked := make(chan error, 1)
	go func() { acked <- c.Ack(context.Background(), worker, g.Token) }()
	return acked
}

func TestLeaseNotBlockedByAckCommit(t *testing.T) {
	st, gs, c := gated(t, tracker.ShardDone)
	ctx := context.Background()
	first := leased(t, c, "w1", 1)
	acked := ackAsync(c, "w1", first[0])
	assert.Equal(t, first[0].ID, within(t, gs.entered, "ack's commit"))

	leased := make(chan []task.Grant, 1)
	go func() {
		g, err := c.Lease(ctx, "w2", 2)
		assert.NoError(t, err)
		leased <- g
	}()
	assert.Len(t, within(t, leased, "lease while an ack commits"), 2)
	select {
	case err := <-acked:
		t.Fatalf("ack returned before its commit: %v", err)
	default:
	}
	close(gs.release)
	require.NoError(t, within(t, acked, "ack after its commit"))
	rec, ok, err := st.GetShard("j", 1, first[0].ID)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, tracker.ShardDone, rec.State)
}

// The pass is recorded finished only once the last shard's state is on
// disk, never with a shard still pending there.
func TestPassFinishesAfterLastShardCommit(t *testing.T) {
	st, gs, c := gated(t, tracker.ShardDone)
	ctx := context.Background()
	grants := leased(t, c, "w", 3)
	var acked []<-chan error
	for _, g := range grants {
		acked = append(acked, ackAsync(c, "w", g))
	}
	for range grants {
		within(t, gs.entered, "ack's commit")
	}
	gs2, err := c.Lease(ctx, "w", 1)
	require.NoError(t, err, "nothing to lease, yet not finished")
	assert.Empty(t, gs2)
	assert.False(t, c.Finished())
	close(gs.release)
	for _, a := range acked {
		require.NoError(t, within(t, a, "ack after its commit"))
	}
	within(t, c.Done(), "pass finished")
	p, _, err := st.GetPass("j", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(3), p.ShardsDone)
	assert.False(t, p.Finished.IsZero())
}

// A master killed between an ack and its commit leaves the shard pending
// on disk: the next master leases it again, finds its objects done and
// finishes it without handing anything out.
func TestAckedShardUncommittedAtCrashIsFoundDone(t *testing.T) {
	st, gs, c := gated(t, tracker.ShardDone)
	ctx := context.Background()
	grants := leased(t, c, "w", 1)
	acked := ackAsync(c, "w", grants[0])
	within(t, gs.entered, "ack's commit")
	// The held commit never reaches the disk before the "restart".
	t.Cleanup(func() { close(gs.release); <-acked })

	c2 := coordinator(t, st, 1, &fakeClock{now: t0})
	assert.Equal(t, 3, c2.Snapshot().Pending, "the uncommitted shard is pending again")
	var keys int
	for {
		again, err := c2.Lease(ctx, "w2", 3)
		if err == task.ErrFinished {
			break
		}
		require.NoError(t, err)
		for _, g := range again {
			assert.NotEqual(t, grants[0].ID, g.ID, "the acked shard's objects are done")
			keys += len(g.Objects)
			require.NoError(t, c2.Report(ctx, "w2", g.Ref(), verified(g.Objects)))
			require.NoError(t, c2.Ack(ctx, "w2", g.Token))
		}
	}
	assert.Equal(t, 20, keys)
	p, _, err := st.GetPass("j", 1)
	require.NoError(t, err)
	assert.Equal(t, int64(3), p.ShardsDone)
	assert.Equal(t, int64(30), p.Verified)
}

// A shard given back and leased again commits its states in that order,
// even when the second holder acks while the give-back is still
// committing: done must not be overwritten by pending.
func TestShardWritesCommitInOrder(t *testing.T) {
	st, gs, c := gated(t, tracker.ShardPending)
	ctx := context.Background()
	grants, err := c.Lease(ctx, "w1", 1)
	require.NoError(t, err)
	require.Len(t, grants, 1)
	nacked := make(chan error, 1)
	go func() { nacked <- c.Nack(ctx, "w1", grants[0].Token, "disk full") }()
	within(t, gs.entered, "nack's commit")

	var again task.Grant
	for again.ID != grants[0].ID {
		gs, err := c.Lease(ctx, "w2", 1)
		require.NoError(t, err)
		require.Len(t, gs, 1)
		again = gs[0]
	}
	require.NoError(t, c.Report(ctx, "w2", again.Ref(), verified(again.Objects)))
	acked := ackAsync(c, "w2", again)
	// Proving that something does not happen needs a bound; an ack that
	// skipped the queue reaches the store in microseconds.
	select {
	case <-gs.others:
		t.Fatal("the ack's commit started before the give-back it follows")
	case <-time.After(200 * time.Millisecond):
	}
	close(gs.release)
	require.NoError(t, within(t, nacked, "nack"))
	require.NoError(t, within(t, acked, "ack"))
	rec, _, err := st.GetShard("j", 1, grants[0].ID)
	require.NoError(t, err)
	assert.Equal(t, tracker.ShardDone, rec.State)
}

// hurryStore records the coordinator's Hurry calls.
type hurryStore struct {
	*tracker.Store
	calls []bool
}

func (h *hurryStore) Hurry(job string, on bool) {
	h.calls = append(h.calls, on) // under the coordinator's lock
	h.Store.Hurry(job, on)
}

// TestCoordinatorHurriesTheEndOfAPass: once the scan is done, nothing is
// queued and one shard is left leased, the job's writes are hurried (the
// pass waits on each in turn); when the pass finishes they no longer are.
func TestCoordinatorHurriesTheEndOfAPass(t *testing.T) {
	clock := &fakeClock{now: t0}
	src, _ := source(t, 30)
	st, pass := newStore(t, "j")
	hs := &hurryStore{Store: st}
	c, err := NewCoordinator(CoordinatorConfig{Job: "j", Pass: pass, LeaseTTL: time.Minute, ShardRetries: 2, Now: clock.Now}, hs)
	require.NoError(t, err)
	require.NoError(t, NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 10}, st, c.AddShards, nil).Run(t.Context()))
	gs := leased(t, c, "w", 3) // reported, not acked
	assert.Empty(t, hs.calls, "the scan is not finished")
	require.NoError(t, c.ScanFinished())

	require.NoError(t, c.Ack(t.Context(), "w", gs[0].Token))
	assert.Empty(t, hs.calls, "two shards still leased")
	require.NoError(t, c.Ack(t.Context(), "w", gs[1].Token))
	assert.Equal(t, []bool{true}, hs.calls, "one shard left: its writes end the pass")
	require.NoError(t, c.Report(t.Context(), "w", gs[2].Ref(), verified(gs[2].Objects)))
	require.NoError(t, c.Ack(t.Context(), "w", gs[2].Token))
	within(t, c.Done(), "the pass finishes")
	assert.Equal(t, []bool{true, false}, hs.calls, "let go when the pass is finished")
}
