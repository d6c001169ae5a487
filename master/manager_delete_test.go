package master

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// deleteJob is localJob (f000..f006 at the source) with a destination
// holding copies of them plus extras, and the given delete settings.
func deleteJob(t *testing.T, name string, extras []string, settings ...string) (cfg string, dst storage.Backend) {
	t.Helper()
	cfg = localJob(t, name, 7, append([]string{"deleteExtraneous=true"}, settings...)...)
	dir := strings.TrimPrefix(lineOf(cfg, "destPrefix="), "destPrefix=")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	dst, err := local.New(dir, local.Options{})
	require.NoError(t, err)
	keys := append([]string{"f000", "f001", "f002", "f003", "f004", "f005", "f006"}, extras...)
	for _, k := range keys {
		_, err := dst.Put(t.Context(), k, bytes.NewReader([]byte("x")), storage.ObjectInfo{Size: 1})
		require.NoError(t, err)
	}
	return cfg, dst
}

// destKeys lists a destination.
func destKeys(t *testing.T, b storage.Backend, prefix string) []string {
	t.Helper()
	var keys []string
	require.NoError(t, b.List(t.Context(), prefix, "", func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}))
	return keys
}

// records returns the destination keys of the job's manifest entries of
// pass with status, sorted.
func records(t *testing.T, st *tracker.Store, job string, pass uint64, status task.Status) []string {
	t.Helper()
	var out []string
	require.NoError(t, st.Manifest(job, status, "", func(e tracker.Entry) error {
		if e.Pass == pass {
			out = append(out, e.Dest)
		}
		return nil
	}))
	slices.Sort(out)
	return out
}

// runToEnd copies the pass (a test worker reporting every object
// verified) and waits for the pass to end.
func (h *harness) runToEnd(job string) JobStat {
	h.t.Helper()
	h.register("w")
	h.drain("w")
	require.Eventually(h.t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 10*time.Second, 5*time.Millisecond)
	return h.stat(job)
}

// TestManagerDeleteGuard: a pass that would delete more than either limit
// deletes nothing, fails the job, and says why with the count and the
// limit; each object that would have gone is recorded.
func TestManagerDeleteGuard(t *testing.T) {
	for _, tc := range []struct {
		name     string
		extras   []string
		settings []string
		problem  string
	}{
		{"count", []string{"x1", "x2", "x3"}, []string{"deleteMaxCount=2", "deleteMaxPercent=100"},
			"3 destination objects have no source object, more than deleteMaxCount=2 (raise the limit, or check the source, then run the job again); nothing was deleted"},
		{"percent", []string{"x1", "x2"}, []string{"deleteMaxPercent=20"},
			"2 of 9 destination objects (22.2%) have no source object, more than deleteMaxPercent=20 (raise the limit, or check the source, then run the job again); nothing was deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			cfg, dst := deleteJob(t, "guard", tc.extras, tc.settings...)
			before := destKeys(t, dst, "")
			job := h.submit(cfg)
			s := h.runToEnd(job)
			assert.Equal(t, string(tracker.JobFailed), s.State)
			assert.Contains(t, s.Problem, tc.problem)
			assert.Equal(t, before, destKeys(t, dst, ""), "nothing deleted")
			assert.Zero(t, s.Counters.Deleted)
			assert.Equal(t, int64(len(tc.extras)), s.Counters.WouldDelete)
			assert.Equal(t, tc.extras, records(t, h.st, job, s.Pass, task.StatusWouldDelete))
			assert.Zero(t, s.Counters.Failed, "the copy itself was clean")

			h.restart()
			assert.Contains(t, h.stat(job).Problem, tc.problem, "the reason outlives a restart")
		})
	}
}

