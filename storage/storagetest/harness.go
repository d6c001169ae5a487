// Package storagetest is the conformance suite every storage.Backend passes.
// A backend's test is one call:
//
//	func TestConformance(t *testing.T) { storagetest.Run(t, harness) }
//
// The suite checks the contract comments of package storage: listing order
// and continuation, ranged reads, odd keys, empty objects, metadata,
// multipart with resume from stored state, conditional writes, server-side
// copies, error classification and context cancellation. Each case is a named subtest,
// so `go test -v` shows them.
//
// A read-only source (HDFS, an HTTP URL list), which cannot Put its own
// fixtures, runs RunSource instead (source.go): the read cases, with
// fixtures seeded by its harness.
package storagetest

import (
	"testing"

	"github.com/ferry-migrate/ferry/storage"
)

// Harness tells the suite how to get backends and what they cannot do.
type Harness struct {
	// New returns an empty backend, and a function that opens a second,
	// independent instance over the same stored state, as a restarted
	// process would (used by the resume cases). Both are cleaned up by t.
	New func(t *testing.T) (b storage.Backend, reopen func() storage.Backend)

	// Denied returns a backend and a key that exists but that the backend is
	// not allowed to read. Nil when the platform cannot arrange it; the
	// backend's own tests must then cover access denial another way.
	Denied func(t *testing.T) (storage.Backend, string)

	// NoMetadata: the backend does not keep content type, cache control,
	// user metadata or storage class (e.g. a plain filesystem).
	NoMetadata bool
	// MaxSegment is the longest "/"-separated key segment the backend can
	// store (255 on POSIX filesystems); 0 means no limit.
	MaxSegment int
	// NoParentChildKeys: "a" and "a/b" cannot both exist (filesystems).
	NoParentChildKeys bool
	// Conditions are the conditional writes the backend enforces on this
	// harness's store. The suite checks each claimed one is enforced, each
	// other one refused with ErrConditionUnsupported (never ignored), and
	// that ProbeConditions finds exactly these.
	Conditions storage.Conditions

	// CopyLimit lowers the size above which b (from New) copies in parts
	// (storage.ServerCopier), so the suite reaches the multipart copy with
	// small objects. Nil when the backend has no such limit.
	CopyLimit func(b storage.Backend, limit int64)

	// StoreMinPart is the smallest part the harness's store really
	// accepts, when that is more than the backend claims for the real
	// service: versitygw behind the OSS look-alike proxy holds S3's 5 MiB,
	// where OSS takes 100 KiB. The suite then makes parts at least this
	// big and cannot check the MinPart claim on this store.
	StoreMinPart int64
}

// Run runs every conformance case as a subtest of t.
func Run(t *testing.T, h Harness) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"RangedReads", testRangedReads},
		{"OverwriteIsAtomic", testOverwrite},
		{"PutSizeMismatch", testPutSizeMismatch},
		{"ListOrder", testListOrder},
		{"ListPagesAndStartAfter", testListStartAfter},
		{"ListPrefix", testListPrefix},
		{"ListLevel", testListLevel},
		{"OddKeys", testOddKeys},
		{"Metadata", testMetadata},
		{"NotFound", testNotFound},
		{"AccessDenied", testAccessDenied},
		{"ContextCanceled", testContextCanceled},
		{"Multipart", testMultipart},
		{"MultipartResume", testMultipartResume},
		{"MultipartAbort", testMultipartAbort},
		{"PartLimits", testPartLimits},
		{"ConditionalPut", testConditionalPut},
		{"ConcurrentCreateOnly", testConcurrentCreateOnly},
		{"ConditionalComplete", testConditionalComplete},
		{"ProbeConditions", testProbe},
		{"Copy", testCopy},
		{"CopyLarge", testCopyLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, h) })
	}
}
