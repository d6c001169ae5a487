package local

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/storage"
)

const (
	// tmpPrefix starts the name of every file this package writes before
	// renaming it into place. List hides such names anywhere in the tree,
	// so keys may not use them.
	tmpPrefix = ".ferry-tmp-"
	// stagingDir holds multipart uploads, directly under root.
	stagingDir = ".ferry-multipart"
	// maxSegment is NAME_MAX on every filesystem ferry is likely to meet.
	maxSegment = 255
)

// validateKey returns nil for a key this backend can store, or an error
// wrapping storage.ErrInvalidKey that says what is wrong with it. The caller
// wraps it in a *storage.Error, which names the key.
func validateKey(key string) error {
	if reason := keyProblem(key); reason != "" {
		return fmt.Errorf("%w: %s", storage.ErrInvalidKey, reason)
	}
	return nil
}

func keyProblem(key string) string {
	switch {
	case key == "":
		return "empty key"
	case len(key) > storage.MaxKeyLen:
		return fmt.Sprintf("%d bytes, longer than the %d-byte limit", len(key), storage.MaxKeyLen)
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	case strings.IndexByte(key, 0) >= 0:
		return "contains a NUL byte, which no file name can hold"
	case key[0] == '/':
		return `leading "/": a filesystem path cannot start with an empty segment`
	case key[len(key)-1] == '/':
		return `trailing "/": this is an S3 directory marker, which a filesystem cannot store as a file`
	}
	for i, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return `empty path segment ("//")`
		case seg == "." || seg == "..":
			return fmt.Sprintf("%q path segment, which a filesystem resolves instead of storing", seg)
		case len(seg) > maxSegment:
			return fmt.Sprintf("path segment longer than %d bytes, the filesystem limit (%d bytes)", maxSegment, len(seg))
		case i == 0 && seg == stagingDir:
			return fmt.Sprintf("%q is reserved for multipart staging", stagingDir+"/")
		case strings.HasPrefix(seg, tmpPrefix):
			return fmt.Sprintf("names starting with %q are reserved for files being written", tmpPrefix)
		}
	}
	return ""
}

// hiddenName reports whether a directory entry is this package's own
// bookkeeping, which List must not show (and need not report).
func hiddenName(name string, atRoot bool) bool {
	return strings.HasPrefix(name, tmpPrefix) || (atRoot && name == stagingDir)
}
