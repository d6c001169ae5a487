package retry

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func reset(after int) fault { return fault{after, fmt.Errorf("read tcp: %w", syscall.ECONNRESET)} }

// A read broken mid-stream continues from a re-open at offset+read with the
// remaining length, and the caller gets the same bytes as from an unbroken
// read.
func TestOpenResume(t *testing.T) {
	data := randomBytes(10_000)
	cases := []struct {
		name       string
		off, n     int64
		openErrs   []error // failures of the Open call itself
		readFaults []fault // one per successful open
		wantOpens  []openCall
	}{
		{"no failure", 0, -1, nil, nil, []openCall{{0, -1}}},
		{"two breaks", 0, -1, nil,
			[]fault{reset(1000), {2500, io.ErrUnexpectedEOF}},
			[]openCall{{0, -1}, {1000, -1}, {3500, -1}}},
		{"ranged", 100, 5000, nil,
			[]fault{reset(1000), reset(10)},
			[]openCall{{100, 5000}, {1100, 4000}, {1110, 3990}}},
		{"break before any byte", 0, -1, nil,
			[]fault{reset(0), {0, storage.ErrUnavailable}},
			[]openCall{{0, -1}, {0, -1}, {0, -1}}},
		{"break after the last byte", 0, -1, nil,
			[]fault{reset(10_000)}, []openCall{{0, -1}}},
		{"ranged break after the last byte", 100, 200, nil,
			[]fault{reset(200)}, []openCall{{100, 200}}},
		{"open call retried", 0, -1,
			[]error{storage.ErrUnavailable, storage.ErrThrottled}, nil,
			[]openCall{{0, -1}}},
		{"open retried, then a break", 9000, -1,
			[]error{storage.ErrUnavailable}, []fault{reset(500)},
			[]openCall{{9000, -1}, {9500, -1}}},
		{"progress renews the budget", 0, -1, nil,
			[]fault{reset(1000), reset(1000), reset(1000), reset(1000), reset(1000), reset(1000)},
			[]openCall{{0, -1}, {1000, -1}, {2000, -1}, {3000, -1}, {4000, -1}, {5000, -1}, {6000, -1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake().fail("open", c.openErrs...)
			f.add("obj", data)
			f.script("read", c.readFaults...)
			s := &sleeper{}
			rc, info, err := New(f, testPolicy(s)).Open(context.Background(), "obj", c.off, c.n)
			require.NoError(t, err)
			assert.Equal(t, int64(len(data)), info.Size)
			got, err := io.ReadAll(rc)
			require.NoError(t, err)
			require.NoError(t, rc.Close())

			end := int64(len(data))
			if c.n >= 0 {
				end = c.off + c.n
			}
			require.Equal(t, data[c.off:end], got, "byte-identical")
			assert.Equal(t, c.wantOpens, f.opens)
			assert.Equal(t, len(c.wantOpens)+len(c.openErrs), f.count("open"))
			for i, r := range f.readers {
				assert.True(t, r.isClosed(), "inner reader %d closed", i)
			}
		})
	}
}

// The resuming reader behaves as a reader should with small and odd-sized
// reads too.
func TestOpenResumeIOTest(t *testing.T) {
	data := randomBytes(3000)
	f := newFake()
	f.add("obj", data)
	f.script("read", reset(7), reset(1), reset(999), reset(0))
	s := &sleeper{}
	p := testPolicy(s)
	p.MaxAttempts = 10
	rc, _, err := New(f, p).Open(context.Background(), "obj", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	require.NoError(t, iotest.TestReader(iotest.HalfReader(rc), data))
}

// The Open call and the re-opens share one budget of consecutive failures.
func TestOpenReadBudget(t *testing.T) {
	cases := []struct {
		name      string
		openErrs  []error
		reads     []fault
		wantOpens int // calls of Open, failed ones included
	}{
		{"reads never deliver", nil, []fault{reset(0), reset(0), reset(0), reset(0)}, 4},
		{"open failures count", []error{storage.ErrUnavailable, storage.ErrUnavailable}, []fault{reset(0), reset(0)}, 4},
		{"reopen failures count", nil, []fault{reset(0)}, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake().fail("open", c.openErrs...)
			f.add("obj", randomBytes(100))
			f.script("read", c.reads...)
			if c.name == "reopen failures count" {
				// After the first open, every re-open fails.
				f.onOpen = func(n int, _ *fakeObj) {
					if n == 1 {
						f.faults["open"] = []fault{{err: storage.ErrUnavailable}, {err: storage.ErrUnavailable}, {err: storage.ErrUnavailable}}
					}
				}
			}
			rc, _, err := New(f, testPolicy(&sleeper{})).Open(context.Background(), "obj", 0, -1)
			require.NoError(t, err)
			defer rc.Close()
			_, err = io.ReadAll(rc)
			var ex *ExhaustedError
			require.ErrorAs(t, err, &ex)
			assert.Equal(t, "read", ex.Op)
			assert.Equal(t, 4, ex.Attempts)
			assert.True(t, storage.IsRetryable(err))
			assert.Equal(t, c.wantOpens, f.count("open"))

			// Sticky: the reader does not start over on the next Read.
			_, err2 := rc.Read(make([]byte, 1))
			assert.Equal(t, err, err2)
			assert.Equal(t, c.wantOpens, f.count("open"))
		})
	}
}

// A non-retryable error in the middle of a read is passed through.
func TestOpenReadPermanentError(t *testing.T) {
	f := newFake()
	f.add("obj", randomBytes(100))
	denied := &storage.Error{Backend: "fake", Op: "read", Key: "obj", Err: storage.ErrAccessDenied}
	f.script("read", fault{10, denied})
	rc, _, err := New(f, testPolicy(&sleeper{})).Open(context.Background(), "obj", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	assert.Same(t, denied, err)
	assert.Len(t, got, 10)
	assert.Equal(t, 1, f.count("open"))
}

// A re-open that finds a different object fails with ErrChanged, which is
// permanent; fields either side does not know prove nothing.
func TestOpenDetectsChange(t *testing.T) {
	later := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		mutate  func(o *fakeObj)
		changed bool
	}{
		{"size", func(o *fakeObj) { o.data = append(o.data, 'x'); o.info.Size++ }, true},
		{"shrunk below the offset", func(o *fakeObj) { o.data = o.data[:10] }, true},
		{"etag", func(o *fakeObj) { o.info.ETag = "other" }, true},
		{"modtime", func(o *fakeObj) { o.info.ModTime = later }, true},
		{"crc64", func(o *fakeObj) { o.info.CRC64, o.info.HasCRC64 = 2, true }, true},
		{"etag case and quotes only", func(o *fakeObj) { o.info.ETag = `"ETAG-100"` }, false},
		{"etag unknown now", func(o *fakeObj) { o.info.ETag = "" }, false},
		{"modtime unknown now", func(o *fakeObj) { o.info.ModTime = time.Time{} }, false},
		{"crc64 unknown now", func(o *fakeObj) { o.info.HasCRC64 = false }, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake()
			data := randomBytes(100)
			obj := f.add("obj", data)
			obj.info.CRC64, obj.info.HasCRC64 = 1, true
			f.script("read", reset(50))
			f.onOpen = func(n int, o *fakeObj) {
				if n == 2 {
					c.mutate(o)
				}
			}
			rc, _, err := New(f, testPolicy(&sleeper{})).Open(context.Background(), "obj", 0, -1)
			require.NoError(t, err)
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if !c.changed {
				require.NoError(t, err)
				assert.Equal(t, data, got)
				return
			}
			require.ErrorIs(t, err, ErrChanged)
			assert.Equal(t, storage.Permanent, storage.Classify(err))
			var se *storage.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "read", se.Op)
			assert.Equal(t, "obj", se.Key)
			assert.Equal(t, data[:50], got, "only bytes of the first version")
			for i, r := range f.readers {
				assert.True(t, r.isClosed(), "inner reader %d closed", i)
			}
		})
	}
}

