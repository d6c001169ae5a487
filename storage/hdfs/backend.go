// Package hdfs is a read-only storage.Backend over an HDFS directory: key
// "a/b/c" is the file <root>/a/b/c. It serves as a migration source only;
// Put and Delete fail with storage.ErrConfig.
//
// The cluster is reached through the small fs interface (fs.go). Its one
// real implementation, the adapter over github.com/colinmarc/hdfs/v2 in
// client.go, is kept thin on purpose: no HDFS can run on the machines
// that test ferry, so the logic (key order, resume, key mapping, error
// classes) lives here, behind fs, where an in-memory fake tests it.
//
// The HDFS client takes no context. Every method checks ctx before and
// after each call to the cluster, and a reader checks it before every
// read; a call already in flight ends at the client's own timeouts.
package hdfs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
)

var (
	_ storage.Backend     = (*Backend)(nil)
	_ storage.Checker     = (*Backend)(nil)
	_ storage.LevelLister = (*Backend)(nil)
)

// ErrReadOnly is the reason Put and Delete fail: ferry reads HDFS but
// never writes it.
var ErrReadOnly = fmt.Errorf("%w: hdfs is supported as a source only", storage.ErrConfig)

// Options tune how the tree is read.
type Options struct {
	// OnSkip is told about every entry List leaves out that might be data
	// the operator wanted: symbolic links (never followed), names that are
	// not valid keys, and directories that cannot be read. key is the
	// entry's key (a directory's ends in "/"). When OnSkip is nil, List
	// fails on the first such entry instead: a migration must never lose
	// objects silently.
	OnSkip func(key string, reason error)
}

// Backend reads objects under one HDFS directory. It is safe for
// concurrent use as far as its fs is (the client adapter is).
type Backend struct {
	fs   fs
	root string // absolute, cleaned, no trailing "/" except for "/" itself
	name string
	opts Options
}

// newBackend returns a backend over root on fsys. where names the cluster
// in String ("hdfs://nn1:8020,nn2:8020").
func newBackend(fsys fs, where, root string, opts Options) (*Backend, error) {
	if !strings.HasPrefix(root, "/") {
		return nil, fmt.Errorf("%w: hdfs root %q is not an absolute path", storage.ErrConfig, root)
	}
	root = path.Clean(root)
	return &Backend{fs: fsys, root: root, name: "hdfs " + where + root, opts: opts}, nil
}

// String names the backend as "hdfs hdfs://namenode/root".
func (b *Backend) String() string { return b.name }

// Root returns the HDFS directory keys are relative to.
func (b *Backend) Root() string { return b.root }

// Check verifies that the namenode answers and root is a readable
// directory, so that a wrong address or path fails the job up front.
func (b *Backend) Check(ctx context.Context) error {
	var fi fileInfo
	err := b.call(ctx, func() (err error) { fi, err = b.fs.Stat(b.root); return err })
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return b.fail("check", "", fmt.Errorf("%w: hdfs root %s: %w", storage.ErrBucketNotFound, b.root, err))
	case err != nil:
		return b.fail("check", "", err)
	case !fi.Dir:
		return b.fail("check", "", fmt.Errorf("%w: hdfs root %s is not a directory", storage.ErrBucketNotFound, b.root))
	}
	err = b.call(ctx, func() error { _, err := b.fs.ReadDir(b.root); return err })
	if err != nil {
		return b.fail("check", "", fmt.Errorf("reading hdfs root %s: %w", b.root, err))
	}
	return nil
}

// Stat describes the regular file under key. A directory or a symbolic
// link is not an object: ErrNotFound.
func (b *Backend) Stat(ctx context.Context, key string) (storage.ObjectInfo, error) {
	p, err := b.path(key)
	if err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	var fi fileInfo
	if err := b.call(ctx, func() (err error) { fi, err = b.fs.Stat(p); return err }); err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	if err := notObject(p, fi); err != nil {
		return storage.ObjectInfo{}, b.fail("stat", key, err)
	}
	return info(key, fi), nil
}

