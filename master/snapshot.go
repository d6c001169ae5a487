package master

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// A snapshot job (backupKind=snapshot) makes every pass a complete, dated
// copy of the source under the prefix its destPrefix template resolves
// to at the pass's start. The pass record keeps that prefix and the base
// snapshot chosen then, so a restarted master resumes the same snapshot
// against the same base: a snapshot interrupted by a crash is completed
// by the resumed pass, never abandoned. Objects unchanged since the base
// are granted with CopyFrom (Coordinator.grant): the worker copies them
// inside the destination. Once every shard is done with no failure the
// master writes the manifest object, the snapshot is complete, and
// retention runs; see watchSnapshot.

// snapshotPass fixes pass p's snapshot: its prefix and base, resolved
// and recorded when the pass is new, read back when it is resumed. It
// also returns the snapshots whose copies the pass may copy from: the
// base, and the incomplete snapshots since, which are no backup (never
// a base, never counted) but whose objects were each verified like any
// copy. After a snapshot that failed on one object, the next copies the
// rest inside the destination instead of reading the whole source again;
// each such copy is checked against the manifest's record of it as any
// server-side copy is.
func (m *Manager) snapshotPass(cfg *conf.Job, p tracker.Pass) (tracker.Snapshot, map[uint64]string, error) {
	var (
		base  tracker.Pass
		taken = map[string]uint64{}
		after []tracker.Pass // incomplete snapshots, oldest first
	)
	err := m.st.Passes(cfg.Name, func(q tracker.Pass) error {
		if q.N >= p.N || q.Snapshot.Prefix == "" {
			return nil
		}
		taken[q.Snapshot.Prefix] = q.N
		switch s := q.Snapshot; {
		case usableBase(q):
			base, after = q, nil
		case s.Complete.IsZero() && s.Removed.IsZero() && !s.Removing:
			after = append(after, q)
		}
		return nil
	})
	if err != nil {
		return tracker.Snapshot{}, nil, err
	}
	sn := p.Snapshot
	if sn.Prefix == "" {
		if sn, err = m.newSnapshot(cfg, p, base, taken); err != nil {
			return tracker.Snapshot{}, nil, err
		}
	}
	from := map[uint64]string{}
	if sn.Base != 0 {
		from[sn.Base] = sn.BasePrefix
	}
	for _, q := range after {
		if q.N > sn.Base {
			from[q.N] = q.Snapshot.Prefix
		}
	}
	return sn, from, nil
}

// newSnapshot resolves and records the prefix and base of a new
// snapshot pass.
func (m *Manager) newSnapshot(cfg *conf.Job, p, base tracker.Pass, taken map[string]uint64) (tracker.Snapshot, error) {
	prefix := cfg.Snapshot.Resolve(p.Started.In(scheduleZone(cfg)), p.N)
	if n, dup := taken[prefix]; dup {
		// Runs closer together than the template's layout can tell
		// apart: keep both, under distinct prefixes, and say so.
		alt := strings.TrimSuffix(prefix, "/") + "-pass" + strconv.FormatUint(p.N, 10) + "/"
		m.log.Warn("snapshot prefix already used: the destPrefix template's time layout is too coarse for the schedule; add seconds or {pass}",
			"job", cfg.Name, "pass", p.N, "prefix", prefix, "used_by_pass", n, "using", alt)
		prefix = alt
	}
	sn := tracker.Snapshot{Prefix: prefix}
	if base.N != 0 {
		sn.Base, sn.BasePrefix = base.N, base.Snapshot.Prefix
	}
	if err := m.st.SetSnapshot(cfg.Name, p.N, sn); err != nil {
		return tracker.Snapshot{}, err
	}
	m.log.Info("snapshot started", "job", cfg.Name, "pass", p.N, "prefix", prefix, "base", sn.BasePrefix)
	return sn, nil
}

// usableBase: q's snapshot is complete and still there to copy from.
func usableBase(q tracker.Pass) bool {
	s := q.Snapshot
	return s.Prefix != "" && !s.Complete.IsZero() && s.Removed.IsZero() && !s.Removing
}

