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
)

// Reasons given to Options.OnSkip. They wrap the path in the message; test
// with errors.Is.
var (
	ErrSymlink     = errors.New("symbolic link not followed (Options.FollowSymlinks is off)")
	ErrSpecialFile = errors.New("not a regular file or directory")
	ErrLinkCycle   = errors.New("symbolic link leads back to one of its own parent directories")
)

// List walks the tree depth-first, reading one directory at a time and
// sorting it so that the walk yields keys in byte-wise order. A plain
// filesystem walk does not: "a/b" would come before "a-b" and "a.b", yet
// '-' < '.' < '/'. Comparing a directory as its name plus "/" fixes that,
// because every key under it starts with exactly that string.
//
// Memory is one sorted directory listing per level of depth. Subtrees that
// cannot hold a key after startAfter with the prefix are never read.
func (b *Backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	l := &lister{b: b, ctx: ctx, prefix: prefix, startAfter: startAfter, fn: fn}
	if err := ctx.Err(); err != nil {
		return b.fail("list", prefix, err)
	}
	return l.walk(b.root, "")
}

// ListLevel lists the files directly in the directory of prefix and hands
// its subdirectories to dirFn (see storage.LevelLister).
func (b *Backend) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return b.fail("list", prefix, fmt.Errorf("%w: level listing needs a prefix ending in \"/\"", storage.ErrInvalidKey))
	}
	l := &lister{b: b, ctx: ctx, prefix: prefix, fn: fn, dirFn: dirFn}
	if err := ctx.Err(); err != nil {
		return b.fail("list", prefix, err)
	}
	return l.walk(b.root, "")
}

type lister struct {
	b                  *Backend
	ctx                context.Context
	prefix, startAfter string
	fn                 storage.ListFunc
	// dirFn, when set, receives the directories one level below prefix
	// instead of descending into them (ListLevel).
	dirFn func(prefix string) error
	// ancestors holds the directories on the current path, to catch
	// symbolic link cycles; only kept when links are followed.
	ancestors []fileID
}

// entry is one name of a directory listing.
type entry struct {
	name    string
	sortKey string      // name, or name+"/" for a directory
	dir     bool        // descend into it
	skip    error       // report instead of listing, when set
	mode    fs.FileMode // type bits, from the directory entry
}

type fileID struct{ dev, ino uint64 }

func (l *lister) walk(dirPath, dirKey string) error {
	if l.b.opts.FollowSymlinks {
		pop, err := l.enter(dirPath, dirKey)
		if err != nil || pop == nil {
			return err
		}
		defer pop()
	}
	entries, err := l.read(dirPath, dirKey)
	if err != nil {
		if dirKey == "" {
			// An unreadable root is not a skipped subtree but a listing
			// that cannot happen at all.
			return l.b.fail("list", "", err)
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil // removed or replaced since its parent was read
		}
		return l.report(dirKey, classifyOS(err))
	}
	for _, e := range entries {
		if err := l.ctx.Err(); err != nil {
			return l.b.fail("list", dirKey+e.name, err)
		}
		full := dirKey + e.sortKey
		if !strings.HasPrefix(full, l.prefix) && full > l.prefix {
			break // sorted: every later entry is past the prefix too
		}
		var inRange bool
		switch {
		case e.dir:
			inRange = l.wantDir(full)
		case e.skip != nil && e.mode&fs.ModeSymlink != 0:
			// An unfollowed link may stand for a file or a whole subtree.
			inRange = l.wantKey(full) || l.wantDir(full+"/")
		default:
			inRange = l.wantKey(full)
		}
		if !inRange {
			continue
		}
		if err := l.visit(dirPath, dirKey, e); err != nil {
			return err
		}
	}
	return nil
}

