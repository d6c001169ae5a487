// Package storage defines what ferry needs from a place that holds objects:
// the Backend interface, the optional Multipart interface, ObjectInfo, and the
// one place where errors are classified (see errors.go).
//
// Implementations live in sub-packages (local, s3, ...). Each one must pass
// the conformance suite in storage/storagetest; the contract comments below
// are what that suite checks.
package storage

import (
	"context"
	"fmt"
	"io"
	"time"
)

// ObjectInfo describes one object. Backends fill what they know; zero values
// mean "unknown", never "empty" (an object of Size 0 is reported with Size 0,
// but a missing ETag is "", not a valid empty ETag).
type ObjectInfo struct {
	Key     string
	Size    int64
	ModTime time.Time
	// ETag as the server reports it with surrounding quotes removed. Compare
	// with ETagEqual: OSS upper-cases ETags, S3 lower-cases them.
	ETag string
	// CRC64 is the CRC-64/ECMA-182 (OSS's x-oss-hash-crc64ecma) of the whole
	// object, valid only when HasCRC64 is true. A backend that cannot report
	// one leaves HasCRC64 false: that means "cannot verify this way", never
	// "verified".
	CRC64    uint64
	HasCRC64 bool
	// Checksum is the store's own whole-object checksum (S3's
	// x-amz-checksum-*, FULL_OBJECT type only) as "<algorithm>:<base64 of
	// the big-endian sum>", e.g. "crc64nvme:WZvzgmIcGKc=", or "" when the
	// store gives none (ranged reads never carry one). Algorithms:
	// ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME. On a write's result
	// it is the store's checksum of what it stored (see Evidence.Checksums).
	Checksum string

	ContentType        string
	CacheControl       string
	ContentDisposition string
	ContentEncoding    string
	// Metadata is user metadata (x-amz-meta-* / x-oss-meta-*) with lower-case
	// names and without the prefix.
	Metadata     map[string]string
	StorageClass string

	// Condition applies to the Put this ObjectInfo is passed to, and
	// nowhere else: results never carry one, and a backend ignores it on
	// info given to CreateUpload (a multipart upload's condition is its
	// Upload's, checked at CompleteUpload).
	Condition Condition
}

// ListFunc receives objects in order. Returning a non-nil error stops the
// listing, and List returns that error unchanged.
type ListFunc func(ObjectInfo) error

// Backend is a flat namespace of objects addressed by UTF-8 keys of at most
// MaxKeyLen bytes. Every method honours ctx: once ctx is done, calls return an
// error for which errors.Is(err, ctx.Err()) holds.
//
// Errors wrap one of the sentinels in errors.go (ErrNotFound, ErrAccessDenied,
// ...) where one applies, inside an *Error naming the backend, operation and
// key; Classify tells the caller whether to retry.
type Backend interface {
	// String names the backend for logs and errors ("s3 bucket b at
	// https://host"). It never contains a secret.
	String() string

	// List calls fn for every object whose key starts with prefix and sorts
	// strictly after startAfter ("" = from the start), in byte-wise
	// lexicographic order of keys (the order of Go's string comparison and of
	// S3's ListObjectsV2). Because the order is total and startAfter is
	// exclusive, a listing interrupted after key K resumes exactly with
	// List(ctx, prefix, K, fn). Memory use must not grow with the number of
	// objects listed. ObjectInfo from List carries at least Key, Size and
	// ModTime; ETag and the rest only if the backend gets them for free.
	List(ctx context.Context, prefix, startAfter string, fn ListFunc) error

	// Stat returns the object's full ObjectInfo (metadata included), or an
	// error wrapping ErrNotFound.
	Stat(ctx context.Context, key string) (ObjectInfo, error)

	// Open reads length bytes starting at offset; length < 0 reads to the end.
	// The returned ObjectInfo describes the whole object (Size is the full
	// size, CRC64 the whole object's when known). A range that runs past the
	// end is not an error: the reader returns fewer bytes. A range starting
	// at or beyond the end (offset > 0 and offset >= size) returns
	// ErrInvalidRange, as S3 answers 416.
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, ObjectInfo, error)

	// Put stores exactly info.Size bytes read from body under key, replacing
	// any existing object atomically: readers see the old object or the new
	// one, never a partial one. info supplies content type, metadata and
	// storage class; Key and Size of info are ignored except Size. The result
	// is what the destination reports (ETag, CRC64 when it has one). If body
	// yields fewer or more than info.Size bytes, Put fails with
	// ErrSizeMismatch and stores nothing.
	//
	// With info.Condition set, the check and the replacement are one step:
	// if the condition does not hold, Put fails with ErrPrecondition and
	// the object under key is untouched; a condition the backend cannot
	// express fails with ErrConditionUnsupported before anything is
	// written (see Condition).
	Put(ctx context.Context, key string, body io.Reader, info ObjectInfo) (ObjectInfo, error)

	// Delete removes key. Deleting a key that does not exist succeeds.
	Delete(ctx context.Context, key string) error
}

// MaxKeyLen is the longest key ferry accepts, in bytes (S3's and OSS's limit).
const MaxKeyLen = 1023

// Checker is implemented by backends that can verify, before a job starts,
// that they are reachable and usable: endpoint answers, credentials are
// accepted, bucket or root exists. Its error is what an operator needs to
// fix the configuration.
type Checker interface {
	Check(ctx context.Context) error
}

// LevelLister is implemented by backends that can list one level of the
// "/" hierarchy: the objects directly under prefix (no further "/" after
// it) go to fn, and each sub-prefix (ending in "/") to dirFn, both in key
// order. prefix is "" or ends in "/". The scanner uses it to list top-level
// prefixes in parallel.
type LevelLister interface {
	ListLevel(ctx context.Context, prefix string, fn ListFunc, dirFn func(prefix string) error) error
}

// Changed says how the object described by now differs from the one
// described by was (the same key read at two moments), or "" when nothing
// known differs. Values one side does not know (empty ETag, zero time, no
// CRC64) prove nothing: a local file has no ETag.
func Changed(was, now ObjectInfo) string {
	switch {
	case was.Size != now.Size:
		return fmt.Sprintf("size was %d, now %d", was.Size, now.Size)
	case was.ETag != "" && now.ETag != "" && !ETagEqual(was.ETag, now.ETag):
		return fmt.Sprintf("etag was %q, now %q", was.ETag, now.ETag)
	case was.HasCRC64 && now.HasCRC64 && was.CRC64 != now.CRC64:
		return fmt.Sprintf("crc64 was %d, now %d", was.CRC64, now.CRC64)
	case !was.ModTime.IsZero() && !now.ModTime.IsZero() && !was.ModTime.Equal(now.ModTime):
		return fmt.Sprintf("modified %s, now %s", was.ModTime, now.ModTime)
	}
	return ""
}
