// Package task holds the plain types that cross the master–worker line:
// what a worker is asked to copy (Shard, Object), what it answers (Result),
// and the state of a half-done multipart upload (UploadState) that lets a
// different worker resume it. master, worker and tracker all import it;
// it imports nothing of theirs, so the same values travel in-process
// (`ferry run`) or over gRPC (distributed mode).
package task

import (
	"errors"
	"time"
)

// Object is one source object as the scanner found it, with the key it
// gets at the destination.
type Object struct {
	Key      string // source key
	Dest     string // destination key (destPrefix + key relative to srcPrefix)
	Size     int64
	ModTime  time.Time
	ETag     string
	CRC64    uint64 // source's whole-object CRC64 when HasCRC64
	HasCRC64 bool
	// ManifestCRC64 is set in audit grants only: the CRC64 the manifest
	// keeps of this source version (same size, mtime and ETag), as ferry
	// read it when it copied or last audited the object. It lets a
	// destination that reports a CRC64 be checked without reading the
	// source again.
	ManifestCRC64    uint64
	HasManifestCRC64 bool
	// PriorDestETag is set in copy grants: the destination ETag the
	// manifest records from an earlier pass that verified this key. A
	// destination still holding that ETag holds ferry's own earlier copy,
	// which no one has written since, so a changed source replaces it
	// whatever the times say (a source rewritten in place with its old
	// mtime looks older than that copy).
	PriorDestETag string
	// CopyFrom is set in snapshot grants for an object unchanged since
	// the base snapshot: the destination key of its verified copy there.
	// The worker makes Dest by a server-side copy of it inside the
	// destination, reading nothing from the source; ManifestCRC64 then
	// holds that copy's CRC64 and CopyFromETag its ETag, the evidence the
	// new copy is checked against. A copy that cannot be made that way
	// (the base object is gone, the store has no server-side copy)
	// streams from the source as any object does.
	CopyFrom     string
	CopyFromETag string
	// NeedCRC64: the result must carry the CRC64 of the object's bytes
	// (a snapshot's manifest records every object's). An object found
	// already at the destination, proven identical by a checksum or an
	// MD5 ETag, is then read back from the destination to compute it.
	NeedCRC64 bool
}

// Shard is a batch of objects copied as one unit of work. Objects are in
// source key order; a shard never spans passes.
type Shard struct {
	Job     string
	Pass    uint64
	ID      uint64
	Objects []Object
}

// Bytes is the total size of the shard's objects.
func (s Shard) Bytes() int64 {
	var n int64
	for _, o := range s.Objects {
		n += o.Size
	}
	return n
}

// Grant is a leased shard. Token fences reports: a report carrying an old
// token (from a worker presumed dead whose lease was re-granted) is still
// recorded per object (copies are idempotent) but cannot ack the shard.
type Grant struct {
	Shard
	Token    uint64
	Worker   string
	Deadline time.Time
	Attempt  int // 1 for the first lease of this shard
	// Audit: compare each object with its destination copy and copy
	// nothing (jobType=audit). The results are Verified with the method
	// that decided, or Failed with Class "audit" and what differs.
	Audit bool
}

// Status is the outcome for one object.
type Status uint8

const (
	StatusUnknown  Status = iota
	StatusVerified        // copied (or found already there) and verified
	StatusSkipped         // deliberately not copied; Reason says why
	StatusFailed          // gave up; Reason holds the error
)

// Delete propagation's records (the master's, never a worker's): the
// entry is keyed by the source key a destination object would have, and
// Dest, Size and ETag describe that destination object. Numbered apart
// from the copy outcomes so that outcomes added there never collide with
// them in stored manifests.
const (
	StatusDeleted     Status = 16 // no source object in the pass: deleted at the destination
	StatusWouldDelete Status = 17 // the same, not deleted: dry run or stopped by the guard (Reason says which)
)

func (s Status) String() string {
	switch s {
	case StatusVerified:
		return "verified"
	case StatusSkipped:
		return "skipped"
	case StatusFailed:
		return "failed"
	case StatusDeleted:
		return "deleted"
	case StatusWouldDelete:
		return "would-delete"
	default:
		return "unknown"
	}
}

// Method says which check proved a copy correct (DESIGN §6), strongest
// first. A Result says exactly one.
type Method string