// TestManagerDeleteDryRun: the dry run records exactly the extra keys,
// deletes nothing, and the job succeeds.
func TestManagerDeleteDryRun(t *testing.T) {
	h := newHarness(t)
	extras := []string{"a/deep/x", "g-extra", "zz"}
	cfg, dst := deleteJob(t, "dry", extras, "deleteDryRun=true", "deleteMaxCount=1")
	before := destKeys(t, dst, "")
	job := h.submit(cfg)
	s := h.runToEnd(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, before, destKeys(t, dst, ""), "a dry run deletes nothing")
	assert.Equal(t, extras, records(t, h.st, job, s.Pass, task.StatusWouldDelete))
	assert.Equal(t, int64(3), s.Counters.WouldDelete)
	assert.Zero(t, s.Counters.Deleted)
	var reason string
	require.NoError(t, h.st.Manifest(job, task.StatusWouldDelete, "", func(e tracker.Entry) error { reason = e.Reason; return nil }))
	assert.Contains(t, reason, "dry run")
	assert.Contains(t, reason, "a real run would stop: 3 destination objects have no source object, more than deleteMaxCount=1")
}

// TestManagerDeleteSkippedAfterFailures: a pass with a failed object
// deletes nothing, since that object's copy would look extraneous.
func TestManagerDeleteSkippedAfterFailures(t *testing.T) {
	h := newHarness(t)
	cfg, dst := deleteJob(t, "partial", []string{"x1"}, "deleteMaxPercent=100")
	before := destKeys(t, dst, "")
	job := h.submit(cfg)
	h.register("w")
	for _, g := range h.leaseAll("w") {
		res := verified(g.Objects)
		res[0].Status, res[0].Method, res[0].Reason = task.StatusFailed, "", "boom"
		require.NoError(t, h.m.Report(t.Context(), "w", g.Ref(), res))
		_, err := h.m.Ack(t.Context(), "w", g.Ref())
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 10*time.Second, 5*time.Millisecond)
	s := h.stat(job)
	assert.Equal(t, string(tracker.JobFailed), s.State)
	assert.Equal(t, before, destKeys(t, dst, ""))
	assert.Zero(t, s.Counters.Deleted+s.Counters.WouldDelete)
}

// stopAfterDeleteRecords is the tracker with the master "killed" right
// after it recorded a batch of deletions and before it deleted anything:
// the Report goes through, then fails.
type stopAfterDeleteRecords struct {
	*tracker.Store
	hit atomic.Bool
}

func (s *stopAfterDeleteRecords) Report(job string, n uint64, results []task.Result) error {
	if err := s.Store.Report(job, n, results); err != nil {
		return err
	}
	if len(results) > 0 && results[0].Status == task.StatusDeleted {
		s.hit.Store(true)
		return errors.New("killed")
	}
	return nil
}

// TestManagerDeleteResumedAfterRestart: deletions recorded but not done
// when the master stopped are done by the restarted master, in the same
// pass, counted once.
func TestManagerDeleteResumedAfterRestart(t *testing.T) {
	h := newHarness(t)
	stop := &stopAfterDeleteRecords{Store: h.st}
	h.store = stop
	h.restart()
	cfg, dst := deleteJob(t, "resume", []string{"x1", "x2"}, "deleteMaxPercent=50")
	job := h.submit(cfg)
	h.register("w")
	h.drain("w")
	require.Eventually(t, stop.hit.Load, 10*time.Second, 5*time.Millisecond)
	assert.Contains(t, destKeys(t, dst, ""), "x1", "recorded, not yet deleted")
	assert.Equal(t, string(tracker.JobRunning), h.stat(job).State, "the pass stays open until its deletes are done")

	h.store = nil
	h.restart()
	require.Eventually(t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 10*time.Second, 5*time.Millisecond)
	s := h.stat(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, uint64(1), s.Pass, "the same pass, resumed")
	assert.Equal(t, []string{"f000", "f001", "f002", "f003", "f004", "f005", "f006"}, destKeys(t, dst, ""))
	assert.Equal(t, int64(2), s.Counters.Deleted, "each deletion counted once")
	assert.Equal(t, []string{"x1", "x2"}, records(t, h.st, job, s.Pass, task.StatusDeleted))
}

