package hdfs

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/storage"
)

// path maps a key to its HDFS path under root. A key is a relative,
// "/"-separated path: no empty, "." or ".." segment (they would name
// another file than the key says, or a directory), valid UTF-8 (HDFS
// names are Java strings), at most storage.MaxKeyLen bytes.
func (b *Backend) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if b.root == "/" {
		return "/" + key, nil
	}
	return b.root + "/" + key, nil
}

func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", storage.ErrInvalidKey)
	case len(key) > storage.MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, longer than the %d-byte limit", storage.ErrInvalidKey, len(key), storage.MaxKeyLen)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", storage.ErrInvalidKey)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: contains a NUL byte", storage.ErrInvalidKey)
	}
	for _, seg := range strings.Split(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: empty path segment (leading, trailing or doubled '/')", storage.ErrInvalidKey)
		case ".", "..":
			return fmt.Errorf("%w: %q is not a file name on HDFS", storage.ErrInvalidKey, seg)
		}
	}
	return nil
}

// validName reports whether a directory entry's name can be part of a
// key; the listing skips (and reports) the others.
func validName(name string) error {
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: name %q is not valid UTF-8", storage.ErrInvalidKey, name)
	case name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: name %q cannot be a key segment", storage.ErrInvalidKey, name)
	}
	return nil
}
