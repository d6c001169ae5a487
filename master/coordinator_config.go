package master

import (
	"log/slog"
	"time"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// Store is what the coordinator needs from the tracker.
type Store interface {
	ScanStore
	GetPass(job string, n uint64) (tracker.Pass, bool, error)
	FinishScan(job string, n uint64) error
	FinishPass(job string, n uint64, finished time.Time) (tracker.Pass, error)
	Shards(job string, n uint64, state tracker.ShardState, fn func(tracker.ShardRecord) error) error
	GetShard(job string, n, id uint64) (tracker.ShardRecord, bool, error)
	SetShardState(job string, n, id uint64, state tracker.ShardState, attempts int, lastErr string) error
	Report(job string, n uint64, results []task.Result) error
}

// CoordinatorConfig tunes a coordinator.
type CoordinatorConfig struct {
	Job          string
	Pass         uint64
	LeaseTTL     time.Duration // default 2 minutes
	ShardRetries int           // Nacks before a shard's objects fail (default 3)
	Now          func() time.Time
	Log          *slog.Logger
	// Tokens, when set, issues lease tokens (see Broker.SetTokens).
	Tokens func() uint64
	// Counts, when set, counts the pass's lease grants and expiries (see
	// Broker.SetCounts).
	Counts *LeaseCounts
	// Queued, when set, hears how many shards were queued each time some
	// are (see Broker.SetQueued).
	Queued func(n int)
	// Audit: the pass compares and copies nothing; grants say so, and carry
	// the manifest's CRC64 of each object's source version.
	Audit bool
	// Hold: the pass's end is the caller's. When every shard is done,
	// Copied is closed and the pass stays open until Finish, so work the
	// master does after the copy (delete propagation) is resumed by a
	// restarted master as part of the same pass.
	Hold bool
	// Copyable are the snapshots a snapshot pass copies unchanged objects
	// from, inside the destination, by pass; nil for none (see
	// Manager.copyable).
	Copyable map[uint64]string
	// NeedCRC64: every object's result must carry its CRC64 (a snapshot
	// pass: its manifest records them); grants say so per object.
	NeedCRC64 bool
}
