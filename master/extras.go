package master

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// extras owns the question a finished copy or audit pass asks of the
// destination: which of its objects have no source object in the pass?
// One destination listing and batched manifest lookups answer it (walk);
// an audit counts them, delete propagation records and deletes them. It
// reads no object bytes and writes only DELETE requests and manifest
// records.
type extras struct {
	st  JobStore
	log *slog.Logger
}

// walk lists the destination under destPrefix (filter applied as to
// the source) and calls fn with each batch of objects whose source key
// has no result of pass in the manifest. It returns how many destination
// objects it listed in scope.
//
// Every source object in scope has a result of the pass once its copy or
// audit is complete (skips and unchanged objects included), so "no result"
// means "no such source object": one destination listing and batched
// manifest reads answer it, without a second listing of the source. A
// delete record of the pass is not a result: its key is still extra.
func (xs extras) walk(ctx context.Context, cfg *conf.Job, dst storage.Backend, filter *Filter, pass uint64, fn func([]extraObject) error) (int64, error) {
	var (
		listed int64
		batch  []extraObject
		keys   []string
	)
	check := func() error {
		if len(batch) == 0 {
			return nil
		}
		known, err := xs.st.Lookup(cfg.Name, keys)
		if err != nil {
			return err
		}
		extras := batch[:0]
		for _, x := range batch {
			e, ok := known[x.src]
			if ok && e.Pass == pass && !isDeleteRecord(e.Status) {
				continue
			}
			if ok && e.Pass == pass {
				x.entry = e
			}
			extras = append(extras, x)
		}
		err = fn(extras)
		batch, keys = batch[:0], keys[:0]
		return err
	}
	err := dst.List(ctx, cfg.Dest.Prefix, "", func(o storage.ObjectInfo) error {
		rel := strings.TrimPrefix(o.Key, cfg.Dest.Prefix)
		if storage.IsProbeKey(rel) {
			return nil // a worker's probe of conditional writes, gone in a moment
		}
		if filter != nil && !filter.Match(rel, o.ModTime) {
			return nil
		}
		listed++
		batch = append(batch, extraObject{src: cfg.Src.Prefix + rel, obj: o})
		keys = append(keys, cfg.Src.Prefix+rel)
		if len(batch) >= extrasBatch {
			return check()
		}
		return nil
	})
	if err == nil {
		err = check()
	}
	if err != nil {
		return listed, fmt.Errorf("job %q pass %d: listing the destination for objects with no source: %w", cfg.Name, pass, err)
	}
	return listed, nil
}

// count counts the destination objects in scope with no source
// object in the pass, naming the first ones in the log.
func (xs extras) count(ctx context.Context, cfg *conf.Job, dst storage.Backend, filter *Filter, pass uint64) (int64, error) {
	var extra int64
	_, err := xs.walk(ctx, cfg, dst, filter, pass, func(batch []extraObject) error {
		for _, x := range batch {
			if extra++; extra <= auditLogExtras {
				xs.log.Warn("audit: object only at the destination", "job", cfg.Name, "key", x.obj.Key)
			}
		}
		return nil
	})
	return extra, err
}

// record records every extra destination object with status and
// reason, deleting nothing.
func (xs extras) record(ctx context.Context, cfg *conf.Job, dst storage.Backend, pass uint64, status task.Status, reason string) error {
	_, err := xs.walk(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
		return xs.st.Report(cfg.Name, pass, deleteRecords(batch, status, reason))
	})
	return err
}

// propagateDeletes deletes (or, in a dry run or when the guard stops it,
// records) the destination objects with no source object in the pass.
// It counts them all before deleting any, so the guard decides on the
// whole set.
func (xs extras) propagateDeletes(ctx context.Context, cfg *conf.Job, dst storage.Backend, pass uint64) error {
	p, _, err := xs.st.GetPass(cfg.Name, pass)
	if err != nil {
		return err
	}
	log := xs.log.With("job", cfg.Name, "pass", pass)
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
	listed, err := xs.walk(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
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
		return xs.record(ctx, cfg, dst, pass, task.StatusWouldDelete, reason)
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
		if err := xs.record(ctx, cfg, dst, pass, task.StatusWouldDelete, "not deleted: "+why); err != nil {
			return err
		}
		return xs.st.SetPassProblem(cfg.Name, pass, "delete propagation stopped: "+why)
	}
	var added int64
	_, err = xs.walk(ctx, cfg, dst, nil, pass, func(batch []extraObject) error {
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
		if err := xs.st.Report(cfg.Name, pass, deleteRecords(batch, task.StatusDeleted, fmt.Sprintf("no source object in pass %d", pass))); err != nil {
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

// extraObject is a destination object whose source key has no result in
// the pass: no source object in scope has its key.
type extraObject struct {
	src   string             // the source key it would have, the manifest's key
	obj   storage.ObjectInfo // the destination object
	entry tracker.Entry      // the key's delete record of this pass, if any (Status 0 otherwise)
}

// extrasBatch is how many destination keys are looked up at once.
const extrasBatch = 1000

func isDeleteRecord(s task.Status) bool {
	return s == task.StatusDeleted || s == task.StatusWouldDelete
}
