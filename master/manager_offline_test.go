package master

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// offline closes the harness's manager and returns an Offline one on the
// same tracker and data dir, as `ferry stat` without --master makes.
func (h *harness) offline() *Manager {
	h.t.Helper()
	h.m.Close()
	m, err := NewManager(ManagerConfig{Store: h.st, DataDir: h.dir, Now: h.clock.Now, Offline: true})
	require.NoError(h.t, err)
	require.NoError(h.t, m.Start(h.t.Context()))
	h.t.Cleanup(m.Close)
	h.m = m
	return m
}

// failOne finishes the job's pass with every object verified but the
// first, which fails.
func (h *harness) failOne(w string) {
	h.t.Helper()
	first := true
	for range 100 {
		gs := h.lease(w, 4)
		if len(gs) == 0 {
			return
		}
		for _, g := range gs {
			res := verified(g.Objects)
			if first {
				res[0].Status, res[0].Method, res[0].Reason, res[0].Class = task.StatusFailed, "", "boom", "permanent"
				first = false
			}
			require.NoError(h.t, h.m.Report(context.Background(), w, g.Ref(), res))
			_, err := h.m.Ack(context.Background(), w, g.Ref())
			require.NoError(h.t, err)
		}
	}
	h.t.Fatal("failOne: work never ran out")
}

// A pass with nothing to do shows zeros for itself, and the job's totals
// still hold what pass 1 listed and verified.
func TestStatTotalsAcrossPasses(t *testing.T) {
	h := newHarness(t)
	cfg := localJob(t, "tot", 7)
	job := h.submit(cfg)
	h.register("w")
	h.drain("w")
	require.Equal(t, string(tracker.JobSucceeded), h.stat(job).State)

	_, _, err := h.m.Submit(t.Context(), cfg, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s := h.stat(job)
		return s.Pass == 2 && s.State == string(tracker.JobSucceeded)
	}, 10*time.Second, 5*time.Millisecond, "pass 2 finishes by itself: nothing changed")

	for name, s := range map[string]JobStat{"running master": h.stat(job), "offline": h.offlineStat(job)} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, uint64(2), s.Pass)
			assert.Zero(t, s.Counters.Verified, "pass 2 copied nothing")
			assert.Zero(t, s.Counters.Shards)
			assert.Equal(t, int64(7), s.Totals.Verified, "pass 1's copies")
			assert.Equal(t, int64(14), s.Totals.Scanned, "each pass listed all 7")
			assert.Equal(t, int64(7), s.Totals.Skipped, "pass 2 skipped all 7")
			assert.Equal(t, int64(2), s.Totals.Shards, "7 objects in shards of 5")
			assert.Equal(t, int64(2), s.Totals.ShardsDone)
			assert.Equal(t, "import", s.Type)
		})
	}
}

func (h *harness) offlineStat(job string) JobStat {
	h.t.Helper()
	ss, err := h.offline().Stat(job)
	require.NoError(h.t, err)
	return ss[0]
}

// An Offline manager answers as the master would, runs nothing, and
// cleans a job the tracker still calls running (nothing runs it).
func TestOfflineManager(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "off", 6))
	h.register("w")
	h.failOne("w")
	require.Equal(t, string(tracker.JobFailed), h.stat(job).State)
	m := h.offline()

	s := h.stat(job)
	assert.Equal(t, string(tracker.JobFailed), s.State)
	assert.Equal(t, int64(5), s.Counters.Verified)
	assert.Equal(t, int64(1), s.Counters.Failed)
	fs, err := m.Failed(job, 0)
	require.NoError(t, err)
	require.Len(t, fs, 1)
	assert.Equal(t, "boom", fs[0].Reason)

	n, err := m.Retry(t.Context(), job)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, live := m.Live(job)
	assert.False(t, live, "retry queues for the next run; no pass runs here")
	assert.Equal(t, string(tracker.JobRunning), h.stat(job).State)

	_, _, err = m.Submit(t.Context(), localJob(t, "new", 1), "")
	assert.ErrorIs(t, err, ErrJobState)
	assert.ErrorIs(t, m.Resume(t.Context(), job), ErrJobState)

	_, err = m.CleanJob(t.Context(), job, CleanOptions{})
	require.NoError(t, err, "running in the tracker, but nothing runs it")
	_, err = m.Stat(job)
	assert.ErrorIs(t, err, ErrUnknownJob)
	assert.NoFileExists(t, filepath.Join(h.dir, "jobs", job+".cfg"))
}

