package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferry-migrate/ferry/storage"
)

// Put writes the body to a temporary file next to the final one, syncs it
// and renames it into place, so a crash leaves either the old object or
// the new one under the key, never a partial file. info.Condition is
// honoured as publish describes. The result carries
// Key, Size and ModTime: a plain file has no ETag or CRC64 to report, and
// a CRC computed here would only restate what the caller sent.
func (b *Backend) Put(ctx context.Context, key string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.fail("put", key, err)
	}
	if err := validateKey(key); err != nil {
		return storage.ObjectInfo{}, b.fail("put", key, err)
	}
	if info.Size < 0 {
		return storage.ObjectInfo{}, b.fail("put", key,
			fmt.Errorf("%w: size %d is negative: Put needs the exact size", storage.ErrSizeMismatch, info.Size))
	}
	if err := info.Condition.Validate(); err != nil {
		return storage.ObjectInfo{}, b.fail("put", key, err)
	}
	fi, err := b.writeObject(key, info.ModTime, info.Condition, func(w io.Writer) error {
		return copyExactly(ctx, w, body, info.Size)
	})
	if err != nil {
		return storage.ObjectInfo{}, b.fail("put", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// writeObject stores what fill writes as the object key: temporary file in
// the target directory, fsync, mtime, rename, fsync of the directory. On
// failure nothing is left behind, not even directories it created. The
// rename honours cond (see publish).
func (b *Backend) writeObject(key string, mtime time.Time, cond storage.Condition, fill func(io.Writer) error) (fs.FileInfo, error) {
	path := b.path(key)
	dir := filepath.Dir(path)
	// Fail before copying what may be gigabytes.
	if err := checkNotParent(key, path); err != nil {
		return nil, err
	}
	if err := checkCondition(path, cond); err != nil {
		return nil, err
	}
	f, err := b.createTemp(key, dir)
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			_ = f.Close() // may already be closed; the file is discarded anyway
			_ = os.Remove(tmp)
			b.pruneEmptyParents(dir)
		}
	}()
	if err := fill(f); err != nil {
		return nil, err
	}
	// CreateTemp makes 0600 files; objects are ordinary readable files.
	if err := f.Chmod(0o644); err != nil {
		return nil, err
	}
	if !mtime.IsZero() {
		// The zero atime leaves the access time alone.
		if err := os.Chtimes(tmp, time.Time{}, mtime); err != nil {
			return nil, err
		}
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	if err := publish(key, tmp, path, cond); err != nil {
		return nil, err
	}
	done = true
	// The object is in place; an error here means only that its
	// durability is unknown, and a retried Put is harmless.
	return fi, syncDir(dir)
}

// createTemp makes the key's directory and a temporary file in it.
//
// A concurrent Delete prunes directories the moment they are empty, which
// includes directories this call has just made and not yet put its file
// in (MkdirAll itself can lose a parent between two of its mkdirs). That
// is a transient race, so it is retried; once the temporary file exists,
// its directory is no longer empty and stays.
func (b *Backend) createTemp(key, dir string) (*os.File, error) {
	const attempts = 10
	for attempt := 1; ; attempt++ {
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			var f *os.File
			if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil {
				return f, nil
			}
		}
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EEXIST) {
			if obj := b.fileAncestor(key); obj != "" {
				return nil, fmt.Errorf("%w: %q is an object, so it cannot also be a directory holding %q "+
					"(a filesystem cannot hold both): %w", storage.ErrInvalidKey, obj, key, err)
			}
		}
		// EEXIST without a file in the way: MkdirAll lost a race (its
		// mkdir failed because another Put made the directory, which a
		// Delete then pruned before MkdirAll could confirm it).
		if (errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EEXIST)) && attempt < attempts {
			continue
		}
		return nil, err
	}
}

// fileAncestor returns the key of an existing object that is a parent
// directory of key, or "".
func (b *Backend) fileAncestor(key string) string {
	for i := range len(key) {
		if key[i] != '/' {
			continue
		}
		fi, err := os.Stat(b.path(key[:i]))
		if err != nil {
			return ""
		}
		if !fi.IsDir() {
			return key[:i]
		}
	}
	return ""
}

// checkNotParent fails when path is a directory holding other keys: the
// object "a" cannot exist next to "a/b". An empty directory holds no
// object and is replaced (see replace).
func checkNotParent(key, path string) error {
	fi, err := os.Lstat(path)
	if err != nil || !fi.IsDir() {
		return nil // errors surface, better described, when creating the file
	}
	d, err := os.Open(path)
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(1)
	_ = d.Close()
	if len(names) == 0 {
		return nil
	}
	return parentConflict(key, path)
}

func parentConflict(key, path string) error {
	return fmt.Errorf("%w: %s is a directory holding other keys (%q), and a filesystem cannot also hold the object %q",
		storage.ErrInvalidKey, path, key+"/...", key)
}

// replace renames tmp over path.
func replace(key, tmp, path string) error {
	err := os.Rename(tmp, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
		// rmdir succeeds only on an empty directory, which is no object
		// and no key prefix of one: nothing is lost by replacing it.
		if os.Remove(path) == nil {
			if err = os.Rename(tmp, path); err == nil {
				return nil
			}
		}
		return parentConflict(key, path)
	}
	return err
}

// copyExactly copies exactly size bytes of body to w, or fails with
// ErrSizeMismatch. A longer body is an error too: the caller's size is
// wrong, and a truncated copy that matches it would pass as verified.
func copyExactly(ctx context.Context, w io.Writer, body io.Reader, size int64) error {
	n, err := io.CopyN(w, ctxReader{ctx: ctx, r: body}, size)
	switch {
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%w: body ended after %d of %d bytes", storage.ErrSizeMismatch, n, size)
	case err != nil:
		return fmt.Errorf("copying body: %w", err)
	}
	var one [1]byte
	m, err := io.ReadFull(ctxReader{ctx: ctx, r: body}, one[:])
	switch {
	case m > 0:
		return fmt.Errorf("%w: body is longer than the declared %d bytes", storage.ErrSizeMismatch, size)
	case errors.Is(err, io.EOF):
		return nil
	default:
		return fmt.Errorf("reading body: %w", err)
	}
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
