package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/ferry-migrate/ferry/storage"
)

// Stat returns Key, Size and ModTime. A local file has no ETag or CRC64
// for free; computing them would read the whole file, which is the
// verifier's decision to make, not Stat's.
func (b *Backend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	if err := validateKey(key); err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	fi, err := b.statObject(b.path(key))
	if err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	return storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// statObject returns the file behind a key, or an error wrapping
// ErrNotFound when the path holds something that is not an object as List
// would show it: a directory (a key prefix, not a key), an unfollowed link,
// a special file.
func (b *Backend) statObject(path string) (fs.FileInfo, error) {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if !b.opts.FollowSymlinks {
			return nil, fmt.Errorf("%w: %w: %s", storage.ErrNotFound, ErrSymlink, path)
		}
		fi, err = os.Stat(path)
	}
	switch {
	case err != nil:
		return nil, err
	case fi.IsDir():
		return nil, fmt.Errorf("%w: %s is a directory of other keys, not an object", storage.ErrNotFound, path)
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %w: %s is %s", storage.ErrNotFound, ErrSpecialFile, path, describeMode(fi.Mode()))
	}
	return fi, nil
}

// Open returns a reader of the byte range [offset, offset+length), cut at
// the size the file had when opened, so what is read agrees with the
// returned Size even if the file grows meanwhile.
func (b *Backend) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	if err := validateKey(key); err != nil {
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	path := b.path(key)
	// Stat first: opening a fifo for reading would block until a writer
	// shows up.
	if _, err := b.statObject(path); err != nil {
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	flags := os.O_RDONLY
	if !b.opts.FollowSymlinks {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, syscall.ELOOP) && !b.opts.FollowSymlinks {
		err = fmt.Errorf("%w: %w: %s", storage.ErrNotFound, ErrSymlink, path) // replaced by a link since the stat
	}
	if err != nil {
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	// Describe the file actually opened, which may have been replaced
	// since the stat.
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s is no longer a regular file", storage.ErrNotFound, path)
	}
	if err == nil {
		err = checkRange(offset, fi.Size())
	}
	if err != nil {
		_ = f.Close()
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	n := fi.Size() - offset
	if length >= 0 && length < n {
		n = length
	}
	r := &fileReader{ctx: ctx, b: b, key: key, f: f, r: io.NewSectionReader(f, offset, n)}
	return r, storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// checkRange applies S3's rule (416): a range may run past the end, but
// must not start at or beyond it. Offset 0 is always valid, so an empty
// object can be read whole.
func checkRange(offset, size int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: negative offset %d", storage.ErrInvalidRange, offset)
	}
	if offset > 0 && offset >= size {
		return fmt.Errorf("%w: offset %d is not before the end of the %d-byte object", storage.ErrInvalidRange, offset, size)
	}
	return nil
}

// fileReader checks ctx on every Read, so that cancelling a copy stops it
// at the next buffer rather than at the end of a large file.
type fileReader struct {
	ctx context.Context
	b   *Backend
	key string
	f   *os.File
	r   io.Reader
}

func (r *fileReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = r.b.fail("read", r.key, err)
	}
	return n, err
}

func (r *fileReader) Close() error { return r.f.Close() }

// Delete removes the file, then the parent directories it leaves empty, so
// that deleting "a/b" lets a later Put of "a" succeed. What is not an object
// (a directory, an unfollowed link, a special file) is left alone, and
// Delete succeeds as for any missing key.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return b.fail("delete", key, err)
	}
	if err := validateKey(key); err != nil {
		return b.fail("delete", key, err)
	}
	path := b.path(key)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return nil
	case err != nil:
		return b.fail("delete", key, err)
	case fi.Mode()&fs.ModeSymlink != 0 && !b.opts.FollowSymlinks:
		return nil
	case fi.IsDir(), fi.Mode()&fs.ModeSymlink == 0 && !fi.Mode().IsRegular():
		return nil
	}
	// A followed link is removed as a link: the object was its name, the
	// target may be shared.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return b.fail("delete", key, err)
	}
	b.pruneEmptyParents(filepath.Dir(path))
	return nil
}

// pruneEmptyParents removes dir and its ancestors while they are empty,
// stopping below root. Failure is the normal way to stop (a directory still
// holds something), so errors are not reported.
func (b *Backend) pruneEmptyParents(dir string) {
	inside := b.root
	if !strings.HasSuffix(inside, string(filepath.Separator)) {
		inside += string(filepath.Separator)
	}
	for strings.HasPrefix(dir, inside) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
