package retry

import (
	"context"
	"errors"
	"io"

	"github.com/ferry-migrate/ferry/storage"
)

// multipartBackend is what New returns for a backend that implements
// storage.Multipart.
type multipartBackend struct {
	*backend
	mp storage.Multipart
}

func (m *multipartBackend) MinPartSize() int64 { return m.mp.MinPartSize() }

// PartLimits forwards the wrapped backend's limits (LimitsOf falls back to
// S3's for one that states none).
func (m *multipartBackend) PartLimits() storage.PartLimits { return storage.LimitsOf(m.mp) }

// CreateUpload is retried like any call. A retry after a failure whose
// request did reach the server (a reset while reading the response) leaves
// an upload nobody knows the ID of; the copier's orphan sweep (ListUploads
// + AbortUpload) reclaims it, which is cheaper than refusing to retry.
func (m *multipartBackend) CreateUpload(ctx context.Context, key string, info storage.ObjectInfo) (storage.Upload, error) {
	return call(ctx, m.backend, "create-upload", key, func() (storage.Upload, error) {
		return m.mp.CreateUpload(ctx, key, info)
	})
}

// UploadPart retries only when body is an io.Seeker, like Put. Re-sending a
// part is safe: the same part number replaces the earlier one.
func (m *multipartBackend) UploadPart(ctx context.Context, u storage.Upload, n int, body io.Reader, size int64) (storage.Part, error) {
	return callBody(ctx, m.backend, "upload-part", u.Key, body, func(body io.Reader) (storage.Part, error) {
		return m.mp.UploadPart(ctx, u, n, body, size)
	})
}

func (m *multipartBackend) ListParts(ctx context.Context, u storage.Upload) ([]storage.Part, error) {
	return call(ctx, m.backend, "list-parts", u.Key, func() ([]storage.Part, error) {
		return m.mp.ListParts(ctx, u)
	})
}

// CompleteUpload is retried like any call. If an earlier attempt did
// complete the upload and only the response was lost, the retry gets
// ErrNoSuchUpload (permanent); the caller can tell by a Stat of the key.
// ErrCorrupt is not retried here: the store refused the assembled parts
// against a declared checksum, and the same parts get the same answer
// (after re-reading the whole object each time). The caller must send them
// again.
//
// A conditional complete refused on a retry is marked
// ErrRefusedAfterRetry, as for Put.
func (m *multipartBackend) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	var refused error
	attempts := 0
	info, err := call(ctx, m.backend, "complete-upload", u.Key, func() (storage.ObjectInfo, error) {
		attempts++
		info, err := m.mp.CompleteUpload(ctx, u, parts)
		if errors.Is(err, storage.ErrCorrupt) {
			refused = err
			return info, nil // ends the retries
		}
		return info, err
	})
	if refused != nil {
		return storage.ObjectInfo{}, refused
	}
	return info, refusedAfterRetry(attempts, u.Condition, err)
}

func (m *multipartBackend) AbortUpload(ctx context.Context, u storage.Upload) error {
	_, err := call(ctx, m.backend, "abort-upload", u.Key, func() (struct{}, error) {
		return struct{}{}, m.mp.AbortUpload(ctx, u)
	})
	return err
}

// ListUploads restarts an interrupted listing from the beginning (the
// contract gives it no resume point) and passes fn only uploads it has not
// seen yet. The set of seen uploads grows with the number of unfinished
// uploads, which is small: they are orphans or in flight. An error from fn
// is returned unchanged and never retried.
func (m *multipartBackend) ListUploads(ctx context.Context, prefix string, fn func(storage.Upload) error) error {
	seen := make(map[storage.Upload]struct{})
	for attempt := 1; ; attempt++ {
		var fnErr error
		err := m.mp.ListUploads(ctx, prefix, func(u storage.Upload) error {
			if _, dup := seen[u]; dup {
				return nil
			}
			seen[u] = struct{}{}
			if err := fn(u); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		if fnErr != nil {
			return fnErr
		}
		if err == nil {
			return nil
		}
		if err = m.wait(ctx, "list-uploads", prefix, attempt, err); err != nil {
			return err
		}
	}
}
