package worker

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/task"
)

// s3Bucket is bucket through the proxy with the S3 flavour: S3's
// conditional headers, which versitygw behind the proxy enforces.
func (e *ossEnv) s3Bucket(t *testing.T, bucket string) storage.Backend {
	t.Helper()
	e.srv.CreateBucket(t, bucket)
	b, err := s3.New(t.Context(), s3.Config{Endpoint: e.p.Endpoint, Region: e.srv.Region, Bucket: bucket,
		Flavor: s3.FlavorS3, Checksums: s3.ChecksumWhenRequired, // the proxy refuses aws-chunked, as OSS does
		AccessKey: e.srv.AccessKey, SecretKey: e.srv.SecretKey,
		CABundle: e.srv.Cert.CertFile, DialContext: testserver.LocalhostDialer})
	require.NoError(t, err)
	return retry.New(b, fastRetry)
}

// writes are the requests that store key: PUT (not a part) and the POST
// completing an upload.
func writes(seen []ossproxy.Seen, key string) int {
	n := 0
	for _, s := range seen {
		if s.Key == key && (s.Method == http.MethodPut && !strings.Contains(s.Query, "partNumber") ||
			s.Method == http.MethodPost && strings.Contains(s.Query, "uploadId")) {
			n++
		}
	}
	return n
}

// The application writes the destination object between ferry's check
// (HEAD) and its write, on cue: each destination that enforces the
// condition refuses ferry's write, the outcome is "kept", and the
// application's object survives byte for byte. Single PUT and multipart
// (the condition on CompleteMultipartUpload), create-only (the check saw
// nothing) and replace-exactly (the check saw an older object).
func TestCopyRaceKeepsTheApplicationsObject(t *testing.T) {
	e := newOSSEnv(t)
	ctx := t.Context()
	src := newLocal(t)
	dir := src.Root()
	dsts := map[string]storage.Backend{"oss": e.bucket(t, "race-oss"), "s3": e.s3Bucket(t, "race-s3")}
	app := []byte("the application's object, written after T2")
	for _, tc := range []struct {
		flavor    string
		multipart bool
		existing  bool // the key holds an older object: the copy replaces it under if-match
	}{
		{"oss", false, false}, {"oss", true, false},
		{"s3", false, false}, {"s3", true, false},
		{"s3", false, true}, {"s3", true, true},
	} {
		name := tc.flavor + map[bool]string{false: "-single", true: "-multipart"}[tc.multipart] +
			map[bool]string{false: "-absent", true: "-replace"}[tc.existing]
		t.Run(name, func(t *testing.T) {
			dst := dsts[tc.flavor]
			// A small single PUT: the store answers the refusal before
			// reading the body, and a large body still in flight turns that
			// answer into a reset the SDK retries.
			size := 1000
			if tc.multipart {
				size = 6 * mib
			}
			data := randomBytes(size, uint64(len(name)))
			putObj(t, src, name, data)
			if tc.existing {
				putObj(t, dst, name, []byte("an earlier version"))
				// The source is newer than it: the policy replaces it.
				later := time.Now().Add(time.Hour)
				require.NoError(t, os.Chtimes(filepath.Join(dir, name), later, later))
			}
			e.p.WriteOnCue(ossproxy.Cue{Method: http.MethodHead, Key: name, Body: app})
			before := len(e.p.Requests())
			c := newCopier(t, Options{Src: src, Dst: dst, Settings: task.CopySettings{
				Overwrite: task.OverwriteIfSourceNewer, MultipartThreshold: 5 * mib, PartSize: 5 * mib}})
			res, err := c.Copy(ctx, "job", object(t, src, name, name))
			require.NoError(t, err)
			require.Zero(t, e.p.PendingCues(), "the application wrote between the check and the write")
			assert.Equal(t, task.StatusSkipped, res.Status, res.Reason)
			assert.Equal(t, task.OutcomeKept, res.Outcome)
			assert.Equal(t, ReasonRaced, res.Reason)
			assert.Equal(t, 1, res.Attempts)
			assert.Equal(t, 1, writes(e.p.Requests()[before:], name), "one conditional write, refused, not retried")
			sameBytes(t, app, getObj(t, dst, name))
			assert.Zero(t, uploadsLeft(t, dst), "a refused complete's upload is aborted")
		})
	}
	// OSS has no if-match on writes: a replacement is unconditional, and
	// the application's object written in that window is lost. This is
	// the residual window the job's probe names; the test pins it.
	t.Run("oss-single-replace: the residual window", func(t *testing.T) {
		dst, name := dsts["oss"], "oss-residual"
		data := randomBytes(1000, 91)
		putObj(t, src, name, data)
		putObj(t, dst, name, []byte("an earlier version"))
		later := time.Now().Add(time.Hour)
		require.NoError(t, os.Chtimes(filepath.Join(dir, name), later, later))
		e.p.WriteOnCue(ossproxy.Cue{Method: http.MethodHead, Key: name, Body: app})
		res, err := newCopier(t, Options{Src: src, Dst: dst}).Copy(ctx, "job", object(t, src, name, name))
		requireVerified(t, res, err, data)
		sameBytes(t, data, getObj(t, dst, name))
	})
}

