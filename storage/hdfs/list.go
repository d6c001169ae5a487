package hdfs

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/treewalk"
)

// List lists the tree in byte-wise key order (see storage/treewalk), the
// way storage/local does, reading each directory once (the client reads a
// directory whole). Subtrees that cannot hold a key after startAfter with
// the prefix are never read, so a resumed listing costs one directory read
// per level down to where it stopped.
func (b *Backend) List(ctx context.Context, prefix, startAfter string, fn storage.ListFunc) error {
	return treewalk.List(ctx, &tree{b: b, ctx: ctx, prefix: prefix}, b.root, prefix, startAfter, fn)
}

// ListLevel lists the files directly in the directory of prefix and hands
// its subdirectories to dirFn (see storage.LevelLister).
func (b *Backend) ListLevel(ctx context.Context, prefix string, fn storage.ListFunc, dirFn func(string) error) error {
	return treewalk.ListLevel(ctx, &tree{b: b, ctx: ctx, prefix: prefix}, b.root, prefix, fn, dirFn)
}

// tree is the treewalk.Tree of one listing.
type tree struct {
	b      *Backend
	ctx    context.Context
	prefix string
}

func (t *tree) Join(dirPath, name string) string { return join(dirPath, name) }

func (t *tree) Fail(key string, err error) error { return t.b.fail("list", key, err) }

func (t *tree) Enter(string, string) (func(), error) { return treewalk.Stay, nil }

// Report hands a skipped entry to OnSkip, or fails the listing without one.
func (t *tree) Report(key string, reason error) error {
	if t.b.opts.OnSkip == nil {
		return t.b.fail("list", key, reason)
	}
	t.b.opts.OnSkip(key, reason)
	return nil
}

func (t *tree) ReadFailed(dirKey string, err error) error {
	if cerr := t.ctx.Err(); cerr != nil {
		return t.b.fail("list", dirKey, cerr)
	}
	err = classify(err)
	switch {
	case dirKey == "":
		// An unreadable root is not a skipped subtree but a listing
		// that cannot happen at all.
		return t.b.fail("list", t.prefix, err)
	case errors.Is(err, storage.ErrNotFound):
		return nil // removed since its parent was read
	case storage.Classify(err) != storage.Permanent:
		// A namenode failover or a network error says nothing about
		// this directory: fail, so the scan is retried from its
		// checkpoint, rather than skip a subtree that is fine.
		return t.b.fail("list", dirKey, err)
	}
	return t.Report(dirKey, err)
}

// Object needs no call: the directory listing carries size and mtime.
func (t *tree) Object(_, key string, e treewalk.Entry) (storage.ObjectInfo, bool, error) {
	o := e.Info
	o.Key = key
	return o, true, nil
}

// Lookup stats the one name a deep prefix leads through.
func (t *tree) Lookup(dirPath, _, name string) (treewalk.Entry, bool, error) {
	if validName(name) != nil {
		return treewalk.Entry{}, false, nil
	}
	var fi fileInfo
	err := t.b.call(t.ctx, func() (err error) { fi, err = t.b.fs.Stat(join(dirPath, name)); return err })
	if errors.Is(classify(err), storage.ErrNotFound) && t.ctx.Err() == nil {
		return treewalk.Entry{}, false, nil
	}
	if err != nil {
		return treewalk.Entry{}, false, err
	}
	fi.Name = name
	return classifyEntry(dirPath, fi), true, nil
}

func (t *tree) ReadDir(dirPath, _ string) ([]treewalk.Entry, error) {
	var fis []fileInfo
	if err := t.b.call(t.ctx, func() (err error) { fis, err = t.b.fs.ReadDir(dirPath); return err }); err != nil {
		return nil, err
	}
	entries := make([]treewalk.Entry, 0, len(fis))
	for _, fi := range fis {
		entries = append(entries, classifyEntry(dirPath, fi))
	}
	return entries, nil
}

// classifyEntry decides whether a directory entry is listed or reported.
// A symbolic link is never followed: it is reported, as a name that may
// stand for a file or a subtree.
func classifyEntry(dirPath string, fi fileInfo) treewalk.Entry {
	e := treewalk.Entry{Name: fi.Name, Dir: fi.Dir && !fi.Symlink, Link: fi.Symlink, Info: info("", fi)}
	if err := validName(fi.Name); err != nil {
		e.Skip = fmt.Errorf("%s: %w", join(dirPath, fi.Name), err)
	} else if fi.Symlink {
		e.Skip = fmt.Errorf("%w: %s", ErrSymlink, join(dirPath, fi.Name))
	}
	return e
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
