package master

import (
	"context"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
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
		if extra, err = m.extras.count(ctx, cfg, dst, filter, pass); err != nil {
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
