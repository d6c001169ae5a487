package master

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

func TestManagerPauseResumeCancelClean(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "p", 15)) // 3 shards
	h.register("w")
	ctx := context.Background()
	g1 := h.lease("w", 1)[0]

	require.NoError(t, h.m.Pause(ctx, job))
	assert.Equal(t, "paused", h.stat(job).State)
	assert.Empty(t, h.lease("w", 3), "paused: nothing granted")
	h.finish("w", g1) // a lease in flight runs to its end
	require.NoError(t, h.m.Resume(ctx, job))
	assert.Equal(t, string(tracker.JobRunning), h.stat(job).State)
	g2 := h.lease("w", 1)[0]
	require.NoError(t, h.m.Report(ctx, "w", g2.Ref(), verified(g2.Objects[:1])))

	assert.ErrorIs(t, h.m.Clean(ctx, job), ErrJobState, "a running job is not cleaned")
	require.NoError(t, h.m.Cancel(ctx, job))
	assert.Equal(t, string(tracker.JobCanceled), h.stat(job).State)
	lost, _ := h.heartbeat("w", g2.Ref())
	assert.Equal(t, []task.LeaseRef{g2.Ref()}, lost, "cancel drops the leases")
	assert.Empty(t, h.lease("w", 3), "canceled: nothing granted")
	require.NoError(t, h.m.Report(ctx, "w", g2.Ref(), verified(g2.Objects[1:2])), "a late report still counts")
	stale, err := h.m.Ack(ctx, "w", g2.Ref())
	require.NoError(t, err)
	assert.True(t, stale)
	assert.ErrorIs(t, h.m.Pause(ctx, job), ErrJobState)

	// Resume continues the canceled pass where it stopped.
	require.NoError(t, h.m.Resume(ctx, job))
	assert.Equal(t, string(tracker.JobRunning), h.stat(job).State)
	for _, g := range h.lease("w", 3) {
		if g.ID == g2.ID {
			assert.Equal(t, g2.Objects[2:], g.Objects, "reported objects are not copied again")
		}
		h.finish("w", g)
	}
	s := h.stat(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, int64(15), s.Counters.Verified)
	assert.Equal(t, uint64(1), s.Pass)
	assert.ErrorIs(t, h.m.Resume(ctx, job), ErrJobState, "a finished job is not resumed")

	// Clean forgets it, multipart state and saved files included.
	require.NoError(t, h.m.SaveUpload(ctx, task.UploadState{Job: job, Key: "k", Dest: "k", UploadID: "u"}))
	require.NoError(t, h.m.Clean(ctx, job))
	_, err = h.m.Stat(job)
	assert.ErrorIs(t, err, ErrUnknownJob)
	_, ok, err := h.st.GetJob(job)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = os.Stat(h.m.files.path(job, extConfig))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.ErrorIs(t, h.m.Clean(ctx, job), ErrUnknownJob)
}

func TestManagerRetryRequeuesFailures(t *testing.T) {
	h := newHarness(t)
	job := h.submit(localJob(t, "r", 5))
	h.register("w")
	ctx := context.Background()
	g := h.lease("w", 1)[0]
	res := verified(g.Objects)
	res[1].Status, res[1].Reason, res[1].Class = task.StatusFailed, "boom", "permanent"
	require.NoError(t, h.m.Report(ctx, "w", g.Ref(), res))
	_, err := h.m.Ack(ctx, "w", g.Ref())
	require.NoError(t, err)
	assert.Equal(t, string(tracker.JobFailed), h.stat(job).State)
	failed, err := h.m.Failed(job, 0)
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, "boom", failed[0].Reason)

	n, err := h.m.Retry(ctx, job)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	again := h.lease("w", 4)
	require.Len(t, again, 1)
	assert.Equal(t, []task.Object{g.Objects[1]}, again[0].Objects)
	h.finish("w", again[0])
	s := h.stat(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Zero(t, s.Counters.Failed)
}

func TestManagerSubmitErrors(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	base := localJob(t, "e", 1)

	_, _, err := h.m.Submit(ctx, base+"destBuckett=x\n", "job.cfg")
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "destBuckett", "the message names the key")
	t.Logf("bad config: %v", err)

	missing := filepath.Join(t.TempDir(), "no-such-dir")
	_, _, err = h.m.Submit(ctx, strings.Join([]string{"jobName=m", "srcType=local", "srcPrefix=" + missing,
		"destType=local", "destPrefix=" + t.TempDir()}, "\n"), "")
	assert.ErrorIs(t, err, ErrCheck)
	assert.ErrorContains(t, err, missing, "the message names what is missing")
	t.Logf("missing directory: %v", err)
	_, err = h.m.Stat("m")
	assert.ErrorIs(t, err, ErrUnknownJob, "a job that failed its check leaves nothing behind")
	_, err = os.Stat(h.m.files.path("m", extConfig))
	assert.ErrorIs(t, err, os.ErrNotExist)

	job := h.submit(base)
	_, _, err = h.m.Submit(ctx, base, "")
	assert.ErrorIs(t, err, ErrJobState, "already running")
	_, _, err = h.m.Submit(ctx, localJob(t, job, 1), "")
	assert.ErrorIs(t, err, ErrJobExists, "same name, another source")
	assert.ErrorContains(t, err, job)
}

// TestManagerSubmitS3 needs versitygw: a missing bucket is named by the
// check, and the credentials of a submitted job stay in its 0600 file.
func TestManagerSubmitS3(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	srv.CreateBucket(t, "src")
	h := newHarness(t)
	ctx := context.Background()
	cfg := func(name, bucket string) string {
		return strings.Join([]string{"jobName=" + name, "srcType=s3", "srcDomain=" + srv.Endpoint, "srcBucket=" + bucket,
			"srcAccessKey=" + srv.AccessKey, "srcSecretKey=" + srv.SecretKey, "srcPathStyle=true",
			"srcCABundle=" + srv.Cert.CertFile, "destType=local", "destPrefix=" + t.TempDir()}, "\n") + "\n"
	}
	_, _, err := h.m.Submit(ctx, cfg("nb", "no-such-bucket"), "")
	assert.ErrorIs(t, err, ErrCheck)
	assert.ErrorContains(t, err, "no-such-bucket")
	t.Logf("missing bucket: %v", err)
	assert.NotContains(t, err.Error(), srv.SecretKey)

	text := cfg("s3job", "src")
	job := h.submit(text)
	path := h.m.files.path(job, extConfig)
	assert.Equal(t, os.FileMode(0o600), fileMode(t, path))
	assert.Equal(t, os.FileMode(0o700), fileMode(t, filepath.Dir(path)))
	got, err := h.m.JobConfig(job)
	require.NoError(t, err)
	assert.Equal(t, text, got, "workers get the config as submitted")

	stats, err := h.m.Stat("")
	require.NoError(t, err)
	for _, s := range stats {
		out := fmt.Sprintf("%+v %#v", s, s)
		assert.NotContains(t, out, srv.SecretKey)
	}
	j, _, err := h.st.GetJob(job)
	require.NoError(t, err)
	assert.NotContains(t, j.Config, srv.SecretKey, "the tracker keeps the redacted config")
	assert.Contains(t, j.Config, "srcBucket=src")
}
