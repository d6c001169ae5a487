package worker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/task"
)

// ossEnv is versitygw behind the OSS look-alike proxy: CRC64 on every
// answer, upper-case ETags, and injectable faults.
type ossEnv struct {
	srv *testserver.S3Server
	p   *ossproxy.Proxy
}

func newOSSEnv(t *testing.T) *ossEnv {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	return &ossEnv{srv: srv, p: ossproxy.Start(t, srv)}
}

// bucket creates bucket and returns the OSS-flavour backend over the
// proxy, wrapped in the retry layer as in production.
func (e *ossEnv) bucket(t *testing.T, bucket string) storage.Backend {
	t.Helper()
	e.srv.CreateBucket(t, bucket)
	b, err := s3.New(t.Context(), s3.Config{Endpoint: e.p.Endpoint, Region: e.srv.Region, Bucket: bucket,
		Flavor: s3.FlavorOSS, AccessKey: e.srv.AccessKey, SecretKey: e.srv.SecretKey,
		CABundle: e.srv.Cert.CertFile, DialContext: testserver.LocalhostDialer})
	require.NoError(t, err)
	return retry.New(b, fastRetry)
}

func TestCopyOSS(t *testing.T) {
	e := newOSSEnv(t)
	ctx := t.Context()
	src := newLocal(t)
	dst := e.bucket(t, "dst")
	opts := Options{Src: src, Dst: dst, Settings: task.CopySettings{MultipartThreshold: 5 * mib, PartSize: 5 * mib}}

	t.Run("single put verified by crc64", func(t *testing.T) {
		data := randomBytes(300<<10, 31)
		putObj(t, src, "single", data)
		res, err := newCopier(t, opts).Copy(ctx, "job", object(t, src, "single", "single"))
		requireVerified(t, res, err, data)
		assert.Equal(t, task.MethodCRC64, res.Method)
	})
	t.Run("multipart verified by crc64", func(t *testing.T) {
		data := randomBytes(11*mib, 32)
		putObj(t, src, "multi", data)
		res, err := newCopier(t, opts).Copy(ctx, "job", object(t, src, "multi", "multi"))
		requireVerified(t, res, err, data)
		assert.Equal(t, task.MethodCRC64, res.Method)
		sameBytes(t, data, getObj(t, dst, "multi"))
	})
	t.Run("flipped byte on upload: caught, retried", func(t *testing.T) {
		data := randomBytes(200<<10, 33)
		putObj(t, src, "flip-up", data)
		e.p.Inject(ossproxy.Fault{Kind: ossproxy.FlipByte, Method: "PUT", KeyContains: "flip-up", Direction: ossproxy.Upload, Offset: 1000})
		res, err := newCopier(t, opts).Copy(ctx, "job", object(t, src, "flip-up", "flip-up"))
		requireVerified(t, res, err, data)
		assert.Equal(t, 2, res.Attempts)
		assert.Equal(t, task.MethodCRC64, res.Method)
		sameBytes(t, data, getObj(t, dst, "flip-up"))
		assert.Zero(t, e.p.PendingFaults())
	})
	t.Run("flipped byte in a part upload: that part is sent again", func(t *testing.T) {
		data := randomBytes(11*mib, 34)
		putObj(t, src, "flip-part", data)
		e.p.Inject(ossproxy.Fault{Kind: ossproxy.FlipByte, Method: "PUT", KeyContains: "flip-part", Direction: ossproxy.Upload, Offset: 12345})
		o := opts
		o.Settings.PartsInFlight = 1
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "flip-part", "flip-part"))
		requireVerified(t, res, err, data)
		assert.Equal(t, 2, res.Attempts)
		assert.Equal(t, int64(len(data)+5*mib), res.BytesRead, "only the damaged part is read twice")
		sameBytes(t, data, getObj(t, dst, "flip-part"))
		assert.Zero(t, uploadsLeft(t, dst))
	})
	t.Run("503 SlowDown burst: backoff, then success", func(t *testing.T) {
		data := randomBytes(100<<10, 35)
		putObj(t, src, "slow", data)
		e.p.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "slow", Times: 2})
		res, err := newCopier(t, opts).Copy(ctx, "job", object(t, src, "slow", "slow"))
		requireVerified(t, res, err, data)
		// The streamed body cannot be rewound by the retry layer, so each
		// SlowDown costs an object attempt.
		assert.Equal(t, 3, res.Attempts)
	})
	t.Run("SlowDown longer than Retries: own budget, still success", func(t *testing.T) {
		data := randomBytes(10<<10, 37)
		putObj(t, src, "slower", data)
		e.p.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "slower", Times: 7})
		o := opts
		o.Settings.Retries = 3
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "slower", "slower"))
		requireVerified(t, res, err, data)
		assert.Equal(t, 8, res.Attempts, "seven refusals, then stored")
	})
	t.Run("SlowDown without end: bounded", func(t *testing.T) {
		data := randomBytes(1<<10, 38)
		putObj(t, src, "endless", data)
		e.p.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "endless", Times: -1})
		o := opts
		o.Settings.Retries = 2
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, src, "endless", "endless"))
		require.NoError(t, err)
		assert.Equal(t, task.StatusFailed, res.Status)
		assert.Equal(t, throttleBudget*2+2, res.Attempts, "throttle budget, then the ordinary attempts")
		assert.Contains(t, res.Reason, "gave up after")
	})
	t.Run("skip by crc64 between OSS buckets", func(t *testing.T) {
		ossSrc := e.bucket(t, "src")
		data := randomBytes(50<<10, 36)
		putObj(t, ossSrc, "same", data)
		o := opts
		o.Src = ossSrc
		res, err := newCopier(t, o).Copy(ctx, "job", object(t, ossSrc, "same", "same"))
		requireVerified(t, res, err, data)
		res, err = newCopier(t, o).Copy(ctx, "job", object(t, ossSrc, "same", "same"))
		require.NoError(t, err)
		assert.Equal(t, task.StatusVerified, res.Status)
		assert.Equal(t, task.OutcomeIdentical, res.Outcome)
		assert.Equal(t, task.MethodCRC64, res.Method)
		assert.Equal(t, crc.Checksum(data), res.CRC64)
	})
}

