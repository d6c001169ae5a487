package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/ferry-migrate/ferry/storage"
)

// publish moves the finished temporary file tmp to path under cond:
//
//   - unconditional: rename, replacing whatever is there (see replace);
//   - IfAbsent: link(2), which fails with EEXIST when path exists, so the
//     check and the write are one step even against writers outside
//     ferry; the temporary name is then removed. A filesystem without
//     hard links cannot do this atomically, and says so
//     (ErrConditionUnsupported) rather than writing;
//   - IfMatch: compare the file's size and modification time with the
//     version (a file has no ETag; two versions of the same size written
//     within the filesystem's timestamp resolution look alike), then
//     rename. Linux has no compare-and-rename, so a writer that replaces
//     the file between the comparison and the rename, microseconds, is
//     clobbered: that window is what a local disk leaves.
func publish(key, tmp, path string, cond storage.Condition) error {
	switch {
	case cond.IfAbsent:
		return linkNew(key, tmp, path)
	case !cond.IfMatch.IsZero():
		if err := checkCondition(path, cond); err != nil {
			return err
		}
	}
	return replace(key, tmp, path)
}

// linkNew links tmp to path unless path exists, then drops tmp's name.
func linkNew(key, tmp, path string) error {
	err := os.Link(tmp, path)
	if errors.Is(err, fs.ErrExist) {
		fi, serr := os.Lstat(path)
		if serr == nil && fi.IsDir() {
			// An empty directory is no object (see replace); rmdir fails
			// on one holding keys, which is then no place for this key.
			if os.Remove(path) != nil {
				return parentConflict(key, path)
			}
			err = os.Link(tmp, path)
		}
	}
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%w: %s exists", storage.ErrPrecondition, path)
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.ENOTSUP), errors.Is(err, syscall.EOPNOTSUPP), errors.Is(err, syscall.EXDEV):
		return fmt.Errorf("%w: this filesystem cannot make the hard link that creates %s without replacing it: %w",
			storage.ErrConditionUnsupported, path, err)
	case err != nil:
		return err
	}
	// The object is in place under both names. Should dropping the
	// temporary one fail, it is debris under a reserved name that List
	// never shows, not a reason to report the write as failed.
	_ = os.Remove(tmp)
	return nil
}

// checkCondition tells whether cond holds for the file at path now. Put
// calls it before copying (to refuse early) and publish again right
// before the rename.
func checkCondition(path string, cond storage.Condition) error {
	if cond.IsZero() {
		return nil
	}
	fi, err := os.Lstat(path)
	exists := err == nil && !fi.IsDir()
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	switch {
	case cond.IfAbsent && exists:
		return fmt.Errorf("%w: %s exists", storage.ErrPrecondition, path)
	case cond.IfAbsent:
		return nil
	case cond.IfMatch.ModTime.IsZero():
		return fmt.Errorf("%w: if-match on a local file needs the modification time Stat reported",
			storage.ErrConditionUnsupported)
	case !exists:
		return fmt.Errorf("%w: %w: %s is gone", storage.ErrPrecondition, storage.ErrNotFound, path)
	case fi.Size() != cond.IfMatch.Size || !fi.ModTime().Equal(cond.IfMatch.ModTime):
		return fmt.Errorf("%w: %s is now %d bytes modified %s, not the version checked (%d bytes modified %s)",
			storage.ErrPrecondition, path, fi.Size(), fi.ModTime(), cond.IfMatch.Size, cond.IfMatch.ModTime)
	}
	return nil
}
