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
	m.afterCopy(ctx, jr, coord, pass, "delete propagation", func() error {
		return m.extras.propagateDeletes(ctx, cfg, dst, pass)
	})
}

// afterCopy ends a held pass (CoordinatorConfig.Hold): once every shard
// is done, it runs the master's own step, retried until done (untilDone),
// then finishes the pass. Called as the pass's watcher goroutine.
func (m *Manager) afterCopy(ctx context.Context, jr *jobRun, coord *Coordinator, pass uint64, what string, step func() error) {
	defer m.wg.Done()
	select {
	case <-ctx.Done():
		return
	case <-coord.Copied():
	}
	if !m.untilDone(ctx, jr, pass, what, step) {
		return
	}
	if !m.untilDone(ctx, jr, pass, "finishing the pass", coord.Finish) {
		return
	}
	m.passDone(jr, pass)
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