// TestCopyFromOSSFlippedDownload: the destination stores and checksums the
// damaged bytes faithfully, so only the source's CRC64 exposes them.
func TestCopyFromOSSFlippedDownload(t *testing.T) {
	e := newOSSEnv(t)
	ctx := t.Context()
	src := e.bucket(t, "src")
	dst := newLocal(t)
	opts := Options{Src: src, Dst: dst, Settings: task.CopySettings{MultipartThreshold: 5 * mib, PartSize: 5 * mib}}

	for _, tc := range []struct {
		name string
		size int
		read int // bytes read over both attempts
	}{
		{"single", 300 << 10, 2 * 300 << 10},
		// The flip hits one part's ranged GET; only the object's CRC64
		// reveals it, after Complete, and the copy starts over.
		{"multipart", 11 * mib, 2 * 11 * mib},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "flip-down-" + tc.name
			data := randomBytes(tc.size, uint64(tc.size))
			putObj(t, src, key, data)
			obj := object(t, src, key, key)
			e.p.Inject(ossproxy.Fault{Kind: ossproxy.FlipByte, Method: "GET", KeyContains: key, Direction: ossproxy.Download, Offset: 777})
			res, err := newCopier(t, opts).Copy(ctx, "job", obj)
			requireVerified(t, res, err, data)
			assert.Equal(t, 2, res.Attempts)
			assert.Equal(t, int64(tc.read), res.BytesRead)
			sameBytes(t, data, getObj(t, dst, key))
		})
	}
	t.Run("source missing: permanent, not retried", func(t *testing.T) {
		gets := e.p.Count("GET")
		res, err := newCopier(t, opts).Copy(ctx, "job", task.Object{Key: "missing", Dest: "missing", Size: 5})
		require.NoError(t, err)
		assert.Equal(t, task.StatusFailed, res.Status)
		assert.Equal(t, "permanent", res.Class)
		assert.Equal(t, 1, res.Attempts)
		assert.Equal(t, 1, e.p.Count("GET")-gets)
	})
}
