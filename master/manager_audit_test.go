package master

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// auditResults answers grants as a worker's audit would: the objects in
// present are verified (by CRC64, with crc), the rest missing.
func auditResults(objs []task.Object, present map[string]bool, crc uint64) []task.Result {
	out := make([]task.Result, len(objs))
	for i, o := range objs {
		out[i] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusVerified, Method: task.MethodCRC64,
			Size: o.Size, ModTime: o.ModTime, CRC64: crc, HasCRC64: true}
		if !present[o.Key] {
			out[i] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusFailed, Class: "audit",
				Reason: "missing at destination", Size: o.Size, ModTime: o.ModTime}
		}
	}
	return out
}

// leaseAll leases until nothing is left and returns the grants.
func (h *harness) leaseAll(w string) []task.Grant {
	h.t.Helper()
	var all []task.Grant
	for range 100 {
		gs := h.lease(w, 4)
		if len(gs) == 0 {
			return all
		}
		all = append(all, gs...)
	}
	h.t.Fatal("leaseAll: work never ran out")
	return nil
}

// TestManagerAuditIsLeasedAsShards: an audit pass is sharded and handed to
// workers like a copy pass, with grants that say "audit" and carry the
// manifest's CRC64 of each unchanged object; the master records nothing
// of its own, and counts the objects only at the destination once every
// source object has its result.
func TestManagerAuditIsLeasedAsShards(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := localJob(t, "aud", 7)
	// An import pass first, under the same job name: its manifest is what
	// the audit's grants carry.
	job := h.submit(cfg)
	h.register("w")
	for _, g := range h.leaseAll("w") {
		assert.False(t, g.Audit, "a copy pass's grant")
		res := verified(g.Objects)
		for i := range res {
			if res[i].Key != "f006" { // one object has no CRC64 in the manifest
				res[i].CRC64, res[i].HasCRC64 = 0xC0FFEE, true
			}
		}
		require.NoError(t, h.m.Report(ctx, "w", g.Ref(), res))
		_, err := h.m.Ack(ctx, "w", g.Ref())
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return h.stat(job).State == string(tracker.JobSucceeded) }, 10*time.Second, 5*time.Millisecond)

	// The destination: f000..f004 as copied, two objects only there.
	dstDir := strings.TrimPrefix(lineOf(cfg, "destPrefix="), "destPrefix=")
	dst, err := local.New(dstDir, local.Options{})
	require.NoError(t, err)
	for _, k := range []string{"f000", "f001", "f002", "f003", "f004", "zz-extra1", "zz-extra2", "zz-filtered.tmp"} {
		_, err := dst.Put(ctx, k, bytes.NewReader([]byte{1}), storage.ObjectInfo{Size: 1})
		require.NoError(t, err)
	}
	// The audit's filter applies to both sides.
	src, err := local.New(strings.TrimPrefix(lineOf(cfg, "srcPrefix="), "srcPrefix="), local.Options{})
	require.NoError(t, err)
	_, err = src.Put(ctx, "skipme.tmp", bytes.NewReader([]byte{1}), storage.ObjectInfo{Size: 1})
	require.NoError(t, err)

	job = h.submit(cfg + "jobType=audit\nexclude=*.tmp\n")
	s := h.stat(job)
	assert.Equal(t, "audit", s.Type)
	assert.Equal(t, uint64(2), s.Pass)
	assert.Zero(t, s.Counters.Verified+s.Counters.Failed+s.Counters.Skipped,
		"the master compares nothing itself: every result comes from a worker")
	assert.Equal(t, int64(2), s.Counters.Shards, "7 objects in shards of 5")

	present := map[string]bool{"f000": true, "f001": true, "f002": true, "f003": true, "f004": true}
	var keys []string
	for _, g := range h.leaseAll("w") {
		assert.True(t, g.Audit, "shard %d of an audit pass", g.ID)
		for _, o := range g.Objects {
			keys = append(keys, o.Key)
			if o.Key == "f006" {
				assert.False(t, o.HasManifestCRC64, "%s: the manifest has no CRC64 of it", o.Key)
			} else {
				assert.True(t, o.HasManifestCRC64, "%s: verified with a CRC64 in pass 1, unchanged", o.Key)
				assert.Equal(t, uint64(0xC0FFEE), o.ManifestCRC64, o.Key)
			}
		}
		require.NoError(t, h.m.Report(ctx, "w", g.Ref(), auditResults(g.Objects, present, 0xC0FFEE)))
		_, err := h.m.Ack(ctx, "w", g.Ref())
		require.NoError(t, err)
	}
	slices.Sort(keys)
	assert.Equal(t, []string{"f000", "f001", "f002", "f003", "f004", "f005", "f006"}, keys, "every source object in scope is audited, none skipped as unchanged")
	// The extras are counted after the pass's last result; the job is
	// running until they are.
	require.Eventually(t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 10*time.Second, 5*time.Millisecond)
	s = h.stat(job)
	assert.Equal(t, int64(2), s.AuditExtra, "zz-extra1 and zz-extra2 exist only at the destination (zz-filtered.tmp is out of scope)")
	assert.Equal(t, string(tracker.JobFailed), s.State, "two objects are missing at the destination")
	assert.Equal(t, int64(5), s.Counters.Verified)
	assert.Equal(t, int64(2), s.Counters.Failed)
	assert.Equal(t, map[task.Method]int64{task.MethodCRC64: 5}, s.Counters.Methods)
}

