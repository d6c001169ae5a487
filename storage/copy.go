package storage

import "context"

// ServerCopier is implemented by backends that copy an object inside
// themselves, without the bytes passing through ferry. Snapshots make
// their unchanged objects this way: no source reads, no egress.
type ServerCopier interface {
	// Copy makes dst a copy of the object src, both keys of this backend,
	// replacing any object under dst atomically as Put does. The copy keeps
	// src's content type, cache control, content disposition and encoding,
	// user metadata and storage class where the backend keeps them; the
	// fields of info are ignored except Condition.
	//
	// info.Condition applies to dst exactly as in Put (IfAbsent, IfMatch):
	// a condition that does not hold fails with ErrPrecondition and leaves
	// dst untouched; one the backend cannot enforce on a copy fails with
	// ErrConditionUnsupported before anything is written.
	//
	// The result describes the new object as the store reports it: Key,
	// Size, ETag, and CRC64/Checksum when the store gives them (a copy's
	// ETag need not be src's: a copy made in parts has a multipart ETag). A
	// missing src fails with an error wrapping ErrNotFound. Objects of any
	// size work: above the store's single-request copy limit the backend
	// copies in parts. src is copied as one version: if it is replaced
	// during the copy, the copy fails (retryably) rather than mixing the
	// two.
	Copy(ctx context.Context, src, dst string, info ObjectInfo) (ObjectInfo, error)
}