// Close closes the inner reader in use, which after a resume is not the one
// Open returned; reading after Close fails.
func TestOpenClose(t *testing.T) {
	f := newFake()
	f.add("obj", randomBytes(100))
	f.script("read", reset(10))
	rc, _, err := New(f, testPolicy(&sleeper{})).Open(context.Background(), "obj", 0, -1)
	require.NoError(t, err)
	buf := make([]byte, 30)
	_, err = io.ReadFull(rc, buf)
	require.NoError(t, err)
	require.Len(t, f.readers, 2)
	assert.True(t, f.readers[0].isClosed(), "broken stream closed at once")
	assert.False(t, f.readers[1].isClosed())

	require.NoError(t, rc.Close())
	assert.True(t, f.readers[1].isClosed())
	_, err = rc.Read(buf)
	assert.ErrorIs(t, err, fs.ErrClosed)
	assert.NoError(t, rc.Close(), "second Close is harmless")
}

// Cancelling while the reader waits to re-open returns promptly.
func TestOpenCancelDuringReopenBackoff(t *testing.T) {
	f := newFake()
	f.add("obj", randomBytes(100))
	f.script("read", reset(10))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Real sleep, of 30 min unless cancelled.
	p := Policy{Initial: time.Hour, Max: time.Hour, Rand: func() float64 { return 0.5 }}
	rc, _, err := New(f, p).Open(ctx, "obj", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	start := time.Now()
	time.AfterFunc(30*time.Millisecond, cancel)
	got, err := io.ReadAll(rc)
	assert.Less(t, time.Since(start), 10*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, syscall.ECONNRESET, "says what it was waiting to retry")
	assert.Len(t, got, 10)
	assert.Equal(t, 1, f.count("open"))
}
