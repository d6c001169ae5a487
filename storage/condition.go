package storage

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Conditional writes close the window between a copier's check of the
// destination (Stat) and its write: the store itself refuses the write if
// the key no longer holds what was checked. A refusal is an answer, not a
// failure: the destination holds an object someone else wrote meanwhile,
// and it is kept.
var (
	// ErrPrecondition: the store refused a conditional write because its
	// condition did not hold (S3 412 PreconditionFailed, OSS 409
	// FileAlreadyExists). Nothing was written; the object under the key,
	// if any, is untouched. Classify says Permanent: the same write gets
	// the same answer.
	ErrPrecondition = errors.New("write condition not met: the destination holds a different object")
	// ErrConditionUnsupported: the backend cannot express the condition
	// asked for (OSS has no If-Match on writes; an IfMatch version without
	// what the backend compares). It is returned before anything is sent
	// or written, so nothing was stored.
	ErrConditionUnsupported = errors.New("write condition not supported by this backend")
)

// Condition is a precondition on a write: Put (in ObjectInfo.Condition)
// and CompleteUpload (in Upload.Condition). The zero Condition writes
// unconditionally. At most one of IfAbsent and IfMatch may be set.
//
// A backend given a condition either makes the check and the write one
// atomic step, as far as it documents, or fails with
// ErrConditionUnsupported before writing; it never drops a condition on
// purpose. What it cannot know is whether the server honours the header it
// sends: a store may answer 200 and overwrite. ProbeConditions finds out
// what a destination really enforces; trust nothing it did not confirm.
type Condition struct {
	// IfAbsent: write only if no object exists under the key
	// (S3 If-None-Match: *, OSS x-oss-forbid-overwrite: true).
	IfAbsent bool
	// IfMatch, when not zero: replace only the object that is this version
	// (S3 If-Match: <etag>). If the key holds another version, or nothing
	// at all, the write is refused with ErrPrecondition (for a missing
	// object it also wraps ErrNotFound where the store says so: S3 answers
	// 404, some stores 412).
	IfMatch Version
}

// Version identifies one version of an object as Stat reported it. Which
// fields a backend compares is its own: S3 the ETag (so IfMatch needs
// one), the local backend size and modification time (a file has no ETag).
type Version struct {
	ETag    string
	Size    int64
	ModTime time.Time
}

// VersionOf is the version Stat described in info.
func VersionOf(info ObjectInfo) Version {
	return Version{ETag: info.ETag, Size: info.Size, ModTime: info.ModTime}
}

// IsZero reports whether v names no version.
func (v Version) IsZero() bool { return v == Version{} }

// IfAbsent is the create-only condition.
func IfAbsent() Condition { return Condition{IfAbsent: true} }

// IfMatch is the condition "replace exactly the object info describes".
func IfMatch(info ObjectInfo) Condition { return Condition{IfMatch: VersionOf(info)} }

// IsZero reports an unconditional write.
func (c Condition) IsZero() bool { return !c.IfAbsent && c.IfMatch.IsZero() }

// Validate rejects a condition that asks for both IfAbsent and IfMatch,
// which no object can satisfy.
func (c Condition) Validate() error {
	if c.IfAbsent && !c.IfMatch.IsZero() {
		return fmt.Errorf("%w: IfAbsent and IfMatch together can never hold", ErrConditionUnsupported)
	}
	return nil
}

func (c Condition) String() string {
	switch {
	case c.IfAbsent:
		return "if-absent"
	case !c.IfMatch.IsZero():
		return fmt.Sprintf("if-match %q", c.IfMatch.ETag)
	}
	return "unconditional"
}

// Conditions is a set of conditional writes: what ProbeConditions found a
// destination to enforce, or what a backend claims (storagetest.Harness).
type Conditions struct {
	PutIfAbsent      bool // Put with IfAbsent
	PutIfMatch       bool // Put with IfMatch
	CompleteIfAbsent bool // CompleteUpload with IfAbsent
	CompleteIfMatch  bool // CompleteUpload with IfMatch
}

// Missing names the conditional writes not in c, in a fixed order, for the
// job's one warning.
func (c Conditions) Missing() []string {
	var out []string
	for _, w := range []struct {
		ok   bool
		name string
	}{
		{c.PutIfAbsent, "put if-absent"},
		{c.PutIfMatch, "put if-match"},
		{c.CompleteIfAbsent, "complete-multipart if-absent"},
		{c.CompleteIfMatch, "complete-multipart if-match"},
	} {
		if !w.ok {
			out = append(out, w.name)
		}
	}
	return out
}

// Residual describes the race window that remains where c lacks a
// condition, or "" when every write can be made conditional. It is the
// sentence a report needs: what the destination does not enforce, and so
// which writes can clobber an object written between check and write.
func (c Conditions) Residual() string {
	m := c.Missing()
	if len(m) == 0 {
		return ""
	}
	return "the destination does not enforce " + strings.Join(m, ", ") +
		": an object written there between ferry's check and such a write is overwritten"
}
