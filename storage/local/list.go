package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/treewalk"
)

// Reasons given to Options.OnSkip. They wrap the path in the message; test
// with errors.Is.
var (
	ErrSymlink     = errors.New("symbolic link not followed (Options.FollowSymlinks is off)")
	ErrSpecialFile = errors.New("not a regular file or directory")
	ErrLinkCycle   = errors.New("symbolic link leads back to one of its own parent directories")
)

// List lists the tree in byte-wise key order (see storage/treewalk),
// reading one directory at a time. Subtrees that cannot hold a key after
// startAfter with the prefix are never read.
func (b *Backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	return treewalk.List(ctx, &tree{b: b}, b.root, prefix, startAfter, fn)
}

// ListLevel lists the files directly in the directory of prefix and hands
// its subdirectories to dirFn (see storage.LevelLister).
func (b *Backend) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	return treewalk.ListLevel(ctx, &tree{b: b}, b.root, prefix, fn, dirFn)
}

// tree is the treewalk.Tree of one listing: the filesystem, with symbolic
// links followed or reported and the package's bookkeeping left out.
type tree struct {
	b *Backend
	// ancestors holds the directories on the current path, to catch
	// symbolic link cycles; only kept when links are followed.
	ancestors []fileID
}

type fileID struct{ dev, ino uint64 }

func (t *tree) Join(dirPath, name string) string { return filepath.Join(dirPath, name) }

func (t *tree) Fail(key string, err error) error { return t.b.fail("list", key, err) }

// Report hands a skipped entry to OnSkip, or fails the listing without one.
func (t *tree) Report(key string, reason error) error {
	if t.b.opts.OnSkip == nil {
		return t.b.fail("list", key, reason)
	}
	t.b.opts.OnSkip(key, reason)
	return nil
}

func (t *tree) ReadFailed(dirKey string, err error) error {
	if dirKey == "" {
		// An unreadable root is not a skipped subtree but a listing
		// that cannot happen at all.
		return t.b.fail("list", "", err)
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil // removed or replaced since its parent was read
	}
	return t.Report(dirKey, classifyOS(err))
}

// Object stats a file the directory listed: it may have gone or changed
// since, and a link is followed only now.
func (t *tree) Object(path, key string, _ treewalk.Entry) (storage.ObjectInfo, bool, error) {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if !t.b.opts.FollowSymlinks {
			return storage.ObjectInfo{}, false, t.Report(key, fmt.Errorf("%w: %s", ErrSymlink, path))
		}
		fi, err = os.Stat(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return storage.ObjectInfo{}, false, nil // deleted since the directory was read: not an object any more
	case err != nil:
		return storage.ObjectInfo{}, false, t.Report(key, classifyOS(err))
	case !fi.Mode().IsRegular():
		// Replaced by something else since the directory was read.
		return storage.ObjectInfo{}, false, t.Report(key, fmt.Errorf("%w: %s is %s", ErrSpecialFile, path, describeMode(fi.Mode())))
	}
	return storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, true, nil
}

// Lookup stats the one name a deep prefix leads through.
func (t *tree) Lookup(dirPath, dirKey, name string) (treewalk.Entry, bool, error) {
	if name == "" || name == "." || name == ".." || len(name) > maxSegment || strings.IndexByte(name, 0) >= 0 {
		return treewalk.Entry{}, false, nil
	}
	fi, err := os.Lstat(filepath.Join(dirPath, name))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return treewalk.Entry{}, false, nil
	}
	if err != nil {
		return treewalk.Entry{}, false, err
	}
	e, ok := t.classify(dirPath, dirKey, name, fi.Mode().Type())
	return e, ok, nil
}

func (t *tree) ReadDir(dirPath, dirKey string) ([]treewalk.Entry, error) {
	d, err := os.Open(dirPath)
	if err != nil {
		return nil, err
	}
	des, err := d.ReadDir(-1)
	_ = d.Close() // read-only: a close error loses nothing
	if err != nil {
		return nil, err
	}
	entries := make([]treewalk.Entry, 0, len(des))
	for _, de := range des {
		if e, ok := t.classify(dirPath, dirKey, de.Name(), de.Type()); ok {
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// classify decides what a directory entry is, from the type bits the
// directory listing gives for free (plus a stat for a followed link, which
// must be known as file or directory before sorting). ok is false for
// entries that are this package's own bookkeeping.
func (t *tree) classify(dirPath, dirKey, name string, typ fs.FileMode) (e treewalk.Entry, ok bool) {
	if hiddenName(name, dirKey == "") {
		return treewalk.Entry{}, false
	}
	path := filepath.Join(dirPath, name)
	e = treewalk.Entry{Name: name}
	if typ&fs.ModeSymlink != 0 {
		// An unfollowed link may stand for a file or a whole subtree.
		defer func() { e.Link = e.Skip != nil }()
		if !t.b.opts.FollowSymlinks {
			e.Skip = fmt.Errorf("%w: %s", ErrSymlink, path)
			return e, true
		}
		fi, err := os.Stat(path)
		if err != nil {
			e.Skip = fmt.Errorf("following symbolic link: %w", classifyOS(err))
			return e, true
		}
		typ = fi.Mode().Type()
	}
	e.Dir = typ.IsDir()
	switch {
	case !utf8.ValidString(name):
		e.Skip = fmt.Errorf("%w: name of %q is not valid UTF-8", storage.ErrInvalidKey, path)
	case !typ.IsDir() && !typ.IsRegular():
		e.Skip = fmt.Errorf("%w: %s is %s", ErrSpecialFile, path, describeMode(typ))
	}
	return e, true
}

// Enter records dirPath as an ancestor of what follows, when links are
// followed. It returns a nil leave (and no error) when dirPath was
// reported as a cycle instead.
func (t *tree) Enter(dirPath, dirKey string) (leave func(), err error) {
	if !t.b.opts.FollowSymlinks {
		return treewalk.Stay, nil
	}
	fi, err := os.Stat(dirPath)
	if err != nil {
		return treewalk.Stay, nil // ReadDir meets and reports the same error
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return treewalk.Stay, nil
	}
	id := fileID{dev: uint64(st.Dev), ino: st.Ino}
	if slices.Contains(t.ancestors, id) {
		return nil, t.Report(dirKey, fmt.Errorf("%w: %s", ErrLinkCycle, dirPath))
	}
	t.ancestors = append(t.ancestors, id)
	return func() { t.ancestors = t.ancestors[:len(t.ancestors)-1] }, nil
}

func describeMode(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (fifo)"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t.IsDir():
		return "a directory"
	default:
		return "an irregular file (" + t.String() + ")"
	}
}
