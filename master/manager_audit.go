package master

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// auditLogExtras is how many destination-only objects an audit names in
// the log: the first ones show the problem, the count says the rest.
const auditLogExtras = 100

// watchAudit waits for an audit pass (jobType=audit) to finish, then
// counts the objects found only at the destination, then ends the pass.
//
// The comparing is done by workers, shard by shard (Grant.Audit), so the
// master reads no object bytes (DESIGN §3). Objects only at the
// destination cannot be found from the source's shards; the master lists
// the destination (a listing, never a read) once every source object in
// scope has its result for this pass in the manifest, and looks each
// destination key's source key up there: no entry of this pass means no
// such source object. That costs one destination listing and batched
// manifest reads, not a second listing of the source.
func (m *Manager) watchAudit(ctx context.Context, jr *jobRun, cfg *conf.Job, dst storage.Backend, filter *Filter, coord *Coordinator, pass uint64) {
	defer m.wg.Done()
	select {
	case <-ctx.Done():
		return
	case <-coord.Done():
	}
	var extra int64
	if !m.untilDone(ctx, jr, pass, "audit: counting objects only at the destination", func() error {
		var err error
		if extra, err = m.countExtras(ctx, cfg, dst, filter, pass); err != nil {
			return err
		}
		return m.st.SetDestOnly(cfg.Name, pass, extra)
	}) {
		return
	}
	if extra > 0 {
		m.log.Warn("audit: objects only at the destination", "job", cfg.Name, "pass", pass, "count", extra)
	}
	m.passDone(jr, pass)
}

// countExtras counts the destination objects in scope with no source
// object in the pass, naming the first ones in the log.
func (m *Manager) countExtras(ctx context.Context, cfg *conf.Job, dst storage.Backend, filter *Filter, pass uint64) (int64, error) {
	var extra int64
	_, err := m.walkExtras(ctx, cfg, dst, filter, pass, func(batch []extraObject) error {
		for _, x := range batch {
			if extra++; extra <= auditLogExtras {
				m.log.Warn("audit: object only at the destination", "job", cfg.Name, "key", x.obj.Key)
			}
		}
		return nil
	})
	return extra, err
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

// walkExtras lists the destination under destPrefix (filter applied as to
// the source) and calls fn with each batch of objects whose source key
// has no result of pass in the manifest. It returns how many destination
// objects it listed in scope.
//
// Every source object in scope has a result of the pass once its copy or
// audit is complete (skips and unchanged objects included), so "no result"
// means "no such source object": one destination listing and batched
// manifest reads answer it, without a second listing of the source. A
// delete record of the pass is not a result: its key is still extra.
func (m *Manager) walkExtras(ctx context.Context, cfg *conf.Job, dst storage.Backend, filter *Filter, pass uint64, fn func([]extraObject) error) (int64, error) {
	var (
		listed int64
		batch  []extraObject
		keys   []string
	)
	check := func() error {
		if len(batch) == 0 {
			return nil
		}
		known, err := m.st.Lookup(cfg.Name, keys)
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

func isDeleteRecord(s task.Status) bool {
	return s == task.StatusDeleted || s == task.StatusWouldDelete
}
