package storage

import (
	"context"
	"io"
)

// Upload identifies one multipart upload. It is plain data on purpose: the
// copier stores it (in the tracker, or on the master) so that a different
// process, with a new Backend value, can resume the upload after a crash.
type Upload struct {
	Key string
	ID  string
	// Checksum, when set, is the whole-object checksum declared at
	// CreateUpload (from its info.Checksum, by a backend whose
	// Evidence.Checksums is true): CompleteUpload asks the store to
	// validate the assembled object against it. An upload created with one
	// must be completed with the same value.
	Checksum string
	// Condition is checked by CompleteUpload, atomically with making the
	// object visible, as Put checks ObjectInfo.Condition. It is decided at
	// completion, not at creation (the destination may change meanwhile),
	// so it need not be stored with the upload; ListUploads and
	// CreateUpload leave it zero. An upload is identified by Key and ID:
	// compare those, not whole Upload values.
	Condition Condition
}

// Part is one uploaded part as the backend acknowledged it.
type Part struct {
	Number   int // 1-based, at most MaxParts
	Size     int64
	ETag     string
	CRC64    uint64 // valid when HasCRC64
	HasCRC64 bool
}

// MaxParts is the largest part number S3 and OSS accept.
const MaxParts = 10000

// Multipart is implemented by backends that can assemble an object from
// independently uploaded parts. Parts may be uploaded concurrently and in any
// order. Nothing is visible under the key until Complete succeeds.
//
// Resume contract: given only an Upload (from any earlier process), ListParts
// returns the parts the backend holds, so the caller re-sends only the
// missing ones. Uploading the same part number again replaces that part.
type Multipart interface {
	// MinPartSize is the smallest size every part but the last must have.
	MinPartSize() int64

	// CreateUpload starts an upload; info carries content type, metadata and
	// storage class for the final object (as for Put).
	CreateUpload(ctx context.Context, key string, info ObjectInfo) (Upload, error)

	// UploadPart stores exactly size bytes from body as part number n.
	UploadPart(ctx context.Context, u Upload, n int, body io.Reader, size int64) (Part, error)

	// ListParts returns the parts held for u, ordered by number. An upload
	// that no longer exists (completed, aborted, expired) gives an error
	// wrapping ErrNoSuchUpload.
	ListParts(ctx context.Context, u Upload) ([]Part, error)

	// CompleteUpload assembles parts (ordered by number, each as returned by
	// UploadPart or ListParts) into the object. The result is what the
	// backend reports for the object; its CRC64 is set only if the backend
	// reports one. A refused u.Condition fails with ErrPrecondition,
	// leaving the object under the key untouched and the upload in place
	// (to be aborted, or completed under another condition).
	CompleteUpload(ctx context.Context, u Upload, parts []Part) (ObjectInfo, error)

	// AbortUpload discards u and its parts. Aborting an upload that no longer
	// exists succeeds, so abort is safe to repeat.
	AbortUpload(ctx context.Context, u Upload) error

	// ListUploads calls fn for every unfinished upload under prefix, so that
	// orphans left by a crash can be found and aborted.
	ListUploads(ctx context.Context, prefix string, fn func(Upload) error) error
}
