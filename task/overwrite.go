package task

import "fmt"

// OverwritePolicy says when a copy may replace an object that already
// exists at the destination (the job key overwritePolicy). Whatever the
// policy, an object proven identical to the source (same size and the same
// CRC64, stored checksum or MD5 ETag) is "already there" and never
// rewritten (DESIGN §10).
type OverwritePolicy string

const (
	// OverwriteNever creates objects only: an existing destination object
	// is kept, whatever it holds.
	OverwriteNever OverwritePolicy = "never"
	// OverwriteIfSourceNewer replaces a destination object only when the
	// source's modification time is after the destination's (whole
	// seconds). What the application wrote after the cutover is newer, so
	// it is kept. The default, and what isSkipExistFile=true means.
	OverwriteIfSourceNewer OverwritePolicy = "if-source-newer"
	// OverwriteIfDifferent is OssImport's isSkipExistFile rule made
	// explicit: replace unless the destination is proven identical, or
	// has the same size and is not older when nothing can prove it either
	// way. A destination of another size is replaced even when newer.
	OverwriteIfDifferent OverwritePolicy = "if-different"
	// OverwriteAlways replaces whatever is there (isSkipExistFile=false),
	// still leaving proven-identical objects alone.
	OverwriteAlways OverwritePolicy = "always"
)

// DefaultOverwrite is the policy of a config that sets neither
// overwritePolicy nor isSkipExistFile: safe for a cutover.
const DefaultOverwrite = OverwriteIfSourceNewer

// Check returns an error that names p and the policies there are, unless
// p is one of them.
func (p OverwritePolicy) Check() error {
	switch p {
	case OverwriteNever, OverwriteIfSourceNewer, OverwriteIfDifferent, OverwriteAlways:
		return nil
	}
	return fmt.Errorf("%q: use %s, %s, %s or %s", string(p),
		OverwriteNever, OverwriteIfSourceNewer, OverwriteIfDifferent, OverwriteAlways)
}

// Conditional reports whether writes under p need a store-enforced
// condition to keep their promise: every policy but always refuses to
// replace something, which only the store can do without a race.
func (p OverwritePolicy) Conditional() bool { return p != OverwriteAlways }

// Outcome says why the copier wrote nothing where its overwrite policy
// decided so, or that the destination made the copy itself; empty for
// every other result. The Status values stay those
// stored manifests know: an identical object is StatusVerified (proven
// present, as a copy would be), a kept one StatusSkipped.
type Outcome string

const (
	// OutcomeIdentical: the destination already holds the source's bytes,
	// proven by Method; the Result is verified, nothing was written.
	OutcomeIdentical Outcome = "identical"
	// OutcomeKept (a skipped Result): the destination holds another object that the overwrite
	// policy keeps (newer there, or the policy never replaces), or that was
	// written there between ferry's check and its write and the store
	// refused the conditional write. Reason says which.
	OutcomeKept Outcome = "kept"
	// OutcomeServerCopy (a verified Result): the destination made the
	// object by copying the base snapshot's copy inside itself
	// (Object.CopyFrom); no source byte was read or sent.
	OutcomeServerCopy Outcome = "server-copy"
)
