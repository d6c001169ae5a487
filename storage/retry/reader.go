package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/ferry-migrate/ferry/storage"
)

// ErrChanged means the object was replaced while it was being read: a
// re-open after a broken stream found a different size, ETag, CRC64 or
// modification time. The bytes already delivered belong to the old object,
// so the read cannot be continued; it must start again from scratch.
// storage.Classify calls it Permanent, since retrying the same range would
// only splice the two versions together.
var ErrChanged = errors.New("object changed during read")

// reader resumes a ranged read after a retryable failure by re-opening the
// object where the failure left off. Like any io.Reader, it is not safe for
// concurrent use.
type reader struct {
	ctx            context.Context // the one given to Open: reads belong to that call
	b              *backend
	key            string
	offset, length int64              // the range given to Open
	info           storage.ObjectInfo // from the first open: the object we must keep reading
	rc             io.ReadCloser      // nil after a failure, until the re-open
	read           int64              // bytes delivered to the caller
	failures       int                // consecutive failed attempts without progress
	lastErr        error              // the latest of those failures
	err            error              // sticky: once set, every Read returns it
}

func newReader(ctx context.Context, b *backend, key string, offset, length int64,
	rc io.ReadCloser, info storage.ObjectInfo, failures int) *reader {
	return &reader{ctx: ctx, b: b, key: key, offset: offset, length: length,
		info: info, rc: rc, failures: failures}
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.rc == nil {
			if err := r.reopen(); err != nil {
				r.err = err
				return 0, err
			}
		}
		n, err := r.rc.Read(p)
		r.read += int64(n)
		if n > 0 {
			r.failures = 0
		}
		if err == nil || err == io.EOF || !storage.IsRetryable(err) {
			return n, err
		}
		_ = r.rc.Close() // the stream is broken; its Close error says nothing new
		r.rc = nil
		r.failures++
		r.lastErr = err
		if n > 0 {
			// Hand over what we got; the next Read re-opens.
			return n, nil
		}
	}
}

// reopen waits out the backoff for r.lastErr, then opens the rest of the
// range, until it gets a stream or the budget is spent. It returns io.EOF if
// the failure came after the last byte.
func (r *reader) reopen() error {
	for {
		off, n, done := r.remaining()
		if done {
			return io.EOF
		}
		if err := r.b.wait(r.ctx, "read", r.key, r.failures, r.lastErr); err != nil {
			return err
		}
		rc, info, err := r.b.inner.Open(r.ctx, r.key, off, n)
		if err != nil {
			if errors.Is(err, storage.ErrInvalidRange) && r.info.Size > 0 {
				// remaining said there are bytes left at off, so the object
				// has shrunk since the first open.
				return r.changedError(fmt.Errorf("%w: reopen at offset %d: %w", ErrChanged, off, err))
			}
			r.failures++
			r.lastErr = err
			continue
		}
		if why := storage.Changed(r.info, info); why != "" {
			_ = rc.Close()
			return r.changedError(fmt.Errorf("%w: %s", ErrChanged, why))
		}
		r.rc = rc
		return nil
	}
}

// remaining returns the range still to read, and done when there is none.
// A Size of 0 may mean "unknown", so only a positive Size bounds the range.
func (r *reader) remaining() (off, n int64, done bool) {
	off, n = r.offset+r.read, -1
	if r.length >= 0 {
		n = r.length - r.read
		if n <= 0 {
			return off, n, true
		}
	}
	if r.info.Size > 0 && off >= r.info.Size {
		return off, n, true
	}
	return off, n, false
}

func (r *reader) changedError(err error) error {
	return &storage.Error{Backend: r.b.String(), Op: "read", Key: r.key, Err: err}
}

// Close closes the current inner stream, if any. Reads after Close fail.
func (r *reader) Close() error {
	r.err = fs.ErrClosed
	if r.rc == nil {
		return nil
	}
	err := r.rc.Close()
	r.rc = nil
	return err
}
