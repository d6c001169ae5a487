package worker

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rate tests use short real time: rate.Limiter has no injectable clock
// for Wait. Expected durations are computed from the token bucket (it
// starts full, so the first burst is free) and asserted within ±35%, wide
// enough for a loaded CI machine running -race, narrow enough to catch a
// limiter that is off or off by a factor.

func TestThrottleBytes(t *testing.T) {
	const rateBps = 4 << 20 // burst = rate/10 ≈ 410 KiB
	th := NewThrottle(rateBps, 0)
	data := make([]byte, 2<<20)
	start := time.Now()
	// One huge Read buffer: the reader must cut it to the burst, else
	// WaitN would refuse the request.
	buf := make([]byte, len(data))
	r := th.Reader(t.Context(), bytes.NewReader(data))
	n, err := io.ReadFull(r, buf)
	require.NoError(t, err)
	require.Equal(t, len(data), n)
	took := time.Since(start)
	want := time.Duration(float64(len(data)-rateBps/10) / rateBps * float64(time.Second)) // ≈ 400 ms
	assert.InDelta(t, want.Seconds(), took.Seconds(), want.Seconds()*0.35, "took %v, want ≈ %v", took, want)
}

func TestThrottleObjects(t *testing.T) {
	th := NewThrottle(0, 25) // burst ceil(25/10) = 3
	start := time.Now()
	for range 13 {
		require.NoError(t, th.WaitObject(t.Context()))
	}
	took := time.Since(start)
	want := 10 * time.Second / 25 // 400 ms for the 10 beyond the burst
	assert.InDelta(t, want.Seconds(), took.Seconds(), want.Seconds()*0.35, "took %v", took)
}

func TestThrottleSetLimitsAtRuntime(t *testing.T) {
	th := NewThrottle(64<<10, 0) // 64 KiB/s: 1 MiB would take 15 s
	r := th.Reader(t.Context(), bytes.NewReader(make([]byte, 1<<20)))
	go func() {
		time.Sleep(100 * time.Millisecond)
		th.SetLimits(0, 0) // the master lifted the limit
	}()
	start := time.Now()
	_, err := io.Copy(io.Discard, r)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 1500*time.Millisecond, "lifting the limit takes effect mid-read")
	b, o := th.Limits()
	assert.Zero(t, b)
	assert.Zero(t, o)

	// Lowering the burst between a read and its wait must not make WaitN
	// fail: the first read is cut to the old burst (~410 KiB), then waits
	// under the new one (~205 KiB).
	th.SetLimits(4<<20, 0)
	first := true
	r = th.Reader(t.Context(), readFunc(func(p []byte) (int, error) {
		if first {
			first = false
			th.SetLimits(2<<20, 100)
			return len(p), nil
		}
		return 0, io.EOF
	}))
	n, err := io.ReadFull(r, make([]byte, 1<<20))
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 4<<20/10, n)
	b, o = th.Limits()
	assert.Equal(t, int64(2<<20), b)
	assert.Equal(t, 100.0, o)
}

func TestThrottleCancel(t *testing.T) {
	th := NewThrottle(64<<10, 0.5)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := io.Copy(io.Discard, th.Reader(ctx, bytes.NewReader(make([]byte, 1<<20))))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, th.WaitObject(ctx)) // the burst of one
	require.ErrorIs(t, th.WaitObject(ctx), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "a canceled wait returns at once")
}

func TestThrottleNilIsUnlimited(t *testing.T) {
	var th *Throttle
	th.SetLimits(1, 1)
	require.NoError(t, th.WaitObject(t.Context()))
	r := bytes.NewReader([]byte("x"))
	assert.Same(t, io.Reader(r), th.Reader(t.Context(), r))
}

type readFunc func([]byte) (int, error)

func (f readFunc) Read(p []byte) (int, error) { return f(p) }