// scheduleZone is where a job's times are read: its schedule's zone.
func scheduleZone(cfg *conf.Job) *time.Location {
	if loc, err := time.LoadLocation(cfg.ScheduleZone); err == nil && cfg.ScheduleZone != "" {
		return loc
	}
	return time.UTC
}

// watchSnapshot ends a snapshot pass: once every shard is done, a pass
// with no failure gets its manifest object (written last: only then is
// the snapshot complete) and retention runs; then the incomplete
// snapshots before it are removed (their verified copies were what this
// pass could copy from) and the pass finishes. A pass with failures
// finishes failed without a manifest: its snapshot stays incomplete, is
// never a base, and a later snapshot removes it unless `ferry retry`
// completes it first. Each step is
// idempotent, so a master restarted anywhere in between redoes what is
// left as part of the same pass.
func (m *Manager) watchSnapshot(ctx context.Context, jr *jobRun, cfg *conf.Job, dst storage.Backend, coord *Coordinator, pass uint64) {
	m.afterCopy(ctx, jr, coord, pass, "completing the snapshot", func() error {
		return m.completeSnapshot(ctx, cfg, dst, pass)
	})
}

// completeSnapshot writes pass's manifest, then prunes.
func (m *Manager) completeSnapshot(ctx context.Context, cfg *conf.Job, dst storage.Backend, pass uint64) error {
	p, _, err := m.st.GetPass(cfg.Name, pass)
	if err != nil {
		return err
	}
	log := m.log.With("job", cfg.Name, "pass", pass, "prefix", p.Snapshot.Prefix)
	if p.Failed > 0 || p.ShardsFailed > 0 {
		log.Warn("snapshot incomplete: the pass has failures, so no manifest is written; it is not a backup (ferry retry completes it; a later snapshot removes it)",
			"failed_objects", p.Failed, "failed_shards", p.ShardsFailed)
		return m.prune(ctx, cfg, dst, pass, false)
	}
	if p.Snapshot.Complete.IsZero() {
		sn, err := m.writeManifest(ctx, cfg, dst, p)
		if err != nil {
			return fmt.Errorf("writing the manifest of snapshot %s: %w", p.Snapshot.Prefix, err)
		}
		if err := m.st.SetSnapshot(cfg.Name, pass, sn); err != nil {
			return err
		}
		log.Info("snapshot complete", "objects", sn.Objects, "bytes", sn.Bytes,
			"server_side_copies", p.ServerCopied, "bytes_read_from_source", p.BytesRead)
	}
	return m.prune(ctx, cfg, dst, pass, true)
}

// writeManifest writes the manifest object of pass p's snapshot: every
// object the pass verified under the snapshot's prefix, in key order.
func (m *Manager) writeManifest(ctx context.Context, cfg *conf.Job, dst storage.Backend, p tracker.Pass) (tracker.Snapshot, error) {
	sn := p.Snapshot
	h := snapshot.Header{Job: cfg.Name, Pass: p.N, Prefix: sn.Prefix, Started: p.Started, Base: sn.BasePrefix}
	tr, err := snapshot.Put(ctx, dst, h, snapshot.PutOptions{TempDir: m.cfg.DataDir, Now: m.now}, func(w *snapshot.Writer) error {
		return m.st.Manifest(cfg.Name, task.StatusVerified, "", func(e tracker.Entry) error {
			if e.Pass != p.N || !strings.HasPrefix(e.Dest, sn.Prefix) {
				return nil // an object the source no longer has, or another pass's
			}
			return w.Add(snapshot.Entry{Key: strings.TrimPrefix(e.Dest, sn.Prefix), Size: e.Size, ModTime: e.ModTime,
				CRC64: e.CRC64, HasCRC64: e.HasCRC64, ETag: e.ETag, DestETag: e.DestETag})
		})
	})
	if err != nil {
		return sn, err
	}
	sn.Complete, sn.Objects, sn.Bytes = tr.Finished, tr.Objects, tr.Bytes
	if sn.Complete.IsZero() {
		sn.Complete = m.now()
	}
	return sn, nil
}
