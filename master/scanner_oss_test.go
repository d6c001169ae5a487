package master

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// A real flat bucket behind the OSS look-alike proxy, every LIST page (of
// 200 keys, so that 20,000 objects make 100 pages) held 50 ms as over a
// WAN link: split into ranges, it is listed with
// several LISTs in flight at once, and shards exactly the keys a single
// stream does. The times are logged, not asserted (a shared machine);
// docs/benchmarks.md has the measured ratios.
func TestScannerRangesOverOSSWithLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("puts 20,000 objects")
	}
	const n, threads, page, latency = 20_000, 4, 200, 50 * time.Millisecond
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	srv.CreateBucket(t, "flat")
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("obj%08d", i*7919%n) // put out of order
	}
	var (
		wg   sync.WaitGroup
		next atomic.Int64
		fail atomic.Value
	)
	c := srv.Client()
	for range 16 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
				_, err := c.PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String("flat"), Key: aws.String(keys[i]),
					Body: bytes.NewReader(nil)})
				if err != nil {
					fail.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := fail.Load().(error); ok {
		require.NoError(t, err)
	}
	slices.Sort(keys)

	src, err := s3.New(t.Context(), s3.Config{Endpoint: proxy.Endpoint, Region: srv.Region, Flavor: s3.FlavorOSS, Bucket: "flat",
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, CABundle: srv.Cert.CertFile, DialContext: testserver.LocalhostDialer,
		PageSize: page})
	require.NoError(t, err)
	proxy.SetLatency(ossproxy.KindList, latency)

	scan := func(threads int) ([]string, time.Duration, []string) {
		st, pass := newStore(t, "j")
		s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, Threads: threads, SplitRanges: true, ProbePage: page}, st, nil,
			slog.New(slog.NewTextHandler(t.Output(), nil)))
		start := time.Now()
		require.NoError(t, s.Run(t.Context()))
		took := time.Since(start)
		got := sharded(t, st, "j", pass)
		slices.Sort(got)
		return got, took, rangeNames(t, st, pass)
	}
	single, one, none := scan(1)
	assert.Empty(t, none)
	assert.Equal(t, keys, single)
	assert.Equal(t, int64(1), proxy.MaxInFlight(ossproxy.KindList), "one stream: one LIST at a time")

	got, par, ranges := scan(threads)
	assert.Equal(t, keys, got, "every key exactly once")
	assert.GreaterOrEqual(t, len(ranges), threads, "split into ranges")
	assert.GreaterOrEqual(t, proxy.MaxInFlight(ossproxy.KindList), int64(4), "LISTs in parallel")
	t.Logf("%d keys, pages of %d, %v per LIST: single stream %v, %d threads (%d ranges) %v: %.1fx",
		n, page, latency, one.Round(time.Millisecond), threads, len(ranges), par.Round(time.Millisecond), one.Seconds()/par.Seconds())
}
