package ossproxy

import (
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SetLatency holds every LIST for its latency, whatever faults are
// queued, counts those in flight at once, and leaves other requests be.
func TestSetLatency(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	put(t, c, "a", []byte("x"))
	const d = 150 * time.Millisecond
	e.p.SetLatency(KindList, d)
	list := func() {
		_, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
		require.NoError(t, err)
	}
	start := time.Now()
	list()
	assert.GreaterOrEqual(t, time.Since(start), d, "LIST held")
	_, err := c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("a")})
	require.NoError(t, err)
	assert.Zero(t, e.p.MaxInFlight(KindHead), "HEAD not held")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(list)
	}
	wg.Wait()
	assert.Equal(t, int64(4), e.p.MaxInFlight(KindList), "four LISTs held at once")

	e.p.SetLatency(KindList, 0)
	assert.Zero(t, e.p.MaxInFlight(KindList), "removed")
	assert.Zero(t, e.p.PendingFaults(), "no fault queued for it")
}
