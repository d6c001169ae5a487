package retry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ferry-migrate/ferry/storage"
)

// callBody is call for operations that send body: f is given the reader to
// send. It retries only if body can be rewound to where it stood when the
// operation started.
//
// The rewind happens before the backoff sleep, so a body that refuses to
// seek does not cost a wait.
func callBody[T any](ctx context.Context, b *backend, op, key string, body io.Reader, f func(io.Reader) (T, error)) (T, error) {
	s, ok := body.(io.ReadSeeker)
	var start int64
	if ok {
		var err error
		if start, err = s.Seek(0, io.SeekCurrent); err != nil {
			ok = false // e.g. a pipe behind an *os.File: not rewindable after all
		}
	}
	if !ok {
		// One attempt: whatever the failure, the bytes it consumed are gone.
		return f(body)
	}
	for attempt := 1; ; attempt++ {
		fb := &fence{r: s}
		v, err := f(fb)
		fb.withdraw()
		if err == nil {
			return v, nil
		}
		if b.willRetry(attempt, err) {
			if _, serr := s.Seek(start, io.SeekStart); serr != nil {
				return v, fmt.Errorf("retry: %s %q: cannot rewind body to retry (%v): %w", op, key, serr, err)
			}
		}
		if err = b.wait(ctx, op, key, attempt, err); err != nil {
			return v, err
		}
	}
}

// willRetry reports whether wait would ask for another attempt (unless the
// context ends during the sleep).
func (b *backend) willRetry(attempt int, err error) bool {
	return attempt < b.p.MaxAttempts && storage.IsRetryable(err)
}

// errBodyWithdrawn is what a failed attempt sees if it reads the body after
// its call has returned.
var errBodyWithdrawn = errors.New("retry: body read after its request ended")

// fence hands one attempt the body and takes it back when the attempt's
// call returns. An HTTP transport may go on reading a request body in its
// own goroutine after RoundTrip has returned an error (a 503 SlowDown can
// arrive before the upload is done); without the fence those reads would
// race with the rewind for the next attempt and could steal its bytes.
type fence struct {
	mu   sync.Mutex
	r    io.ReadSeeker
	done bool
}

func (f *fence) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, errBodyWithdrawn
	}
	return f.r.Read(p)
}

// Seek lets the inner backend rewind within its own attempt (to hash the
// body first, say); the body is seekable, so saying so is truthful.
func (f *fence) Seek(off int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		return 0, errBodyWithdrawn
	}
	return f.r.Seek(off, whence)
}

// withdraw ends the attempt's access to the body, waiting for a Read in
// progress to finish.
func (f *fence) withdraw() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
}
