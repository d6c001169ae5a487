package master

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManagerThrottleIsSharedAmongLiveWorkers(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "t", 5, "maxBytesPerSecond=300", "maxObjectsPerSecond=30"))
	free := h.submit(localJob(t, "free", 5))
	share := func(w string) JobThrottle {
		t.Helper()
		_, thr := h.heartbeat(w)
		require.Len(t, thr, 2, "every active job, unlimited ones included")
		assert.Equal(t, JobThrottle{Job: free}, thr[0], "an unlimited job stays unlimited")
		assert.Equal(t, job, thr[1].Job)
		return thr[1]
	}
	h.register("w1")
	assert.Equal(t, JobThrottle{job, 300, 30, 0}, share("w1"))
	h.register("w2")
	assert.Equal(t, JobThrottle{job, 150, 15, 0}, share("w1"))
	h.register("w3")
	assert.Equal(t, JobThrottle{job, 100, 10, 0}, share("w2"))

	// w3 goes silent past the worker timeout: the others share its part.
	h.clock.Add(10 * time.Second)
	share("w1")
	share("w2")
	h.clock.Add(10 * time.Second)
	share("w2")
	assert.Equal(t, JobThrottle{job, 150, 15, 0}, share("w1"))
	s := h.stat(job)
	assert.Equal(t, int64(300), s.BytesPerSecondLimit, "stat shows the cluster-wide limit")
	assert.Equal(t, 30.0, s.ObjectsPerSecondLimit)
}

func TestManagerSetThrottlePersists(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "t", 5, "maxBytesPerSecond=300"))
	ctx := context.Background()
	h.register("w1", "w2")
	require.NoError(t, h.m.SetThrottle(ctx, job, 1000, 8))
	_, thr := h.heartbeat("w1")
	assert.Equal(t, []JobThrottle{{job, 500, 4, 0}}, thr, "the change reaches the next heartbeat")
	assert.Equal(t, os.FileMode(0o600), fileMode(t, h.m.files.path(job, extThrottle)))
	require.NoError(t, h.m.Pause(ctx, job))

	h.restart()
	s := h.stat(job)
	assert.Equal(t, int64(1000), s.BytesPerSecondLimit, "the override outlives a restart")
	assert.Equal(t, 8.0, s.ObjectsPerSecondLimit)
	assert.Equal(t, "paused", s.State, "and so does a pause")
	h.register("w1")
	_, thr = h.heartbeat("w1")
	assert.Equal(t, []JobThrottle{{job, 1000, 8, 0}}, thr)
	assert.Empty(t, h.lease("w1", 1), "paused: nothing granted")

	assert.ErrorIs(t, h.m.SetThrottle(ctx, job, -1, 0), ErrInvalid)
	assert.ErrorIs(t, h.m.SetThrottle(ctx, "nope", 1, 0), ErrUnknownJob)
	require.NoError(t, h.m.SetThrottle(ctx, job, 0, 0))
	_, thr = h.heartbeat("w1")
	assert.Equal(t, []JobThrottle{{Job: job}}, thr, "0 lifts the limit")
}

func TestManagerSlowdownsBackOffTogether(t *testing.T) {
	h := newHarness(t)
	limited := h.submit(localJob(t, "lim", 5, "maxBytesPerSecond=300"))
	free := h.submit(localJob(t, "free", 5))
	h.register("w1", "w2")
	beat := func(w string, sent, slow int64) []JobThrottle {
		t.Helper()
		_, thr, _, err := h.m.Heartbeat(context.Background(), w, nil,
			WorkerStats{BytesSent: sent, Slowdowns: slow, Interval: time.Second})
		require.NoError(t, err)
		return thr
	}
	beat("w1", 600, 0) // 600 B/s each: the cluster moves 1200 B/s
	beat("w2", 600, 0)
	thr := beat("w1", 600, 2) // the destination pushes back
	assert.Equal(t, []JobThrottle{{Job: free, BytesPerSecond: 300}, {Job: limited, BytesPerSecond: 75}}, thr,
		"halved: the free job gets half the measured 1200 B/s, the limited one half its 300, split in two")
	assert.Equal(t, 0.5, h.stat(free).BackoffFactor)
	thr = beat("w2", 300, 5) // same window: no second decrease
	assert.Equal(t, int64(75), thr[1].BytesPerSecond)

	// Quiet windows: recovery, 0.1 per heartbeat window, back to no limit.
	for range 5 {
		h.clock.Add(testHeartbeat)
		beat("w1", 300, 0)
		beat("w2", 300, 0)
	}
	assert.Equal(t, []JobThrottle{{Job: free}, {Job: limited, BytesPerSecond: 150}}, beat("w1", 300, 0))
}

func TestManagerThrottleGoesToTheWorkersOnTheJob(t *testing.T) {
	h := newHarness(t)
	h.submit(localJob(t, "t", 10, "maxBytesPerSecond=300")) // 2 shards
	h.register("w1", "w2", "w3")
	_, thr := h.heartbeat("w1")
	assert.Equal(t, int64(100), thr[0].BytesPerSecond, "nobody on the job yet: an equal split")

	g := h.lease("w1", 1)[0]
	_, thr = h.heartbeat("w1", g.Ref())
	assert.Equal(t, int64(300), thr[0].BytesPerSecond, "the only worker on the job gets the whole limit")
	_, thr = h.heartbeat("w2")
	assert.Equal(t, int64(100), thr[0].BytesPerSecond, "an idle worker gets what an equal split would give it")

	g2 := h.lease("w2", 1)[0]
	_, thr = h.heartbeat("w2", g2.Ref())
	assert.Equal(t, int64(150), thr[0].BytesPerSecond)
	_, thr = h.heartbeat("w1", g.Ref())
	assert.Equal(t, int64(150), thr[0].BytesPerSecond)

	// w1 finishes its shard and stays without work: after a worker timeout
	// it no longer counts, and w2 gets the whole limit.
	h.finish("w1", g)
	for range 4 {
		h.clock.Add(testHeartbeat)
		h.heartbeat("w1")
		h.heartbeat("w3")
		_, thr = h.heartbeat("w2", g2.Ref())
	}
	assert.Equal(t, int64(300), thr[0].BytesPerSecond)
}
