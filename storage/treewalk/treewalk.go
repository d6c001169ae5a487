// Package treewalk lists a directory tree as a storage listing: keys in
// byte-wise order, resumable after any key, pruned to a prefix. The
// backends over a real tree (storage/local, storage/hdfs) share it and
// supply only what differs between them through Tree: how a directory is
// read, how a file becomes an object, what an unreadable directory means.
//
// A plain filesystem walk does not give byte-wise order: directory "a"
// holds "a/b", which must come after the file "a.b" ('.' < '/') and before
// "a0" ('/' < '0'). The walk therefore reads one directory at a time and
// sorts it comparing a directory as its name plus "/", because every key
// under it starts with exactly that string.
//
// Memory is one sorted directory listing per level of depth. Subtrees that
// cannot hold a key after startAfter with the prefix are never read, so a
// resumed listing costs one directory read per level down to where it
// stopped; a prefix deeper than a directory looks its one name up instead
// of reading the directory.
package treewalk

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
)

// Entry is one name of a directory.
type Entry struct {
	Name string
	// Dir is set for a directory to descend into; it sorts as Name+"/".
	Dir bool
	// Link is set for an entry that is neither known as a file nor as a
	// directory (a symbolic link not followed): it is in range if either
	// would be. Only meaningful with Skip set and Dir unset.
	Link bool
	// Skip, when set, is reported to Tree.Report instead of listing the
	// entry (under Name+"/" for a directory).
	Skip error
	// Info is for the backend's own use in Tree.Object, such as the size
	// and time a directory listing carries.
	Info storage.ObjectInfo

	sortKey string
}

// Tree is what a backend supplies for one listing. Paths are the
// backend's own (joined with Join from the root given to List); keys are
// the listing's.
type Tree interface {
	// ReadDir returns the entries of the directory at dirPath, whose keys
	// start with dirKey ("" for the root), in any order, leaving out any
	// that are not part of the listing at all.
	ReadDir(dirPath, dirKey string) ([]Entry, error)
	// Lookup returns the entry name of the directory at dirPath, for a
	// prefix that goes deeper than the directory; ok is false when there
	// is no such entry that could hold a key.
	Lookup(dirPath, dirKey, name string) (e Entry, ok bool, err error)
	// ReadFailed says what an error of ReadDir or Lookup means: nil to
	// pass over the directory, or the error that ends the listing.
	ReadFailed(dirKey string, err error) error
	// Enter is called before a directory is read. It returns the function
	// to call once the directory is done, or a nil one (with the error
	// that ends the listing, if any) to pass over it.
	Enter(dirPath, dirKey string) (leave func(), err error)
	// Object returns the object for the file entry e at path with key
	// key; ok is false when there is none to list (err then ends the
	// listing, if set).
	Object(path, key string, e Entry) (o storage.ObjectInfo, ok bool, err error)
	// Report is given an entry that is skipped and why; it returns the
	// error that ends the listing, or nil to go on.
	Report(key string, reason error) error
	// Fail wraps err as the listing's error, for key.
	Fail(key string, err error) error
	// Join returns the path of name in the directory at dirPath.
	Join(dirPath, name string) string
}

// Stay is a leave function for Tree.Enter with nothing to undo.
func Stay() {}

// List lists the tree at root: the keys with prefix after startAfter, in
// byte-wise order (see storage.Lister).
func List(ctx context.Context, t Tree, root, prefix, startAfter string, fn storage.ListFunc) error {
	w := &walker{t: t, ctx: ctx, prefix: prefix, startAfter: startAfter, fn: fn}
	if err := ctx.Err(); err != nil {
		return t.Fail(prefix, err)
	}
	return w.walk(root, "")
}

// ListLevel lists the files directly in the directory of prefix and hands
// its subdirectories to dirFn (see storage.LevelLister).
func ListLevel(ctx context.Context, t Tree, root, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return t.Fail(prefix, fmt.Errorf("%w: level listing needs a prefix ending in \"/\"", storage.ErrInvalidKey))
	}
	w := &walker{t: t, ctx: ctx, prefix: prefix, fn: fn, dirFn: dirFn}
	if err := ctx.Err(); err != nil {
		return t.Fail(prefix, err)
	}
	return w.walk(root, "")
}