func (l *lister) visit(dirPath, dirKey string, e entry) error {
	key := dirKey + e.name
	path := filepath.Join(dirPath, e.name)
	switch {
	case e.skip != nil:
		if e.dir {
			key += "/"
		}
		return l.report(key, e.skip)
	case e.dir:
		// A key needs at least one byte after the directory's "/".
		if len(key)+2 > storage.MaxKeyLen {
			return l.report(key+"/", fmt.Errorf("%w: directory %s: keys under it would be longer than the %d-byte limit",
				storage.ErrInvalidKey, path, storage.MaxKeyLen))
		}
		if l.dirFn != nil && strings.HasPrefix(key+"/", l.prefix) && len(key)+1 > len(l.prefix) {
			return l.dirFn(key + "/")
		}
		return l.walk(path, key+"/")
	case len(key) > storage.MaxKeyLen:
		return l.report(key, fmt.Errorf("%w: file %s: key is %d bytes, longer than the %d-byte limit",
			storage.ErrInvalidKey, path, len(key), storage.MaxKeyLen))
	}
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if !l.b.opts.FollowSymlinks {
			return l.report(key, fmt.Errorf("%w: %s", ErrSymlink, path))
		}
		fi, err = os.Stat(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil // deleted since the directory was read: not an object any more
	case err != nil:
		return l.report(key, classifyOS(err))
	case !fi.Mode().IsRegular():
		// Replaced by something else since the directory was read.
		return l.report(key, fmt.Errorf("%w: %s is %s", ErrSpecialFile, path, describeMode(fi.Mode())))
	}
	return l.fn(storage.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
}

// read returns the entries of dirPath that may matter, sorted by sortKey.
func (l *lister) read(dirPath, dirKey string) ([]entry, error) {
	// When the prefix goes deeper than this directory, only one name of
	// it can lead to matches: look that name up instead of reading what may
	// be a huge directory.
	if len(l.prefix) > len(dirKey) {
		rest := l.prefix[len(dirKey):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name := rest[:i]
			if name == "" || name == "." || name == ".." || len(name) > maxSegment || strings.IndexByte(name, 0) >= 0 {
				return nil, nil
			}
			fi, err := os.Lstat(filepath.Join(dirPath, name))
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			if e, ok := l.classify(dirPath, dirKey, name, fi.Mode().Type()); ok {
				return []entry{e}, nil
			}
			return nil, nil
		}
	}
	d, err := os.Open(dirPath)
	if err != nil {
		return nil, err
	}
	des, err := d.ReadDir(-1)
	_ = d.Close() // read-only: a close error loses nothing
	if err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		if e, ok := l.classify(dirPath, dirKey, de.Name(), de.Type()); ok {
			entries = append(entries, e)
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

// classify decides what a directory entry is, from the type bits the
// directory listing gives for free (plus a stat for a followed link, which
// must be known as file or directory before sorting). ok is false for
// entries that are this package's own bookkeeping.
func (l *lister) classify(dirPath, dirKey, name string, typ fs.FileMode) (e entry, ok bool) {
	if hiddenName(name, dirKey == "") {
		return entry{}, false
	}
	path := filepath.Join(dirPath, name)
	e = entry{name: name, sortKey: name, mode: typ}
	if typ&fs.ModeSymlink != 0 {
		if !l.b.opts.FollowSymlinks {
			e.skip = fmt.Errorf("%w: %s", ErrSymlink, path)
			return e, true
		}
		fi, err := os.Stat(path)
		if err != nil {
			e.skip = fmt.Errorf("following symbolic link: %w", classifyOS(err))
			return e, true
		}
		typ = fi.Mode().Type()
	}
	if typ.IsDir() {
		e.dir, e.sortKey = true, name+"/"
	}
	switch {
	case !utf8.ValidString(name):
		e.skip = fmt.Errorf("%w: name of %q is not valid UTF-8", storage.ErrInvalidKey, path)
	case !typ.IsDir() && !typ.IsRegular():
		e.skip = fmt.Errorf("%w: %s is %s", ErrSpecialFile, path, describeMode(typ))
	}
	return e, true
}

// wantKey reports whether a file's key is in the listing's range.
func (l *lister) wantKey(key string) bool {
	return strings.HasPrefix(key, l.prefix) && key > l.startAfter
}

// wantDir reports whether the subtree whose keys all start with dirKey
// (which ends in "/") can hold a key in range.
func (l *lister) wantDir(dirKey string) bool {
	if !strings.HasPrefix(dirKey, l.prefix) && !strings.HasPrefix(l.prefix, dirKey) {
		return false
	}
	// If dirKey sorts before startAfter and startAfter is not inside the
	// subtree, they differ at a byte where dirKey is smaller, so every key
	// of the subtree is <= startAfter.
	return dirKey >= l.startAfter || strings.HasPrefix(l.startAfter, dirKey)
}

// report hands a skipped entry to OnSkip, or fails the listing without one.
func (l *lister) report(key string, reason error) error {
	if l.b.opts.OnSkip == nil {
		return l.b.fail("list", key, reason)
	}
	l.b.opts.OnSkip(key, reason)
	return nil
}

// enter records dirPath as an ancestor of what follows. It returns a nil
// pop (and no error) when dirPath was reported as a cycle instead.
func (l *lister) enter(dirPath, dirKey string) (pop func(), err error) {
	fi, err := os.Stat(dirPath)
	if err != nil {
		return func() {}, nil // read() meets and reports the same error
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return func() {}, nil
	}
	id := fileID{dev: uint64(st.Dev), ino: st.Ino}
	if slices.Contains(l.ancestors, id) {
		return nil, l.report(dirKey, fmt.Errorf("%w: %s", ErrLinkCycle, dirPath))
	}
	l.ancestors = append(l.ancestors, id)
	return func() { l.ancestors = l.ancestors[:len(l.ancestors)-1] }, nil
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
