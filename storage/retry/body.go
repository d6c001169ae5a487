package retry

import (
	"context"
	"fmt"
	"io"

	"github.com/ferry-migrate/ferry/storage"
)

// callBody is call for operations that send body: it retries only if body
// can be rewound to where it stood when the operation started.
//
// The rewind happens before the backoff sleep, so a body that refuses to
// seek does not cost a wait. The inner backend must have stopped reading the
// body when its call returns; one that leaves a goroutine reading it (as an
// HTTP transport may after an error) makes the rewind a data race.
func callBody[T any](ctx context.Context, b *backend, op, key string, body io.Reader, f func() (T, error)) (T, error) {
	s, ok := body.(io.Seeker)
	var start int64
	if ok {
		var err error
		if start, err = s.Seek(0, io.SeekCurrent); err != nil {
			ok = false // e.g. a pipe behind an *os.File: not rewindable after all
		}
	}
	if !ok {
		// One attempt: whatever the failure, the bytes it consumed are gone.
		return f()
	}
	for attempt := 1; ; attempt++ {
		v, err := f()
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
