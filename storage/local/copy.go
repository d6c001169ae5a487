package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

var _ storage.ServerCopier = (*Backend)(nil)

// Copy copies the file src to dst inside the root. It is Put with src's
// bytes as the body: the same temporary file, fsync, rename and
// info.Condition handling (writeObject, publish), so a crash or a refused
// condition leaves dst as it was. The copy gets a new modification time,
// as a copy on an object store does; there is no metadata to keep.
//
// The bytes pass through this process, unlike a store's server-side copy,
// but never leave the machine: to the caller it is the same promise, no
// source reads.
func (b *Backend) Copy(ctx context.Context, src, dst string, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.fail("copy", dst, err)
	}
	if err := validateKey(dst); err != nil {
		return storage.ObjectInfo{}, b.fail("copy", dst, err)
	}
	if err := info.Condition.Validate(); err != nil {
		return storage.ObjectInfo{}, b.fail("copy", dst, err)
	}
	// Open applies the same rules to src as a read does (links, special
	// files), and pins the file: a src replaced meanwhile is not mixed in.
	rc, from, err := b.Open(ctx, src, 0, -1)
	if err != nil {
		var se *storage.Error
		if errors.As(err, &se) {
			err = se.Err
		}
		return storage.ObjectInfo{}, b.fail("copy", dst, fmt.Errorf("source %q: %w", src, err))
	}
	defer rc.Close()
	fi, err := b.writeObject(dst, time.Time{}, info.Condition, func(w io.Writer) error {
		return copyExactly(ctx, w, rc, from.Size)
	})
	if err != nil {
		return storage.ObjectInfo{}, b.fail("copy", dst, err)
	}
	return storage.ObjectInfo{Key: dst, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}
