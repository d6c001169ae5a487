package hdfs

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
)

// List walks the tree depth-first, reading each directory once and
// sorting it so that the walk yields keys in byte-wise order, the way
// storage/local does. A plain walk does not: directory "a" holds "a/b",
// which must come after the file "a.b" ('.' < '/') and before "a0"
// ('/' < '0'). Sorting a directory's entry by its name plus "/" fixes
// that, because every key under it starts with exactly that string.
//
// Memory is one sorted directory listing per level of depth (the client
// reads a directory whole). Subtrees that cannot hold a key after
// startAfter with the prefix are never read, so a resumed listing costs
// one directory read per level down to where it stopped.
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
}

// entry is one name of a directory listing.
type entry struct {
	fileInfo
	sortKey string // name, or name+"/" for a directory
	skip    error  // report instead of listing, when set
}

func (l *lister) walk(dirPath, dirKey string) error {
	entries, err := l.read(dirPath, dirKey)
	if err != nil {
		if cerr := l.ctx.Err(); cerr != nil {
			return l.b.fail("list", dirKey, cerr)
		}
		err = classify(err)
		switch {
		case dirKey == "":
			// An unreadable root is not a skipped subtree but a listing
			// that cannot happen at all.
			return l.b.fail("list", l.prefix, err)
		case errors.Is(err, storage.ErrNotFound):
			return nil // removed since its parent was read
		case storage.Classify(err) != storage.Permanent:
			// A namenode failover or a network error says nothing about
			// this directory: fail, so the scan is retried from its
			// checkpoint, rather than skip a subtree that is fine.
			return l.b.fail("list", dirKey, err)
		}
		return l.report(dirKey, err)
	}
	for _, e := range entries {
		if err := l.ctx.Err(); err != nil {
			return l.b.fail("list", dirKey+e.Name, err)
		}
		full := dirKey + e.sortKey
		if !strings.HasPrefix(full, l.prefix) && full > l.prefix {
			break // sorted: every later entry is past the prefix too
		}
		var inRange bool
		switch {
		case e.Dir:
			inRange = l.wantDir(full)
		case e.Symlink:
			// A link may stand for a file or a whole subtree.
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
	key := dirKey + e.Name
	p := join(dirPath, e.Name)
	switch {
	case e.skip != nil:
		if e.Dir {
			key += "/"
		}
		return l.report(key, e.skip)
	case e.Dir:
		// A key needs at least one byte after the directory's "/".
		if len(key)+2 > storage.MaxKeyLen {
			return l.report(key+"/", fmt.Errorf("%w: directory %s: keys under it would be longer than the %d-byte limit",
				storage.ErrInvalidKey, p, storage.MaxKeyLen))
		}
		if l.dirFn != nil && strings.HasPrefix(key+"/", l.prefix) && len(key)+1 > len(l.prefix) {
			return l.dirFn(key + "/")
		}
		return l.walk(p, key+"/")
	case len(key) > storage.MaxKeyLen:
		return l.report(key, fmt.Errorf("%w: file %s: key is %d bytes, longer than the %d-byte limit",
			storage.ErrInvalidKey, p, len(key), storage.MaxKeyLen))
	}
	// The directory listing carries size and mtime: no Stat per file.
	return l.fn(info(key, e.fileInfo))
}

// read returns the entries of dirPath that may matter, sorted by sortKey.
func (l *lister) read(dirPath, dirKey string) ([]entry, error) {
	// When the prefix goes deeper than this directory, only one name of it
	// can lead to matches: look that name up instead of reading what may
	// be a huge directory.
	if len(l.prefix) > len(dirKey) {
		rest := l.prefix[len(dirKey):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name := rest[:i]
			if validName(name) != nil {
				return nil, nil
			}
			var fi fileInfo
			err := l.b.call(l.ctx, func() (err error) { fi, err = l.b.fs.Stat(join(dirPath, name)); return err })
			if errors.Is(classify(err), storage.ErrNotFound) && l.ctx.Err() == nil {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			fi.Name = name
			return []entry{classifyEntry(dirPath, fi)}, nil
		}
	}
	var fis []fileInfo
	if err := l.b.call(l.ctx, func() (err error) { fis, err = l.b.fs.ReadDir(dirPath); return err }); err != nil {
		return nil, err
	}
	entries := make([]entry, 0, len(fis))
	for _, fi := range fis {
		entries = append(entries, classifyEntry(dirPath, fi))
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

// classifyEntry decides how a directory entry sorts and whether it is
// listed or reported.
func classifyEntry(dirPath string, fi fileInfo) entry {
	e := entry{fileInfo: fi, sortKey: fi.Name}
	if fi.Dir && !fi.Symlink {
		e.sortKey = fi.Name + "/"
	}
	if err := validName(fi.Name); err != nil {
		e.skip = fmt.Errorf("%s: %w", join(dirPath, fi.Name), err)
	} else if fi.Symlink {
		e.Dir = false
		e.skip = fmt.Errorf("%w: %s", ErrSymlink, join(dirPath, fi.Name))
	}
	return e
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

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
