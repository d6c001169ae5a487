package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func wrapErr(op string, err error) error {
	return &storage.Error{Backend: "fake", Op: op, Key: "k", Err: err}
}

func TestNewKeepsMultipartTruthful(t *testing.T) {
	f := newFake()
	withMP := New(f, Policy{})
	mp, ok := withMP.(storage.Multipart)
	require.True(t, ok, "inner backend has multipart")
	assert.Equal(t, int64(5), mp.MinPartSize())
	assert.Equal(t, "fake", withMP.String())

	// Hide the fake's multipart methods: only Backend is promoted.
	plain := New(struct{ storage.Backend }{f}, Policy{})
	_, ok = plain.(storage.Multipart)
	assert.False(t, ok, "inner backend has no multipart")
	assert.Equal(t, "fake", plain.String())
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// Each class of error is retried or not as Classify says; a permanent error
// costs exactly one attempt.
func TestRetryByClass(t *testing.T) {
	cases := []struct {
		name     string
		errs     []error // scripted failures before the call would succeed
		calls    int
		wantErr  error // nil: the call succeeds
		wantWait int
	}{
		{"throttled twice", []error{wrapErr("stat", storage.ErrThrottled), wrapErr("stat", storage.ErrThrottled)}, 3, nil, 2},
		{"unavailable", []error{wrapErr("stat", storage.ErrUnavailable)}, 2, nil, 1},
		{"corrupt in transit", []error{wrapErr("stat", storage.ErrCorrupt)}, 2, nil, 1},
		{"connection reset", []error{fmt.Errorf("read tcp: %w", syscall.ECONNRESET)}, 2, nil, 1},
		{"unexpected EOF", []error{io.ErrUnexpectedEOF}, 2, nil, 1},
		{"net timeout", []error{&net.OpError{Op: "dial", Err: timeoutErr{}}}, 2, nil, 1},
		{"not found", []error{wrapErr("stat", storage.ErrNotFound)}, 1, storage.ErrNotFound, 0},
		{"access denied", []error{wrapErr("stat", storage.ErrAccessDenied)}, 1, storage.ErrAccessDenied, 0},
		{"fatal auth", []error{wrapErr("stat", storage.ErrAuth)}, 1, storage.ErrAuth, 0},
		{"fatal bucket", []error{wrapErr("stat", storage.ErrBucketNotFound)}, 1, storage.ErrBucketNotFound, 0},
		{"canceled", []error{context.Canceled}, 1, context.Canceled, 0},
		{"unknown is permanent", []error{errors.New("something odd")}, 1, nil, 0},
		{"retryable then permanent", []error{wrapErr("stat", storage.ErrUnavailable), wrapErr("stat", storage.ErrNotFound)}, 2, storage.ErrNotFound, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake().fail("stat", c.errs...)
			f.add("k", []byte("x"))
			s := &sleeper{}
			b := New(f, testPolicy(s))
			_, err := b.Stat(context.Background(), "k")
			last := c.errs[len(c.errs)-1]
			switch {
			case c.calls > len(c.errs):
				require.NoError(t, err)
			case c.wantErr != nil:
				require.ErrorIs(t, err, c.wantErr)
				assert.Same(t, last, err, "non-retryable errors come back unchanged")
			default:
				assert.Same(t, last, err)
			}
			assert.Equal(t, c.calls, f.count("stat"))
			assert.Len(t, s.recorded(), c.wantWait)
		})
	}
}

func TestExhausted(t *testing.T) {
	f := newFake()
	for i := range 10 {
		f.fail("stat", wrapErr("stat", fmt.Errorf("attempt %d: %w", i+1, storage.ErrThrottled)))
	}
	s := &sleeper{}
	b := New(f, testPolicy(s))
	_, err := b.Stat(context.Background(), "k")
	require.Error(t, err)
	assert.Equal(t, 4, f.count("stat"), "MaxAttempts attempts, no more")
	assert.Len(t, s.recorded(), 3, "one wait between each pair of attempts")

	var ex *ExhaustedError
	require.ErrorAs(t, err, &ex)
	assert.Equal(t, 4, ex.Attempts)
	assert.Equal(t, "stat", ex.Op)
	assert.Equal(t, "k", ex.Key)
	assert.ErrorIs(t, err, storage.ErrThrottled)
	assert.Contains(t, err.Error(), "4 attempts")
	assert.Contains(t, err.Error(), "attempt 4:", "wraps the last error")
	assert.Equal(t, storage.Retryable, storage.Classify(err),
		"a later, coarser retry may still succeed")
}

func TestMaxAttemptsOneDisablesRetry(t *testing.T) {
	f := newFake().fail("stat", storage.ErrUnavailable)
	s := &sleeper{}
	p := testPolicy(s)
	p.MaxAttempts = 1
	_, err := New(f, p).Stat(context.Background(), "k")
	require.ErrorIs(t, err, storage.ErrUnavailable)
	assert.Equal(t, 1, f.count("stat"))
	assert.Empty(t, s.recorded())
}

