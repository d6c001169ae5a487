package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// sendFunc sends body (of size bytes) through one of the two body-carrying
// operations and returns the bytes the fake stored.
type sendFunc func(t *testing.T, b storage.Backend, body io.Reader, size int64) ([]byte, error)

func sendPut(t *testing.T, b storage.Backend, body io.Reader, size int64) ([]byte, error) {
	ctx := context.Background()
	if _, err := b.Put(ctx, "obj", body, storage.ObjectInfo{Size: size}); err != nil {
		return nil, err
	}
	rc, _, err := b.Open(ctx, "obj", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	return io.ReadAll(rc)
}

func sendPart(t *testing.T, b storage.Backend, body io.Reader, size int64) ([]byte, error) {
	ctx := context.Background()
	m := b.(storage.Multipart)
	u, err := m.CreateUpload(ctx, "obj", storage.ObjectInfo{})
	require.NoError(t, err)
	if _, err := m.UploadPart(ctx, u, 1, body, size); err != nil {
		return nil, err
	}
	parts, err := m.ListParts(ctx, u)
	require.NoError(t, err)
	info, err := m.CompleteUpload(ctx, u, parts)
	require.NoError(t, err)
	assert.Equal(t, size, info.Size)
	rc, _, err := b.Open(ctx, "obj", 0, -1)
	require.NoError(t, err)
	defer rc.Close()
	return io.ReadAll(rc)
}

// A seekable body is rewound to where it stood (not to 0) and re-sent; a
// body that cannot seek gets exactly one attempt, and the caller its error.
func TestBodyRetry(t *testing.T) {
	payload := []byte("skip|the rest is the payload")
	const start = 5 // the caller had already consumed "skip|"
	ops := []struct {
		op   string
		send sendFunc
	}{
		{"put", sendPut},
		{"upload-part", sendPart},
	}
	bodies := []struct {
		name     string
		wrap     func(*bytes.Reader) io.Reader
		seekable bool
	}{
		{"seekable", func(r *bytes.Reader) io.Reader { return r }, true},
		{"not seekable", func(r *bytes.Reader) io.Reader { return struct{ io.Reader }{r} }, false},
		{"seeker that cannot tell", func(r *bytes.Reader) io.Reader { return brokenSeeker{r, true} }, false},
	}
	for _, o := range ops {
		for _, bd := range bodies {
			t.Run(o.op+"/"+bd.name, func(t *testing.T) {
				reset := &storage.Error{Backend: "fake", Op: o.op, Key: "obj", Err: syscall.ECONNRESET}
				f := newFake().fail(o.op, reset, reset)
				s := &sleeper{}
				b := New(f, testPolicy(s))
				r := bytes.NewReader(payload)
				_, err := r.Seek(start, io.SeekStart)
				require.NoError(t, err)

				got, err := o.send(t, b, bd.wrap(r), int64(len(payload)-start))
				if bd.seekable {
					require.NoError(t, err)
					assert.Equal(t, payload[start:], got, "byte-identical after two rewinds")
					assert.Equal(t, 3, f.count(o.op))
					assert.Len(t, s.recorded(), 2)
					return
				}
				assert.Same(t, reset, err, "returned unchanged, for the caller to re-open its source")
				assert.Equal(t, 1, f.count(o.op))
				assert.Empty(t, s.recorded())
			})
		}
	}
}

// A body that says it can seek but then cannot rewind ends the retries; the
// error still carries the failure that made us try.
func TestBodyRewindFails(t *testing.T) {
	f := newFake().fail("put", storage.ErrUnavailable)
	s := &sleeper{}
	b := New(f, testPolicy(s))
	body := brokenSeeker{bytes.NewReader([]byte("abc")), false}
	_, err := b.Put(context.Background(), "obj", body, storage.ObjectInfo{Size: 3})
	require.ErrorIs(t, err, storage.ErrUnavailable)
	assert.Contains(t, err.Error(), "cannot rewind")
	assert.Equal(t, 1, f.count("put"))
	assert.Empty(t, s.recorded(), "no wait for a retry that cannot happen")
}

// A permanent failure is not retried even with a seekable body.
func TestBodyPermanentNotRetried(t *testing.T) {
	f := newFake().fail("put", storage.ErrAccessDenied)
	b := New(f, testPolicy(&sleeper{}))
	_, err := b.Put(context.Background(), "obj", bytes.NewReader([]byte("abc")), storage.ObjectInfo{Size: 3})
	require.ErrorIs(t, err, storage.ErrAccessDenied)
	assert.Equal(t, 1, f.count("put"))
}

// brokenSeeker cannot move; with failTell it cannot even report where it
// is (as an *os.File over a pipe).
type brokenSeeker struct {
	*bytes.Reader
	failTell bool // fail Seek(0, io.SeekCurrent) too
}

func (s brokenSeeker) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekCurrent && off == 0 && !s.failTell {
		return s.Reader.Seek(0, io.SeekCurrent)
	}
	return 0, errors.New("illegal seek")
}

// lingering is a backend whose failed Put leaves a goroutine reading the
// body, as an HTTP transport may after an early 503. Run with -race: the
// straggler must not touch the body while it is rewound and re-sent.
type lingering struct {
	*fake
	straggler chan error
}

func (l *lingering) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if l.count("put") > 0 {
		return l.fake.Put(ctx, key, body, info)
	}
	l.fake.call("put")
	go func() {
		_, err := io.ReadAll(body)
		l.straggler <- err
	}()
	return storage.ObjectInfo{}, &storage.Error{Backend: "fake", Op: "put", Key: key, Err: storage.ErrThrottled}
}

func TestBodyStragglerFenced(t *testing.T) {
	l := &lingering{fake: newFake(), straggler: make(chan error, 1)}
	payload := randomBytes(1 << 20)
	b := New(l, testPolicy(&sleeper{}))
	got, err := sendPut(t, b, bytes.NewReader(payload), int64(len(payload)))
	require.NoError(t, err)
	assert.Equal(t, payload, got)
	assert.Equal(t, 2, l.count("put"))
	// The straggler may have read some bytes before the fence closed, never
	// after; either way it ends with the fence's error.
	assert.ErrorIs(t, <-l.straggler, errBodyWithdrawn)
}

// Within its attempt the inner backend may seek the body; after, it may not.
func TestFenceSeek(t *testing.T) {
	f := &fence{r: bytes.NewReader([]byte("abcdef"))}
	_, err := f.Seek(2, io.SeekStart)
	require.NoError(t, err)
	buf := make([]byte, 2)
	_, err = io.ReadFull(f, buf)
	require.NoError(t, err)
	assert.Equal(t, "cd", string(buf))
	f.withdraw()
	_, err = f.Seek(0, io.SeekStart)
	assert.ErrorIs(t, err, errBodyWithdrawn)
	_, err = f.Read(buf)
	assert.ErrorIs(t, err, errBodyWithdrawn)
}