// Clean refuses to drop unfinished uploads it has no config to abort,
// unless forced, and takes only the job's own config.
func TestCleanUploads(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "up", 2))
	h.register("w")
	h.drain("w")
	require.NoError(t, os.Remove(filepath.Join(h.dir, "jobs", job+".cfg")), "as for a `ferry run` job")
	up := task.UploadState{Job: job, Key: "big", Dest: "dst/big", UploadID: "u-1", PartSize: 5 << 20}
	require.NoError(t, h.st.PutUpload(up))
	m := h.offline()

	_, err := m.CleanJob(t.Context(), job, CleanOptions{})
	assert.ErrorIs(t, err, ErrUploadsLeft)
	assert.ErrorIs(t, err, ErrJobState)
	assert.Contains(t, err.Error(), `job "up" has 1`)

	other, err := conf.Parse(strings.NewReader(localJob(t, "other", 1)), "other.cfg")
	require.NoError(t, err)
	_, err = m.CleanJob(t.Context(), job, CleanOptions{Config: other})
	assert.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), `"other"`)

	done, err := m.CleanJob(t.Context(), job, CleanOptions{Force: true})
	require.NoError(t, err)
	require.Len(t, done.Forgotten, 1)
	assert.Equal(t, "u-1", done.Forgotten[0].UploadID)
	assert.Empty(t, done.Aborted)
}

// Without a saved config, the type comes from the tracker's redacted copy.
func TestOfflineAuditType(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "aud", 3, "jobType=audit"))
	h.register("w")
	h.drain("w") // audits run on workers; this one finds every object matching
	require.Eventually(t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, os.Remove(filepath.Join(h.dir, "jobs", job+".cfg")))
	s := h.offlineStat(job)
	assert.Equal(t, "audit", s.Type)
	assert.Equal(t, int64(3), s.Counters.Verified)
	assert.Equal(t, int64(3), s.Totals.Verified)
}

// The tracker's copy of a config has its secrets masked; it still tells
// the job's type (and time window).
func TestJobTypeFromRedactedConfig(t *testing.T) {
	text := strings.Join([]string{"jobName=r", "jobType=audit", "srcType=s3", "srcDomain=https://s3.example.com",
		"srcBucket=a", "srcAccessKey=AKIAEXAMPLEEXAMPLE", "srcSecretKey=very-secret-key-0123456789",
		"destType=oss", "destDomain=https://oss-cn-hangzhou.aliyuncs.com", "destBucket=b",
		"destAccessKey=LTAIEXAMPLEEXAMPLE", "destSecretKey=other-secret-key-0123456789"}, "\n")
	cfg, err := conf.Parse(strings.NewReader(text), "r.cfg")
	require.NoError(t, err)
	red := cfg.Redacted()
	require.NotContains(t, red, "very-secret-key")
	back := jobConfig(nil, tracker.Job{Name: "r", Config: red})
	require.NotNil(t, back)
	assert.Equal(t, conf.JobAudit, back.Type)
	assert.Same(t, cfg, jobConfig(cfg, tracker.Job{}))
	assert.Nil(t, jobConfig(nil, tracker.Job{Name: "r", Config: "not a config"}))
	assert.Nil(t, jobConfig(nil, tracker.Job{Name: "r"}))
}
