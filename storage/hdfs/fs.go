package hdfs

import (
	"io"
	"time"
)

// fs is everything the backend needs from HDFS. The client adapter
// (client.go) implements it over *hdfs.Client and is the only code that
// needs a live cluster; everything else in this package is written
// against fs and tested with an in-memory fake.
//
// Paths are absolute, cleaned HDFS paths ("/data/x"). Errors are the
// client's own (os.ErrNotExist, os.ErrPermission inside *os.PathError,
// remote Java exceptions, network errors): the backend maps them with
// classify, so an implementation must not translate them itself.
type fs interface {
	// ReadDir returns the entries of the directory at path, in any order
	// (the backend sorts them by key), without "." and "..".
	ReadDir(path string) ([]fileInfo, error)
	// Stat describes the entry at path without following a symbolic link.
	Stat(path string) (fileInfo, error)
	// Open opens the regular file at path for reading from its start.
	Open(path string) (file, error)
}

// file is an open HDFS file. It is used by one goroutine at a time.
type file interface {
	io.ReadSeekCloser
	// Checksum is HDFS's own file checksum (MD5 of the per-block MD5s of
	// the chunk CRC32Cs). It depends on block and chunk size, so it is
	// comparable only with another HDFS file written with the same
	// settings: see Backend.HDFSChecksum.
	Checksum() ([]byte, error)
}

// fileInfo is the part of an HDFS file status the backend uses.
type fileInfo struct {
	Name    string // last path element
	Size    int64
	ModTime time.Time
	Dir     bool
	// Symlink is set for a symbolic link (HDFS can hold them, though
	// they are disabled by default); the backend never follows one.
	Symlink bool
}