const (
	MethodReread        Method = "reread"          // destination read back and CRC64 compared
	MethodCRC64         Method = "crc64"           // destination-reported CRC64 (OSS) = CRC64 of bytes sent
	MethodChecksum      Method = "source-checksum" // destination validated the source's own x-amz-checksum over what it stored
	MethodMD5           Method = "md5"             // single-part ETag = MD5 of bytes sent
	MethodMultipartETag Method = "multipart-etag"  // ETag = MD5 of part MD5s + "-N"
	MethodSize          Method = "size"            // only the size could be checked
	MethodManifest      Method = "manifest"        // skipped: verified in an earlier pass, source unchanged
	MethodManifestCRC64 Method = "manifest-crc64"  // audit: destination-reported CRC64 = the manifest's CRC64 of this source version; server-side copy: the copy's CRC64 = the base copy's
	MethodCopyETag      Method = "copy-etag"       // server-side copy: the copy's ETag = the ETag of the verified base copy (a single-request copy keeps it)
)

// Result is a worker's answer for one object. Re-applying the same Result
// is harmless (the tracker keys it by job and source key).
type Result struct {
	Key    string
	Dest   string
	Status Status
	Method Method // for StatusVerified (and skips that verified the destination)
	// Reason: for skips, why (human-readable, e.g. "destination has same
	// size and CRC64"); for failures, the error.
	Reason string
	// Class of the final error for failures: "permanent", "retryable"
	// (attempts exhausted) or "fatal".
	Class string
	// Outcome, for skips the copier decided on: identical or kept.
	Outcome Outcome

	Size     int64
	ModTime  time.Time // source mtime
	ETag     string    // source ETag
	DestETag string
	CRC64    uint64 // CRC64 of the object's bytes, when known
	HasCRC64 bool

	// BytesRead counts source bytes read in this attempt; a resumed
	// multipart upload reads less than Size. BytesSent counts bytes sent to
	// the destination.
	BytesRead int64
	BytesSent int64
	Attempts  int
	Duration  time.Duration
}

// UploadState is a multipart upload in progress, saved after it is created
// and after each part, so a crashed copy resumes without re-sending parts.
// Source identity (Size, ModTime, ETag) is recorded so a resume of a source
// object that changed meanwhile starts over instead of mixing versions.
type UploadState struct {
	Job      string
	Key      string // source key
	Dest     string
	UploadID string
	PartSize int64
	Size     int64
	ModTime  time.Time
	ETag     string
	Parts    []PartState // in part-number order
	Created  time.Time
	// Checksum is the source's whole-object checksum declared to the
	// destination at creation (storage.Upload.Checksum), "" if none: the
	// upload must be completed with it.
	Checksum string
	// Verify is the verify mode the parts were hashed for: a resume under
	// another mode would lack the digests it compares.
	Verify VerifyMode
}

// PartState is one part known to be stored at the destination, with the
// checksums of the bytes that were sent for it.
type PartState struct {
	Number int
	Size   int64
	ETag   string // as the destination returned it
	CRC64  uint64 // CRC64 of the part's bytes
	MD5    string // hex MD5 of the part's bytes
}

// ErrFinished is what a master answers to Lease when the job is over; a
// worker agent that gets it exits cleanly.
var ErrFinished = errors.New("job finished: no more work")

// LeaseRef names one lease: its job, the pass it was granted in, and its
// token. Every worker->master call about a leased shard (report, ack,
// nack, heartbeat) carries it, so that the master can refuse what belongs
// to a pass or a lease that is no longer current instead of filing it
// under whatever pass runs now.
type LeaseRef struct {
	Job   string
	Pass  uint64
	Token uint64
	// Shard lets a master that restarted (and so never issued Token)
	// still take the results of a shard nobody has leased since.
	Shard uint64
}

// Ref is the grant's lease.
func (g Grant) Ref() LeaseRef { return LeaseRef{Job: g.Job, Pass: g.Pass, Token: g.Token, Shard: g.ID} }

// ErrStale is the master's answer to a result, ack or nack whose lease is
// no longer current: its pass has ended, or its shard was leased again.
// Nothing of it is recorded; the worker drops the shard (whoever holds it
// now copies it).
var ErrStale = errors.New("lease is no longer current (its pass ended or its shard was leased again)")
