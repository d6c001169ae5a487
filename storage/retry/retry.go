// Package retry wraps a storage.Backend so that transient failures (as
// storage.Classify judges them) are retried with exponential backoff, in the
// style of restic's RetryBackend. Callers above it (scanner, copier) see
// fewer, more meaningful errors; everything below it (the backends) stays
// free of retry loops.
//
// What is retried, and what is not:
//   - Only errors that storage.Classify calls Retryable. Permanent, Fatal and
//     Canceled errors are returned after the first attempt: retrying what
//     cannot succeed is how retry storms start.
//   - A call makes at most Policy.MaxAttempts attempts, then fails with an
//     *ExhaustedError that wraps the last error (so errors.Is still finds
//     the sentinel, and Classify still says Retryable: a later, coarser
//     retry of the whole object may well succeed).
//   - List and reads from Open resume where they were interrupted rather
//     than starting again, and for them the budget counts consecutive
//     attempts that made no progress: a listing of 200 M keys or a read of
//     a 5 TB object may meet more than MaxAttempts hiccups in its lifetime,
//     yet each key or byte delivered proves the server is alive. The budget
//     is still bounded: every reset needs at least one new key or byte.
//   - Put and UploadPart are retried only when the body is an io.Seeker, as
//     the body must be re-sent from its start; see Put.
//
// The wrapper must be the only retry layer for a given failure: a backend
// whose client also retries (the AWS SDK does by default) multiplies the
// attempts and the waits.
package retry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ferry-migrate/ferry/storage"
)

// New returns b with retries according to p (zero fields of p take their
// defaults). The result implements storage.Multipart exactly when b does,
// and storage.ServerCopier exactly when b does: callers find out what a
// backend can do by a type assertion, so the wrapper must not claim more
// (or less) than the inner backend. It passes storage.Checker through (as
// a no-op when b has no Check), storage.LevelLister (errors.ErrUnsupported
// when b has none: callers fall back to List) and
// storage.EvidenceReporter; other optional interfaces of b are not passed
// through.
func New(b storage.Backend, p Policy) storage.Backend {
	rb := &backend{inner: b, p: p.withDefaults()}
	mp, isMP := b.(storage.Multipart)
	sc, isSC := b.(storage.ServerCopier)
	switch {
	case isMP && isSC:
		return &multipartCopyBackend{multipartBackend: &multipartBackend{backend: rb, mp: mp}, copier: copier{rb, sc}}
	case isMP:
		return &multipartBackend{backend: rb, mp: mp}
	case isSC:
		return &copyBackend{backend: rb, copier: copier{rb, sc}}
	}
	return rb
}

var (
	_ storage.Backend          = (*backend)(nil)
	_ storage.Multipart        = (*multipartBackend)(nil)
	_ storage.ServerCopier     = (*copyBackend)(nil)
	_ storage.Multipart        = (*multipartCopyBackend)(nil)
	_ storage.ServerCopier     = (*multipartCopyBackend)(nil)
	_ storage.Checker          = (*backend)(nil)
	_ storage.LevelLister      = (*backend)(nil)
	_ storage.EvidenceReporter = (*backend)(nil)
)

// Evidence is the inner backend's: retries change how often a write is
// tried, not what its answer proves.
func (b *backend) Evidence() storage.Evidence { return storage.EvidenceOf(b.inner) }

// backend is the wrapper for backends without multipart support. It is a
// separate type from multipartBackend so that a type assertion on New's
// result tells the truth about what the inner backend can do.
type backend struct {
	inner storage.Backend
	p     Policy
}

// ExhaustedError is returned when a call used up its attempts. It wraps the
// error of the last attempt.
type ExhaustedError struct {
	Op       string // "stat", "put", "read", ...
	Key      string // the prefix for list operations
	Attempts int
	Err      error
}

func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("retry: %s %q: giving up after %d attempts: %v", e.Op, e.Key, e.Attempts, e.Err)
}

func (e *ExhaustedError) Unwrap() error { return e.Err }

func (b *backend) String() string { return b.inner.String() }

// wait handles the failure of attempt number attempt (1-based) of op with
// err: it returns nil when the caller should try again, after the backoff
// sleep, or the error the call should fail with.
func (b *backend) wait(ctx context.Context, op, key string, attempt int, err error) error {
	if storage.Classify(err) != storage.Retryable {
		return err
	}
	if attempt >= b.p.MaxAttempts {
		return &ExhaustedError{Op: op, Key: key, Attempts: attempt, Err: err}
	}
	d := b.p.Backoff(attempt-1, err)
	if b.p.OnRetry != nil {
		b.p.OnRetry(op, key, attempt, d, err)
	}
	if serr := b.p.Sleep(ctx, d); serr != nil {
		// Both wrapped: errors.Is(err, ctx.Err()) holds, so Classify says
		// Canceled, and the log still shows why we were waiting.
		return fmt.Errorf("retry: %s %q: %w while waiting to retry after: %w", op, key, serr, err)
	}
	return nil
}

// call runs f until it succeeds or wait says to stop.
func call[T any](ctx context.Context, b *backend, op, key string, f func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := f()
		if err == nil {
			return v, nil
		}
		if err = b.wait(ctx, op, key, attempt, err); err != nil {
			return v, err
		}
	}
}

