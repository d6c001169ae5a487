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

func TestManagerTwoJobsShareTheWorkers(t *testing.T) {
	h := newHarness(t)
	a := h.submit(localJob(t, "a", 15)) // 3 shards each
	b := h.submit(localJob(t, "b", 15))
	h.register("w")
	ctx := context.Background()

	// One call spreads over the jobs...
	first := h.lease("w", 4)
	require.Len(t, first, 4)
	perJob := map[string]int{}
	for _, g := range first {
		perJob[g.Job]++
	}
	assert.Equal(t, map[string]int{a: 2, b: 2}, perJob)
	// ...and single leases alternate between them.
	second := append(h.lease("w", 1), h.lease("w", 1)...)
	require.Len(t, second, 2)
	assert.NotEqual(t, second[0].Job, second[1].Job)

	grants := append(first, second...)
	tokens := map[uint64]bool{}
	for _, g := range grants {
		assert.False(t, tokens[g.Token], "token %d handed out twice", g.Token)
		tokens[g.Token] = true
		assert.Greater(t, g.Token, h.base)
	}

	// Acks and reports route by job: job b does not know job a's token.
	ga := grants[0]
	other := b
	if ga.Job == b {
		other = a
	}
	stale, err := h.m.Ack(ctx, "w", task.LeaseRef{Job: other, Pass: 1, Token: ga.Token})
	require.NoError(t, err)
	assert.True(t, stale, "another job's token is stale there")
	for _, g := range grants {
		h.finish("w", g)
	}
	assert.Empty(t, h.lease("w", 4), "all shards done: an empty answer, never ErrFinished")
	for _, job := range []string{a, b} {
		s := h.stat(job)
		assert.Equal(t, string(tracker.JobSucceeded), s.State, job)
		assert.Equal(t, int64(15), s.Counters.Verified, job)
		assert.Equal(t, int64(3), s.SucceedTasks, job)
	}
	_, err = h.m.Ack(ctx, "w", task.LeaseRef{Job: "nope", Pass: 1, Token: 1})
	assert.ErrorIs(t, err, ErrUnknownJob)
	assert.ErrorIs(t, h.m.Report(ctx, "w", task.LeaseRef{Job: "nope", Pass: 1, Token: 1}, nil), ErrUnknownJob)
}

func TestManagerDeadWorkerLeasesGoToTheLiving(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "j", 10)) // 2 shards
	h.register("dead", "alive")
	ctx := context.Background()
	g := h.lease("dead", 1)[0]
	require.NoError(t, h.m.Report(ctx, "dead", g.Ref(), verified(g.Objects[:2])))

	// "dead" goes silent; "alive" keeps heartbeating. Past the worker
	// timeout (15s) but well inside the lease TTL (1 min), the dead
	// worker's shard is handed out again.
	h.clock.Add(10 * time.Second)
	h.heartbeat("alive")
	h.clock.Add(10 * time.Second)
	h.heartbeat("alive")
	var again task.Grant
	held := h.lease("alive", 4)
	for _, x := range held {
		if x.ID == g.ID {
			again = x
		}
	}
	require.Equal(t, g.ID, again.ID, "the dead worker's shard is queued again before its lease TTL")
	assert.Equal(t, 2, again.Attempt)
	assert.Equal(t, g.Objects[2:], again.Objects, "objects it verified are not handed out again")
	for _, w := range h.m.Workers() {
		assert.Equal(t, w.Worker == "alive", w.Alive, w.Worker)
	}

	// It comes back late: its shard was leased again, so its report is
	// refused and counted, its ack stale, its heartbeat says the lease is
	// lost.
	require.ErrorIs(t, h.m.Report(ctx, "dead", g.Ref(), verified(g.Objects[2:3])), ErrStale)
	assert.Equal(t, int64(1), h.stat(job).StaleRefused)
	stale, err := h.m.Ack(ctx, "dead", g.Ref())
	require.NoError(t, err)
	assert.True(t, stale)
	lost, _ := h.heartbeat("dead", g.Ref())
	assert.Equal(t, []task.LeaseRef{g.Ref()}, lost)

	for _, x := range held {
		h.finish("alive", x)
	}
	s := h.stat(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, int64(10), s.Counters.Verified)
	assert.Zero(t, s.Counters.Failed)
}

