package master

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// flakyStore is the tracker with StartPass failing while broken is set,
// and AppendShards (the scan's writes) while scanBroken is.
type flakyStore struct {
	*tracker.Store
	broken, scanBroken atomic.Bool
}

func (f *flakyStore) AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp tracker.ScanCheckpoint) ([]uint64, error) {
	if f.scanBroken.Load() {
		return nil, errors.New("disk full")
	}
	return f.Store.AppendShards(job, n, shards, skipped, cp)
}

func (f *flakyStore) StartPass(job string, started time.Time) (tracker.Pass, error) {
	if f.broken.Load() {
		return tracker.Pass{}, errors.New("disk full")
	}
	return f.Store.StartPass(job, started)
}

func TestManagerScheduledPassThatCannotStartIsRetried(t *testing.T) {
	h := newHarness(t)
	flaky := &flakyStore{Store: h.st}
	h.store = flaky
	h.restart()
	job := h.submit(localJob(t, "inc", 5, "isIncremental=true", "incrementalModeInterval=900"))
	h.register("w")
	h.drain("w")
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)

	flaky.broken.Store(true)
	due := h.clock.Now().Add(901 * time.Second)
	h.clock.Add(901 * time.Second)
	require.Eventually(t, func() bool { return h.stat(job).Problem != "" }, 5*time.Second, 5*time.Millisecond)
	s := h.stat(job)
	assert.Contains(t, s.Problem, "disk full", "stat says why the pass did not start")
	assert.Equal(t, uint64(1), s.Pass)
	assert.Equal(t, due.Add(time.Minute), s.NextPass, "tried again a minute later, not at once")

	flaky.broken.Store(false)
	h.clock.Add(901 * time.Second)
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.State == string(tracker.JobSucceeded)
	}, 10*time.Second, 10*time.Millisecond, "pass 2 runs once the store works")
	assert.Empty(t, h.stat(job).Problem)
}

// A scan that fails is retried from its checkpoint, with the reason in
// stat meanwhile, and the pass then finishes with nothing lost.
func TestManagerFailedScanIsRetried(t *testing.T) {
	h := newHarness(t)
	flaky := &flakyStore{Store: h.st}
	flaky.scanBroken.Store(true)
	h.store = flaky
	h.restart()
	job, _, err := h.m.Submit(t.Context(), localJob(t, "scan", 7), "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return h.stat(job).Problem != "" }, 5*time.Second, 5*time.Millisecond)
	p := h.stat(job).Problem
	assert.True(t, strings.HasPrefix(p, "scan: scanning local "), p)
	assert.True(t, strings.HasSuffix(p, ": disk full (retrying)"), p)
	assert.False(t, h.stat(job).ScanFinished)

	flaky.scanBroken.Store(false)
	h.waitScanned(job) // the retry comes after a pause of real time (1s)
	// The problem is cleared just after the scan is recorded finished.
	require.Eventually(t, func() bool { return h.stat(job).Problem == "" }, 5*time.Second, 5*time.Millisecond,
		"cleared once the scan went through")
	h.register("w")
	h.drain("w")
	require.Eventually(t, func() bool { return h.stat(job).State == string(tracker.JobSucceeded) }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, int64(7), h.stat(job).Counters.Verified)
}

// A job with a cron schedule runs again at its next time, after a restart
// too; stat shows when.
func TestManagerScheduledJobRunsAtItsTime(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "cron", 5, "schedule=0 3 * * *"))
	h.register("w")
	h.drain("w")
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)
	at := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	require.True(t, t0.Before(at), "the harness starts before 03:00")
	assert.True(t, at.Equal(h.stat(job).NextPass), "next pass %s, want %s", h.stat(job).NextPass, at)

	h.restart()
	h.clock.Add(at.Sub(h.clock.Now()))
	// The next time is set just after the pass is recorded finished (as
	// pass 1's above): wait for both.
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.State == string(tracker.JobSucceeded) && !s.NextPass.IsZero()
	}, 10*time.Second, 10*time.Millisecond, "pass 2 runs at 03:00")
	assert.True(t, at.Add(24*time.Hour).Equal(h.stat(job).NextPass), "then the next day at 03:00")
}

// stat says when a scheduled job last ran and when it runs next.
func TestManagerStatShowsLastAndNextRun(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "runs", 3, "schedule=@every 1h"))
	assert.True(t, h.stat(job).LastRun.IsZero(), "no pass has finished yet")
	h.register("w")
	h.drain("w")
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)
	s := h.stat(job)
	assert.True(t, h.clock.Now().Equal(s.LastRun), "last run %s, want the fake clock's %s", s.LastRun, h.clock.Now())
	assert.True(t, s.LastRun.Add(time.Hour).Equal(s.NextPass), "next run an hour after the last")
}

// A pass that runs past scheduled times does not make them run later: they
// are skipped, and stat counts them.
func TestManagerCountsSkippedRuns(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "slow", 3, "schedule=0 * * * *"))
	h.clock.Add(2*time.Hour + 30*time.Minute) // 01:00 and 02:00 come while pass 1 runs
	h.register("w")
	h.drain("w")
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)
	s := h.stat(job)
	assert.Equal(t, int64(2), s.SkippedRuns)
	assert.True(t, time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC).Equal(s.NextPass), "the next time after the pass, not a queued one: %s", s.NextPass)
	h.restart()
	assert.Equal(t, int64(2), h.stat(job).SkippedRuns, "kept in the tracker")
}
