package master

import (
	"time"

	"github.com/ferry-migrate/ferry/tracker"
)

// Snapshot states, as `ferry snapshots` shows them.
const (
	SnapshotRunning    = "running"    // its pass is copying
	SnapshotComplete   = "complete"   // its manifest is written: a backup
	SnapshotIncomplete = "incomplete" // its pass ended without a manifest (failures): not a backup
	SnapshotRemoving   = "removing"   // being removed (retention, or superseded)
	SnapshotRemoved    = "removed"
)

// SnapshotInfo is one snapshot of a backupKind=snapshot job.
type SnapshotInfo struct {
	Pass    uint64
	Started time.Time
	Prefix  string
	State   string
	// Complete: when the manifest was written; zero unless complete
	// (or removed after being complete).
	Complete time.Time
	// Objects and Bytes: the manifest's when complete, else what the
	// pass verified so far.
	Objects, Bytes int64
	// Base: the complete snapshot unchanged objects were copied from
	// inside the destination; 0 and "" for the first.
	Base       uint64
	BasePrefix string
	// BytesRead: bytes read from the source (new and changed objects);
	// ServerCopied(Bytes): objects and bytes the destination copied from
	// the base itself, reading nothing from the source.
	BytesRead                       int64
	ServerCopied, ServerCopiedBytes int64
	Removed                         time.Time
	// Why: why it was removed or is being removed, or what a retention
	// dry run would do; "" otherwise.
	Why string
}

// Snapshots lists the job's snapshots, oldest first. A job that is not
// a snapshot job has none.
func (m *Manager) Snapshots(job string) ([]SnapshotInfo, error) {
	if _, err := m.job(job); err != nil {
		return nil, err
	}
	var out []SnapshotInfo
	err := m.st.Passes(job, func(p tracker.Pass) error {
		if p.Snapshot.Prefix != "" {
			out = append(out, snapshotInfo(p))
		}
		return nil
	})
	return out, err
}

func snapshotInfo(p tracker.Pass) SnapshotInfo {
	s := p.Snapshot
	si := SnapshotInfo{Pass: p.N, Started: p.Started, Prefix: s.Prefix, Complete: s.Complete,
		Objects: p.Verified, Bytes: p.VerifiedBytes, Base: s.Base, BasePrefix: s.BasePrefix,
		BytesRead: p.BytesRead, ServerCopied: p.ServerCopied, ServerCopiedBytes: p.ServerCopiedBytes,
		Removed: s.Removed, Why: s.Why}
	if !s.Complete.IsZero() {
		si.Objects, si.Bytes = s.Objects, s.Bytes
	}
	switch {
	case !s.Removed.IsZero():
		si.State = SnapshotRemoved
	case s.Removing:
		si.State = SnapshotRemoving
	case !s.Complete.IsZero():
		si.State = SnapshotComplete
	case p.Finished.IsZero():
		si.State = SnapshotRunning
	default:
		si.State = SnapshotIncomplete
	}
	return si
}
