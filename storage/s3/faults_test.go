package s3_test

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// TestRetriesAgainstInjectedFaults drives the production stack (retry
// wrapper around the S3 backend, OSS flavour) through real faults injected
// by the proxy, counting the requests that actually reached it.
func TestRetriesAgainstInjectedFaults(t *testing.T) {
	srv, p, cfg := ossSetup(t)
	srv.CreateBucket(t, "faults")
	cfg.Bucket = "faults"
	raw, err := s3.New(t.Context(), cfg)
	require.NoError(t, err)
	var retries atomic.Int64
	b := retry.New(raw, retry.Policy{Initial: 5 * time.Millisecond, Max: 50 * time.Millisecond,
		OnRetry: func(string, string, int, time.Duration, error) { retries.Add(1) }})
	ctx := t.Context()
	data := bytes.Repeat([]byte("ferry!"), 200_000) // 1.2 MB
	want := crc.Checksum(data)

	t.Run("503 SlowDown burst: backoff, then success", func(t *testing.T) {
		retries.Store(0)
		puts := p.Count("PUT")
		p.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "slow", Times: 3})
		res, err := b.Put(ctx, "slow", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data))})
		require.NoError(t, err)
		assert.Equal(t, want, res.CRC64)
		assert.Equal(t, 4, p.Count("PUT")-puts, "three refused, the fourth stored")
		assert.Equal(t, int64(3), retries.Load())
	})
	t.Run("SlowDown that never ends: bounded", func(t *testing.T) {
		puts := p.Count("PUT")
		p.Inject(ossproxy.Fault{Kind: ossproxy.SlowDown, Method: "PUT", KeyContains: "forever", Times: -1})
		_, err := b.Put(ctx, "forever", bytes.NewReader(data[:10]), storage.ObjectInfo{Size: 10})
		require.ErrorIs(t, err, storage.ErrThrottled)
		assert.Contains(t, err.Error(), "forever")
		assert.Equal(t, retry.DefaultMaxAttempts, p.Count("PUT")-puts, "gives up after the policy's attempts")
	})
	t.Run("reset mid-body: the read resumes where it broke", func(t *testing.T) {
		p.Inject(ossproxy.Fault{Kind: ossproxy.Reset, Method: "GET", KeyContains: "slow", Offset: 300_000})
		gets := p.Count("GET")
		rc, info, err := b.Open(ctx, "slow", 0, -1)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Equal(t, data, got, "byte-identical despite the reset")
		assert.Equal(t, want, info.CRC64)
		assert.Equal(t, 2, p.Count("GET")-gets, "one reopen at the break")
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		heads := p.Count("HEAD")
		_, err := b.Stat(ctx, "does/not/exist")
		require.ErrorIs(t, err, storage.ErrNotFound)
		assert.Equal(t, 1, p.Count("HEAD")-heads, "exactly one request: no retry storm")
	})
	t.Run("flipped byte on download: CRC64 exposes it", func(t *testing.T) {
		p.Inject(ossproxy.Fault{Kind: ossproxy.FlipByte, Method: "GET", KeyContains: "slow", Offset: 1000})
		rc, info, err := b.Open(ctx, "slow", 0, -1)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err, "transport cannot see the flip")
		require.True(t, info.HasCRC64)
		assert.NotEqual(t, info.CRC64, crc.Checksum(got), "the copier's verification will catch this")
		assert.Equal(t, len(data), len(got))
	})
}