// An object already at the destination, proven identical, is never
// rewritten whatever the policy, even when the source is newer: nothing
// is written and the destination's ETag stays. Through the proxy both
// sides report CRC64s (OSS); on versitygw alone, the stored checksums, or
// the MD5 ETags where checksums are not asked for.
func TestIdenticalIsNotRewritten(t *testing.T) {
	e := newOSSEnv(t)
	direct := testserver.Versitygw(t, testserver.Options{})
	ctx := t.Context()
	for _, tc := range []struct {
		name     string
		src, dst storage.Backend
		method   task.Method
	}{
		{"oss", e.bucket(t, "ident-src"), e.bucket(t, "ident-dst"), task.MethodCRC64},
		{"s3", s3Bucket(t, direct, "ident-src"), s3Bucket(t, direct, "ident-dst"), task.MethodChecksum},
		{"s3-etags", md5Only(t, direct, "ident-src"), md5Only(t, direct, "ident-dst"), task.MethodMD5},
	} {
		data := randomBytes(40<<10, 92)
		putObj(t, tc.dst, "k", data) // mirrored back before the source copy was written
		putObj(t, tc.src, "k", data)
		before, err := tc.dst.Stat(ctx, "k")
		require.NoError(t, err)
		for _, p := range []task.OverwritePolicy{task.OverwriteNever, task.OverwriteIfSourceNewer, task.OverwriteIfDifferent, task.OverwriteAlways} {
			t.Run(tc.name+"/"+string(p), func(t *testing.T) {
				dst := hook(tc.dst)
				res, err := newCopier(t, Options{Src: tc.src, Dst: dst, Settings: task.CopySettings{Overwrite: p}}).
					Copy(ctx, "job", object(t, tc.src, "k", "k"))
				require.NoError(t, err)
				assert.Equal(t, task.StatusVerified, res.Status, res.Reason)
				assert.Equal(t, task.OutcomeIdentical, res.Outcome)
				assert.Equal(t, tc.method, res.Method)
				assert.Zero(t, res.BytesRead)
				assert.Zero(t, dst.puts.Load(), "nothing written")
				now, err := tc.dst.Stat(ctx, "k")
				require.NoError(t, err)
				assert.True(t, storage.ETagEqual(before.ETag, now.ETag))
				assert.Equal(t, before.ModTime.Unix(), now.ModTime.Unix())
			})
		}
	}
}

// md5Only is bucket on srv (it must exist) without checksum
// passthrough: the ETags are all there is to compare.
func md5Only(t *testing.T, srv *testserver.S3Server, bucket string) storage.Backend {
	t.Helper()
	b, err := s3.New(t.Context(), s3.Config{Endpoint: srv.Endpoint, Region: srv.Region, Bucket: bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CABundle: srv.Cert.CertFile, PathStyle: true,
		Checksums: s3.ChecksumWhenRequired})
	require.NoError(t, err)
	return retry.New(b, fastRetry)
}