type walker struct {
	t                  Tree
	ctx                context.Context
	prefix, startAfter string
	fn                 storage.ListFunc
	// dirFn, when set, receives the directories one level below prefix
	// instead of descending into them (ListLevel).
	dirFn func(prefix string) error
}

func (w *walker) walk(dirPath, dirKey string) error {
	leave, err := w.t.Enter(dirPath, dirKey)
	if err != nil || leave == nil {
		return err
	}
	defer leave()
	entries, err := w.read(dirPath, dirKey)
	if err != nil {
		return w.t.ReadFailed(dirKey, err)
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return w.t.Fail(dirKey+e.Name, err)
		}
		full := dirKey + e.sortKey
		if !strings.HasPrefix(full, w.prefix) && full > w.prefix {
			break // sorted: every later entry is past the prefix too
		}
		var inRange bool
		switch {
		case e.Dir:
			inRange = w.wantDir(full)
		case e.Link:
			// A link may stand for a file or a whole subtree.
			inRange = w.wantKey(full) || w.wantDir(full+"/")
		default:
			inRange = w.wantKey(full)
		}
		if !inRange {
			continue
		}
		if err := w.visit(dirPath, dirKey, e); err != nil {
			return err
		}
	}
	return nil
}

func (w *walker) visit(dirPath, dirKey string, e Entry) error {
	key := dirKey + e.Name
	path := w.t.Join(dirPath, e.Name)
	switch {
	case e.Skip != nil:
		if e.Dir {
			key += "/"
		}
		return w.t.Report(key, e.Skip)
	case e.Dir:
		// A key needs at least one byte after the directory's "/".
		if len(key)+2 > storage.MaxKeyLen {
			return w.t.Report(key+"/", fmt.Errorf("%w: directory %s: keys under it would be longer than the %d-byte limit",
				storage.ErrInvalidKey, path, storage.MaxKeyLen))
		}
		if w.dirFn != nil && strings.HasPrefix(key+"/", w.prefix) && len(key)+1 > len(w.prefix) {
			return w.dirFn(key + "/")
		}
		return w.walk(path, key+"/")
	case len(key) > storage.MaxKeyLen:
		return w.t.Report(key, fmt.Errorf("%w: file %s: key is %d bytes, longer than the %d-byte limit",
			storage.ErrInvalidKey, path, len(key), storage.MaxKeyLen))
	}
	o, ok, err := w.t.Object(path, key, e)
	if err != nil || !ok {
		return err
	}
	return w.fn(o)
}

// read returns the entries of dirPath that may matter, sorted by sortKey.
func (w *walker) read(dirPath, dirKey string) ([]Entry, error) {
	// When the prefix goes deeper than this directory, only one name of it
	// can lead to matches: look that name up instead of reading what may
	// be a huge directory.
	if len(w.prefix) > len(dirKey) {
		rest := w.prefix[len(dirKey):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			e, ok, err := w.t.Lookup(dirPath, dirKey, rest[:i])
			if err != nil || !ok {
				return nil, err
			}
			return []Entry{withSortKey(e)}, nil
		}
	}
	entries, err := w.t.ReadDir(dirPath, dirKey)
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i] = withSortKey(entries[i])
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	return entries, nil
}

func withSortKey(e Entry) Entry {
	e.sortKey = e.Name
	if e.Dir {
		e.sortKey += "/"
	}
	return e
}

// wantKey reports whether a file's key is in the listing's range.
func (w *walker) wantKey(key string) bool {
	return strings.HasPrefix(key, w.prefix) && key > w.startAfter
}

// wantDir reports whether the subtree whose keys all start with dirKey
// (which ends in "/") can hold a key in range.
func (w *walker) wantDir(dirKey string) bool {
	if !strings.HasPrefix(dirKey, w.prefix) && !strings.HasPrefix(w.prefix, dirKey) {
		return false
	}
	// If dirKey sorts before startAfter and startAfter is not inside the
	// subtree, they differ at a byte where dirKey is smaller, so every key
	// of the subtree is <= startAfter.
	return dirKey >= w.startAfter || strings.HasPrefix(w.startAfter, dirKey)
}
