// Package local is a storage.Backend over a directory tree: key "a/b/c" is
// the file <root>/a/b/c. It serves as a migration source (a local disk or an
// NFS mount) and as a destination, and it is the backend the rest of ferry is
// tested against, so it keeps the full contract of package storage: byte-wise
// sorted, resumable listings; atomic puts; multipart uploads that survive a
// restart of the process.
//
// Layout under root, besides the objects themselves:
//
//	<dir>/.ferry-tmp-*              a Put or part in flight (or left by a crash)
//	.ferry-multipart/<uploadID>/    staging area of one multipart upload
//
// Both names are reserved: no key may use them and List never shows them.
//
// A filesystem cannot hold "a" and "a/b" at once, cannot store S3 directory
// markers ("a/"), and limits path segments to 255 bytes; such keys fail with
// storage.ErrInvalidKey. Content type and user metadata are not kept.
package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/ferry-migrate/ferry/storage"
)

var (
	_ storage.Backend          = (*Backend)(nil)
	_ storage.Multipart        = (*Backend)(nil)
	_ storage.Checker          = (*Backend)(nil)
	_ storage.LevelLister      = (*Backend)(nil)
	_ storage.EvidenceReporter = (*Backend)(nil)
)

// Evidence: a file has no ETag and Put reports no digest (the bytes never
// leave this process, so one would prove nothing); parts and completed
// uploads carry the CRC64 the backend computed while writing them.
func (b *Backend) Evidence() storage.Evidence { return storage.Evidence{} }

// Options tune how the tree is read.
type Options struct {
	// FollowSymlinks makes List, Stat and Open treat a symbolic link as the
	// file or directory it points to. Off by default: a link may lead out
	// of root or into a cycle, and copying its target would duplicate data
	// the operator may not expect to move.
	//
	// Off, List never enters a linked directory, and Stat, Open and
	// Delete treat a key whose last segment is a link as missing. Links
	// in the middle of a key's path are resolved by the OS as usual: a
	// key obtained from List never has one.
	FollowSymlinks bool

	// OnSkip is told about every entry that List leaves out and that might
	// be data the operator wanted: symbolic links not followed, sockets,
	// fifos and devices, names that are not valid keys (not UTF-8, too
	// long), and directories that cannot be read. key is the entry's key
	// (a directory's ends in "/"); reason names the path and the cause.
	//
	// When OnSkip is nil, List fails on the first such entry instead: a
	// migration must never lose objects silently.
	OnSkip func(key string, reason error)
}

// Backend stores objects as files under a root directory. It is safe for
// concurrent use; concurrent writers of the same key race as on any store
// (the last rename wins), but no reader ever sees a partial object.
type Backend struct {
	root string // absolute, cleaned
	opts Options
	name string
}

// New returns a backend over root, which must be an existing directory.
// Errors wrap storage.ErrBucketNotFound (or ErrAccessDenied) and name the
// path: a wrong root is a configuration mistake, and nothing can succeed
// until it is fixed.
func New(root string, opts Options) (*Backend, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("%w: local root %q: %w", storage.ErrBucketNotFound, root, err)
	}
	if err := checkRoot(abs); err != nil {
		return nil, err
	}
	return &Backend{root: abs, opts: opts, name: "local " + abs}, nil
}

// String names the backend as "local /abs/root".
func (b *Backend) String() string { return b.name }

// Root returns the absolute directory the backend stores objects under.
func (b *Backend) Root() string { return b.root }

// Check verifies that root is still an existing directory, so that a job
// fails up front (and Fatal) rather than object by object.
func (b *Backend) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return b.fail("check", "", err)
	}
	if err := checkRoot(b.root); err != nil {
		return &storage.Error{Backend: b.name, Op: "check", Err: err}
	}
	return nil
}

func checkRoot(abs string) error {
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: local root: %w", storage.ErrAccessDenied, err)
	case err != nil:
		return fmt.Errorf("%w: local root: %w", storage.ErrBucketNotFound, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: local root %s is not a directory", storage.ErrBucketNotFound, abs)
	}
	return nil
}

// fail wraps err as the *storage.Error every method returns, translating
// the OS cause into a storage sentinel while keeping the OS error (which
// names the path) in the chain.
func (b *Backend) fail(op, key string, err error) error {
	return &storage.Error{Backend: b.name, Op: op, Key: key, Err: classifyOS(err)}
}

// classifyOS maps OS errors onto storage sentinels, as "sentinel: os error".
func classifyOS(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	// An error that already wraps a sentinel was classified where it arose,
	// with more knowledge than an errno gives.
	sentinels := [...]error{
		storage.ErrNotFound, storage.ErrAccessDenied, storage.ErrInvalidKey,
		storage.ErrInvalidRange, storage.ErrSizeMismatch, storage.ErrNoSuchUpload,
		storage.ErrBucketNotFound, storage.ErrCorrupt, storage.ErrUnavailable,
		storage.ErrThrottled, storage.ErrAuth, storage.ErrPrecondition, storage.ErrConditionUnsupported,
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	var sentinel error
	switch {
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		// ENOTDIR: a parent of the path is a file, so the key cannot exist.
		sentinel = storage.ErrNotFound
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EROFS):
		sentinel = storage.ErrAccessDenied
	case errors.Is(err, syscall.ENAMETOOLONG):
		sentinel = storage.ErrInvalidKey
	default:
		return err
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

// path maps a validated key to its file.
func (b *Backend) path(key string) string {
	return filepath.Join(b.root, filepath.FromSlash(key))
}

// syncDir makes a rename or unlink in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems cannot fsync a directory; their renames are as
	// durable as they get, which is not worth failing a copy over.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}
