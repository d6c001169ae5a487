package master

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// srcDirOf returns the local source directory of a localJob config.
func srcDirOf(t *testing.T, cfg string) string {
	t.Helper()
	for _, line := range strings.Split(cfg, "\n") {
		if v, ok := strings.CutPrefix(line, "srcPrefix="); ok {
			return v
		}
	}
	t.Fatal("config has no srcPrefix")
	return ""
}

// leaseLostInPass1 submits cfg and returns the grant worker "slow" holds
// when it goes silent past the worker timeout; "fast" takes its shard over
// and finishes pass 1, so the grant's results can only arrive late.
func (h *harness) leaseLostInPass1(cfg string) (job string, late task.Grant) {
	h.t.Helper()
	job = h.submit(cfg)
	h.register("slow", "fast")
	held := h.lease("slow", 1)
	require.Len(h.t, held, 1)
	h.clock.Add(10 * time.Second)
	h.heartbeat("fast")
	h.clock.Add(10 * time.Second)
	h.heartbeat("fast")
	h.drain("fast")
	require.Equal(h.t, string(tracker.JobSucceeded), h.stat(job).State)
	return job, held[0]
}

// A worker that lost its lease in pass 1 reports after pass 2 has begun
// over a changed source. Its results describe the old objects: recording
// them in pass 2 would make pass 2 skip the changed objects, and the
// destination would keep the old bytes while the job says verified.
func TestManagerRefusesLateReportFromEarlierPass(t *testing.T) {
	h := newHarness(t)
	cfg := localJob(t, "inc", 10, "isIncremental=true", "incrementalModeInterval=900")
	job, late := h.leaseLostInPass1(cfg)
	ctx := context.Background()
	require.Eventually(t, func() bool { return !h.stat(job).NextPass.IsZero() }, 5*time.Second, 5*time.Millisecond)

	// Every source object changes, then pass 2 lists them all again.
	src := srcDirOf(t, cfg)
	for _, o := range late.Objects {
		require.NoError(t, os.WriteFile(filepath.Join(src, o.Key), []byte("changed"), 0o644))
	}
	h.clock.Add(901 * time.Second)
	h.heartbeat("fast")
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.ScanFinished
	}, 10*time.Second, 5*time.Millisecond, "pass 2 scanned")

	// The late report of pass 1 arrives now.
	err := h.m.Report(ctx, "slow", late.Ref(), verified(late.Objects))
	require.ErrorIs(t, err, ErrStale, "a result of pass 1 is never recorded in pass 2")
	assert.Equal(t, int64(1), h.stat(job).StaleRefused, "the refusal is counted")

	// Pass 2 copies every changed object, those of the late report too.
	granted := map[string]bool{}
	for _, g := range h.lease("fast", 4) {
		assert.Equal(t, uint64(2), g.Pass)
		for _, o := range g.Objects {
			granted[o.Key] = true
		}
	}
	for _, o := range late.Objects {
		assert.True(t, granted[o.Key], "%s changed and must be copied in pass 2", o.Key)
	}
}

// The same hole in a cutover: the full copy's late report arrives while
// the window pass [T1, T2) runs over objects the source changed after T1.
// It is refused, and the window pass copies every changed object.
func TestManagerRefusesLateReportInACutoverPass(t *testing.T) {
	h := newHarness(t)
	cfg := localJob(t, "cut", 10)
	job, late := h.leaseLostInPass1(cfg)

	// T1 is before the application's changes; T2 an hour later.
	t1 := time.Now().Add(-time.Second).Truncate(time.Second)
	src := srcDirOf(t, cfg)
	for _, o := range late.Objects {
		require.NoError(t, os.WriteFile(filepath.Join(src, o.Key), []byte("changed"), 0o644))
	}
	window := fmt.Sprintf("importSince=%d\nimportUntil=%d\n", t1.Unix(), t1.Add(time.Hour).Unix())
	_, _, err := h.m.Submit(t.Context(), cfg+window, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.ScanFinished
	}, 10*time.Second, 5*time.Millisecond, "the window pass scanned")

	err = h.m.Report(context.Background(), "slow", late.Ref(), verified(late.Objects))
	require.ErrorIs(t, err, ErrStale, "a result of the full copy is never recorded in the window pass")

	granted := map[string]bool{}
	for _, g := range h.lease("fast", 4) {
		for _, o := range g.Objects {
			granted[o.Key] = true
		}
	}
	assert.Len(t, granted, len(late.Objects), "the window pass takes exactly the changed objects")
	for _, o := range late.Objects {
		assert.True(t, granted[o.Key], "%s changed after T1 and must be copied", o.Key)
	}
}