// lineOf returns the line of cfg that starts with prefix.
func lineOf(cfg, prefix string) string {
	for _, l := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestManagerAuditReadsNoObject: with both sides behind the OSS proxy, an
// audit pass costs the master listings only. Its worker here is the test
// (which answers without touching the stores), so every request the proxy
// sees is the master's: none may read or HEAD an object.
func TestManagerAuditReadsNoObject(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	ctx := t.Context()
	put := buckets(t, srv, "asrc", "adst")
	for i := range 6 {
		put("asrc", fmt.Sprintf("k%d", i))
		if i < 5 {
			put("adst", fmt.Sprintf("k%d", i))
		}
	}
	put("adst", "only-here")
	side := func(p, bucket string) string {
		return strings.Join([]string{p + "Type=oss", p + "Domain=" + proxy.Endpoint, p + "Bucket=" + bucket,
			p + "AccessKey=" + srv.AccessKey, p + "SecretKey=" + srv.SecretKey, p + "CABundle=" + srv.Cert.CertFile}, "\n")
	}
	cfg := strings.Join([]string{"jobName=oss-audit", "jobType=audit", "taskObjectCountLimit=4",
		side("src", "asrc"), side("dest", "adst")}, "\n") + "\n"

	h := newHarness(t)
	job := h.submit(cfg)
	h.register("w")
	present := map[string]bool{"k0": true, "k1": true, "k2": true, "k3": true, "k4": true}
	grants := h.leaseAll("w")
	require.Len(t, grants, 2, "6 objects in shards of 4")
	for _, g := range grants {
		require.True(t, g.Audit)
		require.NoError(t, h.m.Report(ctx, "w", g.Ref(), auditResults(g.Objects, present, 1)))
		_, err := h.m.Ack(ctx, "w", g.Ref())
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return h.stat(job).State != string(tracker.JobRunning) }, 20*time.Second, 5*time.Millisecond)
	assert.Equal(t, int64(1), h.stat(job).AuditExtra, "only-here exists only at the destination")
	assert.Equal(t, string(tracker.JobFailed), h.stat(job).State, "k5 is missing at the destination")

	reqs := proxy.Requests()
	require.NotEmpty(t, reqs, "the master lists both sides through the proxy")
	lists := 0
	for _, q := range reqs {
		if q.Key != "" || q.Method != "GET" {
			t.Errorf("the master sent %s %s/%s?%s: it may only list", q.Method, q.Bucket, q.Key, q.Query)
			continue
		}
		lists++
	}
	assert.GreaterOrEqual(t, lists, 2, "the source (scan) and the destination (extras) were listed")
}

// buckets creates the buckets and returns a function that puts an object
// holding "data of <key>" through the S3 API.
func buckets(t *testing.T, srv *testserver.S3Server, names ...string) func(bucket, key string) {
	t.Helper()
	for _, b := range names {
		srv.CreateBucket(t, b)
	}
	return func(bucket, key string) {
		t.Helper()
		_, err := srv.Client().PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader([]byte("data of " + key))})
		require.NoError(t, err)
	}
}