// Waits double from Initial, and OnRetry sees each one with the number of
// the attempt that failed. Throttling waits at least half the ceiling even
// when the jitter draws zero.
func TestWaitsAndOnRetry(t *testing.T) {
	const ms = time.Millisecond
	cases := []struct {
		name  string
		err   error
		rand  float64
		waits []time.Duration
	}{
		{"unavailable, mid jitter", storage.ErrUnavailable, 0.5, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms}},
		{"unavailable, zero jitter", storage.ErrUnavailable, 0, []time.Duration{0, 0, 0, 0, 0}},
		{"throttled, zero jitter", storage.ErrThrottled, 0, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 500 * ms}},
		{"throttled, top jitter", storage.ErrThrottled, 0.999999, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			for range c.waits {
				f.fail("delete", wrapErr("delete", c.err))
			}
			s := &sleeper{}
			var seen []int
			var told []time.Duration
			p := testPolicy(s)
			p.MaxAttempts = 10
			p.Rand = func() float64 { return c.rand }
			p.OnRetry = func(op, key string, attempt int, wait time.Duration, err error) {
				assert.Equal(t, "delete", op)
				assert.Equal(t, "k", key)
				assert.ErrorIs(t, err, c.err)
				seen = append(seen, attempt)
				told = append(told, wait)
			}
			require.NoError(t, New(f, p).Delete(context.Background(), "k"))
			got := s.recorded()
			for i := range got {
				assert.InDelta(t, c.waits[i], got[i], float64(ms), "wait %d", i)
			}
			assert.Len(t, got, len(c.waits))
			assert.Equal(t, []int{1, 2, 3, 4, 5}, seen)
			assert.Equal(t, got, told, "OnRetry reports the wait actually slept")
		})
	}
}

// Cancelling during a backoff sleep returns at once, with an error that is
// the context's and still tells why we were waiting.
func TestCancelDuringBackoff(t *testing.T) {
	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(30*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 30*time.Millisecond)
		}, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake().fail("stat", storage.ErrThrottled, storage.ErrThrottled)
			// Real sleep; a wait of at least 30 min unless cancelled.
			b := New(f, Policy{Initial: time.Hour, Max: time.Hour})
			ctx, cancel := c.ctx()
			defer cancel()
			start := time.Now()
			_, err := b.Stat(ctx, "k")
			assert.Less(t, time.Since(start), 10*time.Second)
			require.ErrorIs(t, err, c.want)
			assert.ErrorIs(t, err, ctx.Err())
			assert.ErrorIs(t, err, storage.ErrThrottled)
			assert.Equal(t, storage.Canceled, storage.Classify(err))
			assert.Equal(t, 1, f.count("stat"))
		})
	}
}

// Every operation retries a retryable failure and gives up at once on a
// permanent one.
func TestEveryOperation(t *testing.T) {
	ctx := context.Background()
	type setup struct {
		b storage.Backend
		m storage.Multipart
		u storage.Upload
	}
	ops := []struct {
		op  string
		run func(s setup) error
	}{
		{"stat", func(s setup) error { _, err := s.b.Stat(ctx, "k"); return err }},
		{"delete", func(s setup) error { return s.b.Delete(ctx, "k") }},
		{"list", func(s setup) error {
			return s.b.List(ctx, "", "", func(storage.ObjectInfo) error { return nil })
		}},
		{"open", func(s setup) error {
			rc, _, err := s.b.Open(ctx, "k", 0, -1)
			if err == nil {
				err = rc.Close()
			}
			return err
		}},
		{"put", func(s setup) error {
			_, err := s.b.Put(ctx, "k2", bytes.NewReader([]byte("abc")), storage.ObjectInfo{Size: 3})
			return err
		}},
		{"create-upload", func(s setup) error { _, err := s.m.CreateUpload(ctx, "k3", storage.ObjectInfo{}); return err }},
		{"upload-part", func(s setup) error {
			_, err := s.m.UploadPart(ctx, s.u, 1, bytes.NewReader([]byte("hello")), 5)
			return err
		}},
		{"list-parts", func(s setup) error { _, err := s.m.ListParts(ctx, s.u); return err }},
		{"complete-upload", func(s setup) error { _, err := s.m.CompleteUpload(ctx, s.u, nil); return err }},
		{"abort-upload", func(s setup) error { return s.m.AbortUpload(ctx, s.u) }},
		{"list-uploads", func(s setup) error {
			return s.m.ListUploads(ctx, "", func(storage.Upload) error { return nil })
		}},
	}
	classes := []struct {
		name  string
		err   error
		calls int
	}{
		{"retryable", storage.ErrUnavailable, 3},
		{"permanent", storage.ErrAccessDenied, 1},
	}
	for _, o := range ops {
		for _, cl := range classes {
			t.Run(o.op+"/"+cl.name, func(t *testing.T) {
				f := newFake()
				f.add("k", []byte("data"))
				u, err := f.CreateUpload(ctx, "k", storage.ObjectInfo{})
				require.NoError(t, err)
				before := f.count(o.op)
				f.fail(o.op, wrapErr(o.op, cl.err), wrapErr(o.op, cl.err))
				s := &sleeper{}
				b := New(f, testPolicy(s))
				err = o.run(setup{b: b, m: b.(storage.Multipart), u: u})
				if cl.calls > 1 {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, cl.err)
				}
				assert.Equal(t, cl.calls, f.count(o.op)-before)
			})
		}
	}
}

// TestCompleteRefusedIsNotRetried: a store that refuses the assembled parts
// against a declared checksum (ErrCorrupt, otherwise retryable) would give
// the same answer to the same parts, after re-reading the whole object.
func TestCompleteRefusedIsNotRetried(t *testing.T) {
	ctx := context.Background()
	f := newFake()
	u, err := f.CreateUpload(ctx, "k", storage.ObjectInfo{})
	require.NoError(t, err)
	before := f.count("complete-upload")
	f.fail("complete-upload", wrapErr("complete-upload", storage.ErrCorrupt))
	b := New(f, testPolicy(&sleeper{})).(storage.Multipart)
	_, err = b.CompleteUpload(ctx, u, nil)
	require.ErrorIs(t, err, storage.ErrCorrupt)
	assert.Equal(t, 1, f.count("complete-upload")-before)
	assert.Equal(t, storage.Retryable, storage.Classify(err), "the object is retried, by sending its parts again")
}