func (b *backend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	return call(ctx, b, "stat", key, func() (storage.ObjectInfo, error) {
		return b.inner.Stat(ctx, key)
	})
}

func (b *backend) Delete(ctx context.Context, key string) error {
	_, err := call(ctx, b, "delete", key, func() (struct{}, error) {
		return struct{}{}, b.inner.Delete(ctx, key)
	})
	return err
}

// List resumes an interrupted listing after the last key fn received, so fn
// sees every key once, in order, with no gap. An error returned by fn is
// returned unchanged and never retried, whatever its class: it is the
// caller's decision, not a failure of the backend.
func (b *backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	last := startAfter
	for failures := 0; ; {
		var fnErr error
		progress := false
		err := b.inner.List(ctx, prefix, last, func(oi storage.ObjectInfo) error {
			if last != "" && oi.Key <= last {
				// The contract forbids this; skipping it here is what lets
				// this package, rather than every backend, promise no
				// duplicates across a resume.
				return nil
			}
			if err := fn(oi); err != nil {
				fnErr = err
				return err
			}
			last, progress = oi.Key, true
			return nil
		})
		if fnErr != nil {
			return fnErr
		}
		if err == nil {
			return nil
		}
		if progress {
			failures = 0
		}
		failures++
		if err = b.wait(ctx, "list", prefix, failures, err); err != nil {
			return err
		}
	}
}

// Open retries the Open call itself, then returns a reader that resumes
// transparently when a read fails with a retryable error: it re-opens the
// object where the failed read stopped and checks that the object is still
// the one it started reading (see ErrChanged).
func (b *backend) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	var (
		rc   io.ReadCloser
		info storage.ObjectInfo
		err  error
	)
	for attempt := 1; ; attempt++ {
		rc, info, err = b.inner.Open(ctx, key, offset, length)
		if err == nil {
			return newReader(ctx, b, key, offset, length, rc, info, attempt-1), info, nil
		}
		if err = b.wait(ctx, "open", key, attempt, err); err != nil {
			return nil, info, err
		}
	}
}

// Put retries only when body is an io.Seeker, rewinding it to the offset it
// had when Put was called before each retry. A body that cannot seek has
// been partly consumed by the failed attempt and cannot be re-sent from
// here: the error is returned as is, and the caller re-opens the source.
//
// A seekable body must be rewindable without side effects: a reader that
// hashes what passes through it would count the re-sent bytes twice. The
// inner backend gets it wrapped (still an io.ReadSeeker), so that a failed
// attempt cannot read it any more once its call has returned; see fence.
//
// A conditional Put refused on a retry is marked ErrRefusedAfterRetry:
// see there.
func (b *backend) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	attempts := 0
	v, err := callBody(ctx, b, "put", key, body, func(body io.Reader) (storage.ObjectInfo, error) {
		attempts++
		return b.inner.Put(ctx, key, body, info)
	})
	return v, refusedAfterRetry(attempts, info.Condition, err)
}

// ErrRefusedAfterRetry marks a conditional write (it also wraps
// storage.ErrPrecondition) refused on a retry, after an attempt whose
// outcome is unknown: a reset while the answer was on its way may follow
// a write the store did make, and the retry is then refused by that very
// object. Before calling the object "kept because newer", the caller
// compares it with what it wrote (size, CRC64, checksum): it may be its
// own.
var ErrRefusedAfterRetry = errors.New("refused on a retry: the object there may be this write's own earlier attempt")

func refusedAfterRetry(attempts int, c storage.Condition, err error) error {
	if attempts > 1 && !c.IsZero() && errors.Is(err, storage.ErrPrecondition) {
		return fmt.Errorf("%w: %w", ErrRefusedAfterRetry, err)
	}
	return err
}

// Check runs the inner backend's Check, retrying transient failures so a
// job does not refuse to start over one reset connection.
func (b *backend) Check(ctx context.Context) error {
	c, ok := b.inner.(storage.Checker)
	if !ok {
		return nil
	}
	_, err := call(ctx, b, "check", "", func() (struct{}, error) { return struct{}{}, c.Check(ctx) })
	return err
}

// ListLevel passes a level listing through, retrying transient failures.
// A retry lists the level again and drops what fn and dirFn already saw
// (both streams are in key order). Without inner support it returns
// errors.ErrUnsupported, and callers fall back to List.
func (b *backend) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	ll, ok := b.inner.(storage.LevelLister)
	if !ok {
		return fmt.Errorf("%s: level listing: %w", b.inner, errors.ErrUnsupported)
	}
	var lastKey, lastDir string
	var fnErr error
	_, err := call(ctx, b, "list", prefix, func() (struct{}, error) {
		err := ll.ListLevel(ctx, prefix, func(o storage.ObjectInfo) error {
			if lastKey != "" && o.Key <= lastKey {
				return nil
			}
			lastKey = o.Key
			if err := fn(o); err != nil {
				fnErr = err
				return err
			}
			return nil
		}, func(d string) error {
			if lastDir != "" && d <= lastDir {
				return nil
			}
			lastDir = d
			if err := dirFn(d); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		if fnErr != nil {
			return struct{}{}, permanent{fnErr}
		}
		return struct{}{}, err
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// permanent keeps a callback's own error from being retried.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