// TestManagerDeleteOnS3: a real delete pass against versitygw deletes
// exactly the destination objects under destPrefix with no source object
// (nothing outside destPrefix), records each in the manifest and counts
// them.
func TestManagerDeleteOnS3(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	ctx := t.Context()
	put := buckets(t, srv, "dsrc", "ddst")
	for _, k := range []string{"k0", "k1", "sub/k2", "k 3+%"} {
		put("dsrc", "in/"+k)
		put("ddst", "out/"+k)
	}
	extras := []string{"out/gone", "out/sub/deep/gone 2", "out/zz"}
	for _, k := range extras {
		put("ddst", k)
	}
	outside := []string{"other/keep", "outx/keep"} // no source either, but not under destPrefix "out/"
	for _, k := range outside {
		put("ddst", k)
	}
	side := func(p, bucket, prefix string) string {
		return strings.Join([]string{p + "Type=s3", p + "Domain=" + srv.Endpoint, p + "Bucket=" + bucket, p + "Prefix=" + prefix,
			p + "AccessKey=" + srv.AccessKey, p + "SecretKey=" + srv.SecretKey, p + "PathStyle=true",
			p + "CABundle=" + srv.Cert.CertFile}, "\n")
	}
	cfg := strings.Join([]string{"jobName=s3-deletes", "taskObjectCountLimit=2", "deleteExtraneous=true", "deleteMaxPercent=50",
		side("src", "dsrc", "in/"), side("dest", "ddst", "out/")}, "\n") + "\n"

	h := newHarness(t)
	job := h.submit(cfg)
	s := h.runToEnd(job)
	require.Equal(t, string(tracker.JobSucceeded), s.State, s.Problem)

	out, err := srv.Client().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("ddst")})
	require.NoError(t, err)
	var left []string
	for _, o := range out.Contents {
		left = append(left, aws.ToString(o.Key))
	}
	assert.Equal(t, []string{"other/keep", "out/k 3+%", "out/k0", "out/k1", "out/sub/k2", "outx/keep"}, left,
		"the extras under out/ are gone; everything else stays")
	assert.Equal(t, int64(3), s.Counters.Deleted)
	assert.Equal(t, int64(4), s.Counters.Verified)
	slices.Sort(extras)
	assert.Equal(t, extras, records(t, h.st, job, s.Pass, task.StatusDeleted))
	e, err := h.st.Lookup(job, []string{"in/zz"})
	require.NoError(t, err)
	assert.Equal(t, "out/zz", e["in/zz"].Dest, "recorded under the source key it would have")
	assert.Equal(t, int64(len("data of out/zz")), e["in/zz"].Size)
	assert.Contains(t, e["in/zz"].Reason, "no source object in pass 1")
}

// TestManagerMirror: backupKind=mirror is delete propagation without
// asking for it: after a clean pass the destination holds exactly the
// source, the extras deleted and recorded.
func TestManagerMirror(t *testing.T) {
	h := newHarness(t)
	cfg := localJob(t, "mirror", 7, "backupKind=mirror", "deleteMaxPercent=100")
	dir := strings.TrimPrefix(lineOf(cfg, "destPrefix="), "destPrefix=")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	dst, err := local.New(dir, local.Options{})
	require.NoError(t, err)
	for _, k := range []string{"f000", "gone1", "gone2"} {
		_, err := dst.Put(t.Context(), k, bytes.NewReader([]byte("x")), storage.ObjectInfo{Size: 1})
		require.NoError(t, err)
	}
	job := h.submit(cfg)
	s := h.runToEnd(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, int64(2), s.Counters.Deleted)
	assert.Equal(t, []string{"gone1", "gone2"}, records(t, h.st, job, s.Pass, task.StatusDeleted))
	assert.Equal(t, []string{"f000"}, destKeys(t, dst, ""), "the test worker copies nothing; only the extras went")
}

// TestManagerDeletesSpareProbeObjects: a worker probing the destination's
// conditional writes puts a scratch object under destPrefix for a moment;
// delete propagation running meanwhile neither deletes nor counts it (it
// is ferry's, and the worker removes it).
func TestManagerDeletesSpareProbeObjects(t *testing.T) {
	h := newHarness(t)
	probe := ".ferry-probe-0123456789abcdef"
	cfg, dst := deleteJob(t, "probe", []string{"x1", probe}, "deleteMaxPercent=100")
	job := h.submit(cfg)
	s := h.runToEnd(job)
	assert.Equal(t, string(tracker.JobSucceeded), s.State)
	assert.Equal(t, int64(1), s.Counters.Deleted, "only x1")
	assert.Equal(t, []string{"x1"}, records(t, h.st, job, s.Pass, task.StatusDeleted))
	assert.Contains(t, destKeys(t, dst, ""), probe)
}
