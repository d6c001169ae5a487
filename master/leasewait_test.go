package master

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

// closed reports whether ch is closed, without waiting.
func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestWakeupsWakeTheOldestOnly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wake    int
		cancel  int // index of a waiter canceled after the wake (-1: none)
		want    []bool
		waiting int
	}{
		{name: "one shard wakes one waiter", wake: 1, cancel: -1, want: []bool{true, false, false}, waiting: 2},
		{name: "two shards wake two", wake: 2, cancel: -1, want: []bool{true, true, false}, waiting: 1},
		{name: "more shards than waiters", wake: 5, cancel: -1, want: []bool{true, true, true}, waiting: 0},
		{name: "all", wake: -1, cancel: -1, want: []bool{true, true, true}, waiting: 0},
		{name: "nothing queued", wake: 0, cancel: -1, want: []bool{false, false, false}, waiting: 3},
		// The first was woken but did not use it (it got a grant on its own
		// ask): its wake-up goes to the next in line.
		{name: "an unused wake-up is handed on", wake: 1, cancel: 0, want: []bool{true, true, false}, waiting: 1},
		// Canceling one that was not woken wakes nobody.
		{name: "canceling a sleeper wakes nobody", wake: 0, cancel: 1, want: []bool{false, false, false}, waiting: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w wakeups
			chs := []chan struct{}{w.add(), w.add(), w.add()}
			w.wake(tc.wake)
			if tc.cancel >= 0 {
				w.cancel(chs[tc.cancel])
			}
			got := make([]bool, len(chs))
			for i, ch := range chs {
				got[i] = closed(ch)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.waiting, w.waiting())
		})
	}
}

// leaseAsync runs LeaseWait for worker in the background.
func leaseAsync(h *harness, worker string, wait time.Duration) <-chan []task.Grant {
	out := make(chan []task.Grant, 1)
	go func() {
		gs, err := h.m.LeaseWait(context.Background(), worker, 1, wait)
		assert.NoError(h.t, err)
		out <- gs
	}()
	return out
}

// waitFor waits for the call's answer; a call still open after limit has
// missed its wake-up (its own wait is longer than limit).
func waitFor(t *testing.T, ch <-chan []task.Grant, limit time.Duration) []task.Grant {
	t.Helper()
	select {
	case gs := <-ch:
		return gs
	case <-time.After(limit):
		t.Fatalf("the lease was not answered within %s", limit)
		return nil
	}
}

// TestLeaseWaitWakesWhenAShardIsQueued: a lease that found nothing is
// answered as soon as a shard is given back, not at the end of its wait.
func TestLeaseWaitWakesWhenAShardIsQueued(t *testing.T) {
	h := newHarness(t)
	h.register("a", "b")
	h.submit(localJob(t, "j", 5)) // one shard
	gs := h.lease("a", 1)
	require.Len(t, gs, 1)

	got := leaseAsync(h, "b", MaxLeaseWait)
	require.Eventually(t, func() bool { return h.m.wake.waiting() == 1 }, 5*time.Second, time.Millisecond, "b waits")
	stale, err := h.m.Nack(t.Context(), "a", gs[0].Ref(), "test gives it back")
	require.NoError(t, err)
	require.False(t, stale)

	// Well inside b's own 10 s wait: only the wake-up can answer it.
	regranted := waitFor(t, got, MaxLeaseWait/2)
	require.Len(t, regranted, 1, "b got the shard a gave back")
	assert.Equal(t, gs[0].ID, regranted[0].ID)
	assert.Zero(t, h.m.wake.waiting())
}

// TestLeaseWaitAnswersEmptyAfterItsWait: with nothing to grant the call
// ends empty when its wait is over, and leaves nothing registered.
func TestLeaseWaitAnswersEmptyAfterItsWait(t *testing.T) {
	h := newHarness(t)
	h.register("a")
	h.submit(localJob(t, "j", 5))
	require.Len(t, h.lease("a", 1), 1)

	start := time.Now()
	gs, err := h.m.LeaseWait(t.Context(), "a", 1, 30*time.Millisecond)
	require.NoError(t, err)
	assert.Empty(t, gs)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "it waited")
	assert.Zero(t, h.m.wake.waiting())

	// No wait: the answer is immediate, as Lease's.
	gs, err = h.m.LeaseWait(t.Context(), "a", 1, 0)
	require.NoError(t, err)
	assert.Empty(t, gs)
}

// TestLeaseWaitEndsWithTheCaller: a waiting call ends when its caller's
// context does, and when the master closes.
func TestLeaseWaitEndsWithTheCaller(t *testing.T) {
	h := newHarness(t)
	h.register("a")

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.m.LeaseWait(ctx, "a", 1, MaxLeaseWait)
		done <- err
	}()
	require.Eventually(t, func() bool { return h.m.wake.waiting() == 1 }, 5*time.Second, time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(MaxLeaseWait / 2):
		t.Fatal("the call outlived its context")
	}

	got := leaseAsync(h, "a", MaxLeaseWait)
	require.Eventually(t, func() bool { return h.m.wake.waiting() == 1 }, 5*time.Second, time.Millisecond)
	h.m.Close()
	assert.Empty(t, waitFor(t, got, MaxLeaseWait/2))
	h.m = nil
}