// Open reads length bytes of key from offset (length < 0: to the end).
func (b *Backend) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, storage.ObjectInfo, error) {
	st, err := b.Stat(ctx, key)
	if err != nil {
		return nil, storage.ObjectInfo{}, err
	}
	if offset < 0 || (offset > 0 && offset >= st.Size) {
		return nil, storage.ObjectInfo{}, b.fail("open", key,
			fmt.Errorf("%w: offset %d of a %d-byte file", storage.ErrInvalidRange, offset, st.Size))
	}
	p, _ := b.path(key) // valid: Stat checked it
	var f file
	if err := b.call(ctx, func() (err error) { f, err = b.fs.Open(p); return err }); err != nil {
		if f != nil {
			_ = f.Close() // opened just as ctx ended: nobody will read it
		}
		return nil, storage.ObjectInfo{}, b.fail("open", key, err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			_ = f.Close()
			return nil, storage.ObjectInfo{}, b.fail("open", key, err)
		}
	}
	var r io.Reader = f
	if length >= 0 {
		r = io.LimitReader(f, length)
	}
	return &reader{ctx: ctx, r: r, f: f, b: b, key: key}, st, nil
}

// HDFSChecksum returns HDFS's own checksum of key's file, as the hex of
// the client's MD5-of-MD5-of-CRC32C. It is evidence for comparing two
// HDFS copies written with the same block and chunk sizes, nothing more:
// no destination ferry writes computes it, so it never goes into
// ObjectInfo (the copier would try to compare it). Verification uses the
// CRC64 of the bytes read, as for every source.
func (b *Backend) HDFSChecksum(ctx context.Context, key string) (string, error) {
	p, err := b.path(key)
	if err != nil {
		return "", b.fail("checksum", key, err)
	}
	var sum []byte
	err = b.call(ctx, func() error {
		f, err := b.fs.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		sum, err = f.Checksum()
		return err
	})
	if err != nil {
		return "", b.fail("checksum", key, err)
	}
	return hex.EncodeToString(sum), nil
}

// Put fails: the hdfs backend is read-only.
func (b *Backend) Put(ctx context.Context, key string, _ io.Reader, _ storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return storage.ObjectInfo{}, b.fail("put", key, err)
	}
	return storage.ObjectInfo{}, b.fail("put", key, ErrReadOnly)
}

// Delete fails: the hdfs backend is read-only.
func (b *Backend) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return b.fail("delete", key, err)
	}
	return b.fail("delete", key, ErrReadOnly)
}

// call runs one client call between two checks of ctx: the client cannot
// be interrupted, but a caller whose ctx ended must get ctx's error, not
// a result it no longer wants.
func (b *Backend) call(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := fn()
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// fail wraps err as the *storage.Error every method returns.
func (b *Backend) fail(op, key string, err error) error {
	return &storage.Error{Backend: b.name, Op: op, Key: key, Err: classify(err)}
}

func info(key string, fi fileInfo) storage.ObjectInfo {
	return storage.ObjectInfo{Key: key, Size: fi.Size, ModTime: fi.ModTime}
}

// notObject says why an entry that exists is not an object, or nil.
func notObject(p string, fi fileInfo) error {
	switch {
	case fi.Symlink:
		return fmt.Errorf("%w: %s: %w", storage.ErrNotFound, p, ErrSymlink)
	case fi.Dir:
		return fmt.Errorf("%w: %s is a directory", storage.ErrNotFound, p)
	}
	return nil
}

// reader ends reading once ctx is done, closing the file then (in the
// reading goroutine: the client's reader is not safe for concurrent use,
// so it is never closed from another one).
type reader struct {
	ctx    context.Context
	r      io.Reader
	f      file
	b      *Backend
	key    string
	closed bool
}

func (r *reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		_ = r.Close()
		return 0, r.b.fail("read", r.key, err)
	}
	if r.closed {
		return 0, r.b.fail("read", r.key, errors.New("read after close"))
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		return n, r.b.fail("read", r.key, err)
	}
	return n, err
}

func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.f.Close()
}
