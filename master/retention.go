package master

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/tracker"
)

// prune runs at the end of snapshot pass `newest`. When that snapshot is
// complete, it applies the job's retention to the complete snapshots
// (restic's forget rules; the newest is never removed). Either way it
// removes the incomplete snapshots of earlier passes, which no snapshot
// is based on and nothing else would ever clean up: the pass that just
// ended has copied from them what it could. A removal deletes the manifest first, so a
// snapshot half removed is recognisably incomplete, never a damaged
// backup; it is recorded before it starts (Removing) and when done
// (Removed), so a master restarted in between finishes it.
func (m *Manager) prune(ctx context.Context, cfg *conf.Job, dst storage.Backend, newest uint64, newestComplete bool) error {
	var (
		complete []snapshot.Snap
		byID     = map[string]tracker.Pass{}
		remove   []tracker.Pass // with Snapshot.Why set
	)
	err := m.st.Passes(cfg.Name, func(q tracker.Pass) error {
		s := q.Snapshot
		switch {
		case s.Prefix == "" || q.N > newest || !s.Removed.IsZero():
		case s.Removing:
			remove = append(remove, q) // a removal a restart interrupted
		case !s.Complete.IsZero():
			id := strconv.FormatUint(q.N, 10)
			complete = append(complete, snapshot.Snap{ID: id, Time: q.Started})
			byID[id] = q
		case q.N < newest && !q.Finished.IsZero():
			q.Snapshot.Why = fmt.Sprintf("incomplete (no manifest); superseded by the snapshot of pass %d", newest)
			remove = append(remove, q)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if newestComplete && !cfg.Retention.IsZero() {
		for _, d := range cfg.Retention.Apply(complete, scheduleZone(cfg)) {
			q := byID[d.ID]
			if d.Keep || q.N == newest {
				continue
			}
			why := "retention " + cfg.Retention.String() + ": not kept by any rule"
			if cfg.RetentionDryRun {
				m.log.Info("retention dry run: would remove snapshot", "job", cfg.Name, "pass", q.N, "prefix", q.Snapshot.Prefix)
				if q.Snapshot.Why == "" {
					q.Snapshot.Why = "would be removed (retentionDryRun): " + why
					if err := m.st.SetSnapshot(cfg.Name, q.N, q.Snapshot); err != nil {
						return err
					}
				}
				continue
			}
			q.Snapshot.Why = why
			remove = append(remove, q)
		}
	}
	for _, q := range remove {
		if err := m.removeSnapshot(ctx, cfg, dst, q); err != nil {
			return err
		}
	}
	return nil
}

// removeSnapshot deletes q's snapshot: manifest first, then every object
// under its prefix.
func (m *Manager) removeSnapshot(ctx context.Context, cfg *conf.Job, dst storage.Backend, q tracker.Pass) error {
	sn := q.Snapshot
	log := m.log.With("job", cfg.Name, "pass", q.N, "prefix", sn.Prefix)
	if !sn.Removing {
		sn.Removing = true
		if err := m.st.SetSnapshot(cfg.Name, q.N, sn); err != nil {
			return err
		}
		log.Info("removing snapshot", "why", sn.Why)
	}
	if err := dst.Delete(ctx, snapshot.ManifestKey(sn.Prefix)); err != nil {
		return fmt.Errorf("removing snapshot %s: deleting its manifest: %w", sn.Prefix, err)
	}
	n, err := deleteUnder(ctx, dst, sn.Prefix)
	if err != nil {
		return fmt.Errorf("removing snapshot %s: %w", sn.Prefix, err)
	}
	sn.Removing, sn.Removed = false, m.now()
	if err := m.st.SetSnapshot(cfg.Name, q.N, sn); err != nil {
		return err
	}
	log.Info("snapshot removed", "objects_deleted", n, "why", sn.Why)
	return nil
}

// deleteUnder deletes every object under prefix, a listing page at a
// time: the listing never runs over keys it has deleted.
func deleteUnder(ctx context.Context, b storage.Backend, prefix string) (int64, error) {
	var n int64
	for {
		var keys []string
		err := b.List(ctx, prefix, "", func(o storage.ObjectInfo) error {
			if keys = append(keys, o.Key); len(keys) >= extrasBatch {
				return errPageFull
			}
			return nil
		})
		if err != nil && !errors.Is(err, errPageFull) {
			return n, err
		}
		for _, k := range keys {
			if err := b.Delete(ctx, k); err != nil {
				return n, err
			}
			n++
		}
		if len(keys) < extrasBatch {
			return n, nil
		}
	}
}

var errPageFull = errors.New("listing page full")
