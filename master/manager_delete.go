package master

import (
	"context"
	"fmt"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// watchDeletes ends a pass of a job with deleteExtraneous=true: once every
// shard is done (the coordinator holds the pass open), it propagates
// deletes, then finishes the pass. Deleting is a destination write by the
// master, but it reads no object bytes: a listing, manifest lookups and
// DELETE requests. Because the pass stays unfinished until the deletes
// are done, a restarted master resumes it and runs them again: records
// are written before each delete, deletes are idempotent, so an
// interrupted run is finished, not lost.
func (m *Manager) watchDeletes(ctx context.Context, jr *jobRun, cfg *conf.Job, dst storage.Backend, coord *Coordinator, pass uint64) {
	defer m.wg.Done()
	select {
	case <-ctx.Done():
		return
	case <-coord.Copied():
	}
	if !m.untilDone(ctx, jr, pass, "delete propagation", func() error {
		return m.propagateDeletes(ctx, cfg, dst, pass)
	}) {
		return
	}
	if !m.untilDone(ctx, jr, pass, "finishing the pass", coord.Finish) {
		return
	}
	m.passDone(jr, pass)
}

// propagateDeletes deletes (or, in a dry run or when the guard stops it,
// records) the destination objects with no source object in the pass.
// It counts them all before deleting any, so the guard decides on the
// whole set.
func (m *Manager) propagateDeletes(ctx context.Context, cfg *conf.Job, dst storage.Backend, pass uint64) error {
	p, _, err := m.st.GetPass(cfg.Name, pass)
	if err != nil {
		return err
	}
	log := m.log.With("job", cfg.Name, "pass", pass)
	switch {
	case p.Failed > 0 || p.ShardsFailed > 0:
		// A failed object has no result in the pass, so its destination
		// copy would look extraneous: never delete on a partial pass.
		log.Warn("delete propagation skipped: the pass has failures", "failed_objects", p.Failed, "failed_shards", p.ShardsFailed)
		return nil
	case p.Problem != "":
		return nil // the guard already stopped this pass (before a restart)
	}

	// Count. Objects deleted earlier in this pass (before a restart) are
	// in p.Deleted and no longer listed; one still listed despite its
	// record is counted there only.
	var found, stillListed int64
	listed, err := m.walkExtras(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
		for _, x := range batch {
			if x.entry.Status == task.StatusDeleted {
				stillListed++
			} else {
				found++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	total := found + p.Deleted
	why := deleteGuard(cfg.Deletes, total, listed+p.Deleted-stillListed)
	if cfg.Deletes.DryRun {
		// A dry run is for looking before deleting: it lists even what
		// the guard would stop, and says so.
		reason := fmt.Sprintf("dry run: no source object in pass %d", pass)
		if why != "" {
			reason += "; a real run would stop: " + why
		}
		log.Info("delete propagation: dry run", "would_delete", total, "guard", why)
		return m.recordExtras(ctx, cfg, dst, pass, task.StatusWouldDelete, reason)
	}
	if why != "" {
		// Deletions recorded in this pass before a restart can only be
		// there if the destination gained extras since: say so.
		if p.Deleted > 0 {
			why += fmt.Sprintf("; %d were deleted earlier in this pass, before the master restarted, nothing more", p.Deleted)
		} else {
			why += "; nothing was deleted"
		}
		log.Error("delete propagation stopped by the guard", "reason", why)
		if err := m.recordExtras(ctx, cfg, dst, pass, task.StatusWouldDelete, "not deleted: "+why); err != nil {
			return err
		}
		return m.st.SetPassProblem(cfg.Name, pass, "delete propagation stopped: "+why)
	}
	var added int64
	_, err = m.walkExtras(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
		for _, x := range batch {
			if x.entry.Status != task.StatusDeleted {
				added++
			}
		}
		// The destination may have gained objects since the count: never
		// delete more than the guard was asked about.
		if p.Deleted+added > total {
			return fmt.Errorf("the destination gained objects with no source while deleting (counted %d): counting again", total)
		}
		if err := m.st.Report(cfg.Name, pass, deleteRecords(batch, task.StatusDeleted, fmt.Sprintf("no source object in pass %d", pass))); err != nil {
			return err
		}
		for _, x := range batch {
			if err := dst.Delete(ctx, x.obj.Key); err != nil {
				return fmt.Errorf("deleting %q: %w", x.obj.Key, err)
			}
		}
		return nil
	})
	if err == nil {
		log.Info("delete propagation done", "deleted", total)
	}
	return err
}

// recordExtras records every extra destination object with status and
// reason, deleting nothing.
func (m *Manager) recordExtras(ctx context.Context, cfg *conf.Job, dst storage.Backend, pass uint64, status task.Status, reason string) error {
	_, err := m.walkExtras(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
		return m.st.Report(cfg.Name, pass, deleteRecords(batch, status, reason))
	})
	return err
}

// deleteRecords are the manifest entries of extra destination objects,
// keyed by the source key each would have; Dest, Size and DestETag
// describe the destination object.
func deleteRecords(batch []extraObject, status task.Status, reason string) []task.Result {
	out := make([]task.Result, len(batch))
	for i, x := range batch {
		out[i] = task.Result{Key: x.src, Dest: x.obj.Key, Status: status, Reason: reason,
			Size: x.obj.Size, ModTime: x.obj.ModTime, DestETag: x.obj.ETag}
	}
	return out
}

// deleteGuard says why total deletions out of destObjects exceed the
// job's limits, or "" when they do not.
func deleteGuard(d conf.Deletes, total, destObjects int64) string {
	switch {
	case total > int64(d.MaxCount):
		return fmt.Sprintf("%d destination objects have no source object, more than deleteMaxCount=%d (raise the limit, or check the source, then run the job again)", total, d.MaxCount)
	case destObjects > 0 && float64(total)*100 > d.MaxPercent*float64(destObjects):
		return fmt.Sprintf("%d of %d destination objects (%.1f%%) have no source object, more than deleteMaxPercent=%g (raise the limit, or check the source, then run the job again)",
			total, destObjects, float64(total)*100/float64(destObjects), d.MaxPercent)
	}
	return ""
}
