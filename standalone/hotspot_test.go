package standalone

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// Hotspot-aware dispatch, measured where it matters: at the store. A job
// of 64 shards (4 objects each) is read from an OSS-like source by 8
// workers holding one shard each, and the proxy notes, for every object
// request, how many of 8 key ranges (32 keys, 8 shards each) the requests
// then in flight touch. Handed out in key order, the 8 shards in flight
// are neighbours and touch one or two ranges; spread, they touch most of
// the 8. The figures go in docs/benchmarks.md ("Hotspot-aware dispatch").
func TestDispatchSpreadsRequestsOverKeyRanges(t *testing.T) {
	const (
		shards, perShard = 64, 4
		workers, ranges  = 8, 8
	)
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	srv.CreateBucket(t, "hsrc")
	var keys []string
	for i := range shards * perShard {
		k := fmt.Sprintf("logs/2026/%05d", i)
		keys = append(keys, k)
		_, err := srv.Client().PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String("hsrc"), Key: aws.String(k),
			Body: bytes.NewReader([]byte("data of " + k))})
		require.NoError(t, err)
	}
	cfg := strings.Join([]string{"jobName=hot", "srcType=oss", "srcDomain=" + proxy.Endpoint, "srcBucket=hsrc",
		"srcAccessKey=" + srv.AccessKey, "srcSecretKey=" + srv.SecretKey, "srcCABundle=" + srv.Cert.CertFile,
		"destType=local", "destPrefix=" + t.TempDir(), fmt.Sprintf("taskObjectCountLimit=%d", perShard)}, "\n") + "\n"

	dir := t.TempDir()
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	passed := make(chan error, 1)
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: dir, InProcess: true,
		OnPass: func(_ string, _ uint64, err error) { passed <- err }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(m.Close)
	require.NoError(t, m.Start(ctx))
	job, _, err := m.Submit(ctx, cfg, "hot.cfg")
	require.NoError(t, err)
	// Every shard is queued before the first lease, so the order they are
	// granted in is the broker's choice alone, not the scan's pace.
	require.Eventually(t, func() bool {
		s, err := m.Stat(job)
		return err == nil && s[0].ScanFinished
	}, 30*time.Second, 10*time.Millisecond)

	// Requests held 20 ms overlap as over a WAN link; sampled when at
	// least 6 of the 8 workers have a request in flight.
	spread := proxy.MeasureSpread("hsrc", keys, ranges, workers-2, 20*time.Millisecond)
	parsed, err := conf.Parse(strings.NewReader(cfg), "hot.cfg")
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range workers {
		name := fmt.Sprintf("w%d", i)
		link, err := m.NewLink(ctx, name, 1)
		require.NoError(t, err)
		cp, err := jobcopier.New(ctx, parsed, worker.Options{Uploads: link}, nil)
		require.NoError(t, err)
		ag := &worker.Agent{Name: name, Master: link, Copier: cp, Concurrency: 1, MaxShards: 1,
			RenewEvery: time.Second, Log: slog.New(slog.DiscardHandler)}
		wg.Go(func() { _ = ag.Run(ctx) })
	}
	select {
	case err := <-passed:
		require.NoError(t, err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the pass did not finish")
	}
	cancel()
	wg.Wait()
	s, err := m.Stat(job)
	require.NoError(t, err)
	assert.Equal(t, int64(shards*perShard), s[0].Counters.Verified)

	got := spread.Stats()
	t.Logf("%d workers, %d shards in %d key ranges: %d samples, distinct ranges in flight mean %.2f min %d max %d, most requests in flight on one range %d",
		workers, shards, ranges, got.Samples, got.MeanDistinct, got.MinDistinct, got.MaxDistinct, got.MaxPerBucket)
	require.NotZero(t, got.Samples)
	// Measured: about 6.3 (5.9 on a loaded machine) and at most 2 requests
	// on one range; in key order 1.3 to 1.45 and all 8 on one range.
	assert.GreaterOrEqual(t, got.MeanDistinct, 5.0, "in key order the workers share one or two ranges")
	assert.LessOrEqual(t, got.MaxPerBucket, 3, "in key order every worker is on the same range at times")
}