func TestManagerUnknownWorkerIsAskedToRegister(t *testing.T) {
	h := newHarness(t)
	_, _, rereg, err := h.m.Heartbeat(context.Background(), "ghost", []task.LeaseRef{{Job: "x", Pass: 1, Token: 7}}, WorkerStats{})
	require.NoError(t, err)
	assert.True(t, rereg)
	// A lease before registering still works (the worker is tracked, and
	// still asked to register).
	_, err = h.m.Lease(context.Background(), "ghost", 1)
	require.NoError(t, err)
	lost, _, rereg, err := h.m.Heartbeat(context.Background(), "ghost", []task.LeaseRef{{Job: "x", Pass: 1, Token: 7}}, WorkerStats{})
	require.NoError(t, err)
	assert.True(t, rereg)
	assert.Equal(t, []task.LeaseRef{{Job: "x", Pass: 1, Token: 7}}, lost, "a lease of an unknown job is lost")
	h.register("ghost")
	h.heartbeat("ghost")
}

func TestManagerRestartResumesEveryJob(t *testing.T) {
	h := newHarness(t)
	a := h.submit(localJob(t, "a", 10)) // 2 shards each
	b := h.submit(localJob(t, "b", 10))
	h.register("w")
	ctx := context.Background()
	gs := h.lease("w", 4)
	require.Len(t, gs, 4)
	var doneA, halfB task.Grant
	for _, g := range gs {
		switch {
		case g.Job == a && doneA.Token == 0:
			doneA = g
			h.finish("w", g)
		case g.Job == b && halfB.Token == 0:
			halfB = g
			require.NoError(t, h.m.Report(ctx, "w", g.Ref(), verified(g.Objects[:2])))
		}
	}
	verifiedKeys := map[string]bool{}
	for _, o := range doneA.Objects {
		verifiedKeys[a+"/"+o.Key] = true
	}
	for _, o := range halfB.Objects[:2] {
		verifiedKeys[b+"/"+o.Key] = true
	}

	h.restart()
	// The worker does not know yet: its old token is stale now.
	stale, err := h.m.Ack(ctx, "w", halfB.Ref())
	require.NoError(t, err)
	assert.True(t, stale)
	h.clock.Add(time.Second)
	_, _, rereg, err := h.m.Heartbeat(ctx, "w", []task.LeaseRef{halfB.Ref()}, WorkerStats{})
	require.NoError(t, err)
	assert.True(t, rereg, "the restarted master does not know the worker")
	h.register("w2")
	again := h.lease("w2", 10)
	require.Len(t, again, 3, "a's second shard and both of b's are queued again")
	for _, g := range again {
		assert.Greater(t, g.Token, h.base, "tokens come from the new base")
		for _, o := range g.Objects {
			assert.False(t, verifiedKeys[g.Job+"/"+o.Key], "%s/%s was verified before the restart", g.Job, o.Key)
		}
		h.finish("w2", g)
	}
	for _, job := range []string{a, b} {
		s := h.stat(job)
		assert.Equal(t, string(tracker.JobSucceeded), s.State, job)
		assert.Equal(t, int64(10), s.Counters.Verified, job)
	}
}

func TestManagerStartScansAnUnfinishedPass(t *testing.T) {
	h := newHarness(t)
	cfg := localJob(t, "s", 12)
	// A master died right after beginning the pass, before any listing.
	require.NoError(t, h.m.files.saveConfig("s", "", cfg))
	j, err := h.m.files.loadConfig("s")
	require.NoError(t, err)
	_, _, err = h.m.beginPass(j)
	require.NoError(t, err)
	h.restart()
	h.waitScanned("s")
	h.register("w")
	h.drain("w")
	s := h.stat("s")
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, int64(12), s.Counters.Verified)
	assert.Equal(t, int64(3), s.Counters.Shards)
}

func TestManagerIncrementalJobRunsAgain(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "inc", 5, "isIncremental=true", "incrementalModeInterval=900"))
	h.register("w")
	h.drain("w")
	s := h.stat(job)
	require.Equal(t, string(tracker.JobSucceeded), s.State)
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, h.clock.Now().Add(900*time.Second), h.stat(job).NextPass)

	// Survives a restart, then starts when its time comes (the background
	// loop runs on the manager's clock).
	h.restart()
	assert.Equal(t, uint64(1), h.stat(job).Pass)
	h.clock.Add(901 * time.Second)
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.State == string(tracker.JobSucceeded)
	}, 10*time.Second, 10*time.Millisecond, "pass 2 runs and finishes")
	s = h.stat(job)
	assert.Equal(t, int64(5), s.Counters.Skipped, "verified and unchanged: skipped, not copied again")
	assert.Zero(t, s.Counters.Shards)
}
