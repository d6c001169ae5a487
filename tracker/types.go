package tracker

import (
	"errors"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// ErrNotFound is wrapped by errors about a job, pass or shard that does
// not exist.
var ErrNotFound = errors.New("not found")

// ErrInUse is wrapped by Open's error when another process holds the
// data dir's lock.
var ErrInUse = errors.New("data dir in use")

// ErrSchema is wrapped by Open's error when the file's schema version is
// not SchemaVersion (or the file is not a ferry database).
var ErrSchema = errors.New("unsupported tracker schema")

// JobState is where a job stands.
type JobState string

const (
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded" // last pass finished with zero failures
	JobFailed    JobState = "failed"    // last pass finished with failed objects or shards
	JobCanceled  JobState = "canceled"
)

// Job is one migration job. Pass and Checkpoint are owned by the tracker
// (StartPass, FinishPass): PutJob keeps the stored values so a caller
// writing back a stale copy cannot move them.
type Job struct {
	Name    string
	Config  string // job config text, secrets redacted by the caller
	Source  string // description of the source; a re-run with a different one is refused by the caller
	Dest    string // description of the destination, same rule
	Created time.Time
	State   JobState
	Pass    uint64 // current or last pass; 0 = none yet
	// Checkpoint is the start time of the newest pass that finished with
	// zero failures; an incremental pass copies what changed since. Zero =
	// no such pass.
	Checkpoint time.Time
	// WriteRace is the race window the destination leaves open, as the
	// master's probe of its conditional writes found it when the current
	// pass started ("" when none or not probed): kept for stat after the
	// run.
	WriteRace string
}

// Counters are a pass's running totals. Scanned counts every listed
// object (sharded or skipped by the scanner); Verified/Skipped/Failed count
// manifest entries of this pass by status (a later result for the same key
// replaces the earlier one's contribution); Methods counts verified and
// skipped entries by the check that held. BytesRead/BytesSent are traffic:
// every distinct result adds its bytes (a retried copy really did move
// them), an exact duplicate report adds nothing.
type Counters struct {
	Scanned, ScannedBytes   int64
	Verified, VerifiedBytes int64
	Skipped, SkippedBytes   int64
	Failed, FailedBytes     int64
	BytesRead, BytesSent    int64
	Shards                  int64 // shards appended (by the scan or RequeueFailed)
	ShardsDone              int64
	ShardsFailed            int64
	// DestOnly: objects an audit found only at the destination (no
	// source object in scope has their key).
	DestOnly int64
	Methods  map[task.Method]int64
	// Deleted / WouldDelete count the pass's delete-propagation records
	// (task.StatusDeleted, task.StatusWouldDelete): destination objects
	// with no source object that were deleted, or that a dry run or the
	// guard left in place.
	Deleted, WouldDelete int64
	// What the copier's overwrite policy decided (task.Outcome): of the
	// verified entries, those already there, proven identical (nothing
	// written; copied = Verified - Identical); of the skipped ones, those
	// kept because the destination holds another object the policy keeps.
	Identical, IdenticalBytes int64
	Kept, KeptBytes           int64
	// ServerCopied: of the verified entries, those the destination made
	// by a server-side copy from the base snapshot (task.OutcomeServerCopy).
	ServerCopied, ServerCopiedBytes int64
}

// Add adds o's counts to c (a job's totals are the sum of its passes).
func (c *Counters) Add(o Counters) {
	c.Scanned += o.Scanned
	c.ScannedBytes += o.ScannedBytes
	c.Verified += o.Verified
	c.VerifiedBytes += o.VerifiedBytes
	c.Skipped += o.Skipped
	c.SkippedBytes += o.SkippedBytes
	c.Failed += o.Failed
	c.FailedBytes += o.FailedBytes
	c.BytesRead += o.BytesRead
	c.BytesSent += o.BytesSent
	c.Shards += o.Shards
	c.ShardsDone += o.ShardsDone
	c.ShardsFailed += o.ShardsFailed
	c.DestOnly += o.DestOnly
	c.Deleted += o.Deleted
	c.WouldDelete += o.WouldDelete
	c.Identical += o.Identical
	c.IdenticalBytes += o.IdenticalBytes
	c.Kept += o.Kept
	c.KeptBytes += o.KeptBytes
	c.ServerCopied += o.ServerCopied
	c.ServerCopiedBytes += o.ServerCopiedBytes
	for m, n := range o.Methods {
		if c.Methods == nil {
			c.Methods = map[task.Method]int64{}
		}
		c.Methods[m] += n
	}
}

// Pass is one run over the source.
type Pass struct {
	Job          string
	N            uint64
	Started      time.Time
	Finished     time.Time // zero while running
	ScanFinished bool
	Counters
	// Problem, when set, fails the pass whatever its counters say: delete
	// propagation's guard stopped it (SetPassProblem).
	Problem string
	// SkippedRuns: the scheduled times that came while this pass ran,
	// skipped because a job never runs twice at once (SetSkippedRuns).
	SkippedRuns int64
	// Snapshot describes the snapshot this pass writes (backupKind=
	// snapshot); its Prefix is "" for every other pass.
	Snapshot Snapshot
}

// Snapshot is a pass's dated copy of the source (backupKind=snapshot).
// It is complete once its manifest object is written (Complete set);
// retention or the next complete snapshot may remove it later (Removed
// set, the manifest deleted before any object).
type Snapshot struct {
	Prefix string // destination prefix the pass writes under, template resolved
	// Base: the pass and prefix of the complete snapshot whose copies
	// the pass copies server-side for unchanged objects; 0 and "" for none.
	Base       uint64
	BasePrefix string
	// Complete: when the manifest object was written; Objects and Bytes
	// are what it lists.
	Complete       time.Time
	Objects, Bytes int64
	// Removed: when its removal finished, Why says why (retention's
	// reasons, or an incomplete snapshot superseded). Removing: the
	// removal started (manifest deleted) and has not finished.
	Removed  time.Time
	Removing bool
	Why      string
}

// ShardState is where a shard stands. Pending is the zero value.
type ShardState uint8

const (
	ShardPending ShardState = iota
	ShardDone
	ShardFailed
	// ShardAny is not a state: it makes Shards iterate every shard.
	ShardAny ShardState = 255
)

func (s ShardState) String() string {
	switch s {
	case ShardPending:
		return "pending"
	case ShardDone:
		return "done"
	case ShardFailed:
		return "failed"
	case ShardAny:
		return "any"
	}
	return "invalid"
}

func (s ShardState) valid() bool { return s <= ShardFailed }

// ShardRecord is a stored shard with its state.
type ShardRecord struct {
	task.Shard
	State     ShardState
	Attempts  int
	LastError string
}

// Entry is a manifest entry: the latest result for one source key.
// StatusUnknown marks an entry RequeueFailed put back in the queue.
type Entry struct {
	task.Result
	Pass    uint64 // pass the result belongs to
	Updated time.Time
}

// ScanCheckpoint is how far the scan of one listing stream got in a pass.
type ScanCheckpoint struct {
	Stream string // a listing stream, e.g. a top-level prefix
	After  string // last key listed and sharded (or skipped); resume after it
	Done   bool   // the stream is fully listed
}
