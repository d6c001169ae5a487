package worker

import (
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// Reasons of skips the overwrite policy decides, as they appear in
// Result.Reason.
const (
	ReasonIdentical = "destination already holds the same object"
	ReasonNewer     = "destination is newer or as new (overwritePolicy=if-source-newer)"
	ReasonNoMtime   = "destination exists and a modification time is unknown, so the source cannot be shown newer (overwritePolicy=if-source-newer)"
	ReasonExists    = "destination exists (overwritePolicy=never)"
	ReasonSameSize  = "destination has same size and is newer or as new; nothing proves it identical (overwritePolicy=if-different)"
	ReasonRaced     = "destination was written between ferry's check and its write; the store refused the conditional write"
	ReasonUnchecked = "destination exists and could not be checked (HEAD denied); the store refused the create-only write"
)

// action is what the copier does with one object.
type action uint8

const (
	actCopy      action = iota // write, under decision.cond
	actIdentical               // already there: count it, write nothing
	actKeep                    // another object the policy keeps
)

// decision is decide's answer.
type decision struct {
	act    action
	cond   storage.Condition // for actCopy: what the write must find
	method task.Method       // for actIdentical: the proof
	reason string            // for actIdentical and actKeep
	// What was looked at (set by look, not decide): the source, and the
	// destination when it exists.
	src, seen storage.ObjectInfo
	// unchecked: the destination could not be looked at (HEAD denied).
	unchecked bool
	// absent: the destination holds nothing under the key.
	absent bool
}

// sides is what decide looks at: the source as listed (and HEADed when a
// digest was worth fetching), the destination as Stat saw it (nil when
// absent), and the CRC64 the manifest keeps of this source version.
type sides struct {
	src           storage.ObjectInfo
	dst           *storage.ObjectInfo
	manifestCRC64 uint64
	hasManifest   bool
	// priorDestETag: the destination ETag of ferry's own earlier copy
	// (task.Object.PriorDestETag), "" when unknown.
	priorDestETag string
	// trustETags: MD5-shaped ETags may be compared as MD5s (not with
	// verify=size or off, which exist for stores whose ETags only look
	// like digests).
	trustETags bool
}

// decide applies the overwrite policy to one object. It does no I/O.
//
// An absent destination is created, under if-absent unless the policy is
// always (which may clobber anyway). A destination proven identical is
// never rewritten, whatever the policy. A replacement is made under
// if-match on the version checked, so an object written meanwhile is not
// clobbered where the store enforces it.
func decide(p task.OverwritePolicy, s sides) decision {
	if s.dst == nil {
		if p == task.OverwriteAlways {
			return decision{act: actCopy}
		}
		return decision{act: actCopy, cond: storage.IfAbsent()}
	}
	dst := *s.dst
	proof, differ := identity(s)
	if proof != "" {
		return decision{act: actIdentical, method: proof, reason: ReasonIdentical}
	}
	replace := decision{act: actCopy, cond: storage.IfMatch(dst)}
	if (p == task.OverwriteIfSourceNewer || p == task.OverwriteIfDifferent) && s.priorDestETag != "" && storage.ETagEqual(s.priorDestETag, dst.ETag) {
		// Still ferry's own earlier copy: nobody wrote it since, so the
		// changed source replaces it (under if-match, should that change).
		return replace
	}
	switch p {
	case task.OverwriteAlways:
		return decision{act: actCopy}
	case task.OverwriteNever:
		return decision{act: actKeep, reason: ReasonExists}
	case task.OverwriteIfDifferent:
		if !differ && dst.Size == s.src.Size && notOlder(s.src.ModTime, dst.ModTime) {
			return decision{act: actKeep, reason: ReasonSameSize}
		}
		return replace
	}
	// if-source-newer, and anything unknown: keep unless the source is
	// shown to be newer. Within the same second S3's times cannot order
	// the two; proven different content is then replaced, or a source
	// change made in the second of ferry's previous copy would never be
	// copied (an application write in the very second the source changed
	// is the lesser risk).
	switch {
	case s.src.ModTime.IsZero() || dst.ModTime.IsZero():
		return decision{act: actKeep, reason: ReasonNoMtime}
	case differ && sameSecond(s.src.ModTime, dst.ModTime):
		return replace
	case notOlder(s.src.ModTime, dst.ModTime):
		return decision{act: actKeep, reason: ReasonNewer}
	}
	return replace
}

// notOlder: dst's mtime is at or after src's, in whole seconds: S3's
// Last-Modified has no more, so a copy made in the same second as a local
// source file would look older.
func notOlder(src, dst time.Time) bool {
	return !src.IsZero() && !dst.IsZero() && !dst.Truncate(time.Second).Before(src.Truncate(time.Second))
}

// sameSecond: a and b fall in the same whole second.
func sameSecond(a, b time.Time) bool { return a.Truncate(time.Second).Equal(b.Truncate(time.Second)) }

// identity proves s.dst identical to s.src (the method that proves it),
// or different (differ), or neither. Size and mtime prove nothing alike;
// a different size, or a digest of the same kind that differs, proves a
// difference. MD5-shaped ETags are compared only when trusted: with
// verify=size or off (SSE stores, whose ETags only look like MD5s) they
// prove nothing either way.
func identity(s sides) (proof task.Method, differ bool) {
	src, dst := s.src, *s.dst
	if src.Size != dst.Size {
		return "", true
	}
	if dst.HasCRC64 {
		switch {
		case src.HasCRC64 && src.CRC64 == dst.CRC64:
			return task.MethodCRC64, false
		case src.HasCRC64:
			return "", true
		case s.hasManifest && s.manifestCRC64 == dst.CRC64:
			return task.MethodCRC64, false
		}
	}
	if a, b := algo(src.Checksum), algo(dst.Checksum); a != "" && a == b {
		if src.Checksum == dst.Checksum {
			return task.MethodChecksum, false
		}
		return "", true
	}
	if s.trustETags && storage.IsMD5ETag(src.ETag) && storage.IsMD5ETag(dst.ETag) {
		if storage.ETagEqual(src.ETag, dst.ETag) {
			return task.MethodMD5, false
		}
		return "", true
	}
	return "", false
}

// algo is the algorithm of a stored checksum "<algorithm>:<sum>", or "".
func algo(checksum string) string {
	for i := range len(checksum) {
		if checksum[i] == ':' {
			return checksum[:i]
		}
	}
	return ""
}
