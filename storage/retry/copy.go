package retry

import (
	"context"

	"github.com/ferry-migrate/ferry/storage"
)

// The optional interfaces New passes through, as embedded parts: one
// wrapper type per combination the inner backend can have (plain,
// multipart, copier, both), so that a type assertion on New's result
// tells the truth. Checking the inner backend at call time instead would
// make every wrapped backend claim ServerCopier and fail at the first
// copy, after the caller chose copying over streaming.

// copyBackend is what New returns for a backend with ServerCopier but
// not Multipart.
type copyBackend struct {
	*backend
	copier
}

// multipartCopyBackend is what New returns for a backend with both.
type multipartCopyBackend struct {
	*multipartBackend
	copier
}

// copier adds Copy to a wrapper. It holds the same *backend as the
// wrapper it is embedded in, for the policy.
type copier struct {
	rb *backend
	sc storage.ServerCopier
}

// Copy is retried like any call: a copy sends no body, and a failed one
// (a multipart copy aborts its upload) leaves dst as it was, or replaced
// by a whole copy when only the answer was lost, which the retry replaces
// again with the same bytes. A conditional copy refused on a retry is
// marked ErrRefusedAfterRetry, as for Put: the object there may be the
// lost attempt's own copy.
func (c copier) Copy(ctx context.Context, src, dst string, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	attempts := 0
	res, err := call(ctx, c.rb, "copy", dst, func() (storage.ObjectInfo, error) {
		attempts++
		return c.sc.Copy(ctx, src, dst, info)
	})
	return res, refusedAfterRetry(attempts, info.Condition, err)
}
