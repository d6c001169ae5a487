package retry

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func TestDefaultPolicy(t *testing.T) {
	d := DefaultPolicy()
	assert.Equal(t, 6, d.MaxAttempts)
	assert.Equal(t, 200*time.Millisecond, d.Initial)
	assert.Equal(t, 20*time.Second, d.Max)
	assert.NotNil(t, d.Sleep)
	assert.NotNil(t, d.Rand)
	assert.Nil(t, d.OnRetry)

	z := Policy{}.withDefaults()
	assert.Equal(t, d.MaxAttempts, z.MaxAttempts)
	assert.Equal(t, d.Initial, z.Initial)
	assert.Equal(t, d.Max, z.Max)
	assert.NotNil(t, z.Sleep)
	assert.NotNil(t, z.Rand)

	// Set fields are kept.
	s := Policy{MaxAttempts: 1, Initial: time.Second, Max: time.Minute}.withDefaults()
	assert.Equal(t, 1, s.MaxAttempts)
	assert.Equal(t, time.Second, s.Initial)
	assert.Equal(t, time.Minute, s.Max)
}

func TestBackoff(t *testing.T) {
	const ms = time.Millisecond
	unavailable := &storage.Error{Backend: "b", Op: "stat", Key: "k", Err: storage.ErrUnavailable}
	throttled := &storage.Error{Backend: "b", Op: "stat", Key: "k", Err: storage.ErrThrottled}
	cases := []struct {
		name string
		n    int
		rand float64
		err  error
		want time.Duration
	}{
		// Ceiling 100 ms, doubling, capped at 1 s; wait = rand * ceiling.
		{"first retry, half", 0, 0.5, unavailable, 50 * ms},
		{"second retry doubles", 1, 0.5, unavailable, 100 * ms},
		{"third retry doubles", 2, 0.5, unavailable, 200 * ms},
		{"fourth retry doubles", 3, 0.5, unavailable, 400 * ms},
		{"capped at Max", 4, 0.5, unavailable, 500 * ms},
		{"far retry stays capped", 1000, 0.5, unavailable, 500 * ms},
		{"full jitter may be zero", 3, 0, unavailable, 0},
		{"full jitter top", 3, 1, unavailable, 800 * ms},
		{"rand clamped high", 0, 7, unavailable, 100 * ms},
		{"rand clamped low", 0, -3, unavailable, 0},
		// Throttled: never below half the ceiling.
		{"throttled floor", 0, 0, throttled, 50 * ms},
		{"throttled top", 0, 1, throttled, 100 * ms},
		{"throttled floor grows", 3, 0, throttled, 400 * ms},
		{"throttled mid", 3, 0.5, throttled, 600 * ms},
		{"throttled floor capped", 20, 0, throttled, 500 * ms},
		{"throttled bare sentinel", 1, 0, storage.ErrThrottled, 100 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Policy{Initial: 100 * ms, Max: time.Second, Rand: func() float64 { return c.rand }}
			assert.Equal(t, c.want, p.Backoff(c.n, c.err))
		})
	}
}

// With the real jitter source, every wait stays within its bounds.
func TestBackoffJitterBounds(t *testing.T) {
	p := Policy{Initial: 10 * time.Millisecond, Max: time.Second}
	for n := range 10 {
		ceiling := min(time.Second, 10*time.Millisecond<<n)
		for range 200 {
			w := p.Backoff(n, storage.ErrUnavailable)
			require.GreaterOrEqual(t, w, time.Duration(0))
			require.LessOrEqual(t, w, ceiling)
			w = p.Backoff(n, fmt.Errorf("put: %w", storage.ErrThrottled))
			require.GreaterOrEqual(t, w, ceiling/2, "throttle floor, retry %d", n)
			require.LessOrEqual(t, w, ceiling)
		}
	}
}

func TestBackoffNoOverflow(t *testing.T) {
	p := Policy{Initial: time.Hour, Max: math.MaxInt64, Rand: func() float64 { return 1 }}
	for _, n := range []int{30, 62, 63, 64, 1000} {
		w := p.Backoff(n, storage.ErrUnavailable)
		assert.Positive(t, w, "retry %d", n)
	}
	// Initial above Max: Max wins from the start.
	p = Policy{Initial: time.Minute, Max: time.Second, Rand: func() float64 { return 1 }}
	assert.Equal(t, time.Second, p.Backoff(0, storage.ErrUnavailable))
}

func TestDefaultSleep(t *testing.T) {
	require.NoError(t, Sleep(context.Background(), time.Millisecond))
	require.NoError(t, Sleep(context.Background(), 0))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled)

	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := Sleep(ctx, time.Hour)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}
