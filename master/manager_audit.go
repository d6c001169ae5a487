package master

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// runAudit runs an audit pass (jobType=audit) in the master itself: it
// compares source and destination without copying, so no worker is
// needed. Re-running it after a restart is harmless (results are keyed by
// object). A failure is retried a minute later, from the start.
func (m *Manager) runAudit(ctx context.Context, jr *jobRun, cfg *conf.Job, src, dst storage.Backend, pass uint64) {
	defer m.wg.Done()
	extra, err := m.audit(ctx, cfg, src, dst, pass)
	m.mu.Lock()
	if jr.pass == pass {
		jr.auditExtra = extra
	}
	m.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		m.log.Error("audit failed; retrying in a minute", "job", cfg.Name, "pass", pass, "err", err)
		m.passEvent(cfg.Name, pass, fmt.Errorf("audit: %w", err))
		m.mu.Lock()
		if jr.pass == pass {
			jr.problem, jr.auditing = fmt.Sprintf("audit: %v (retrying)", err), false
			m.sched.RetryAt(jr.name, m.now().Add(time.Minute))
		}
		m.mu.Unlock()
		return
	}
	m.passDone(jr, pass)
}

// audit runs the comparison and returns how many objects exist only at
// the destination.
func (m *Manager) audit(ctx context.Context, cfg *conf.Job, src, dst storage.Backend, pass uint64) (int64, error) {
	filter, err := NewFilter(cfg.ImportSince, cfg.Include, cfg.Exclude)
	if err != nil {
		return 0, err
	}
	var batch []task.Result
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := m.st.Report(cfg.Name, pass, batch)
		batch = batch[:0]
		return err
	}
	var extra int64
	_, err = Audit(ctx, AuditConfig{Job: cfg.Name, Src: src, Dst: dst, SrcPrefix: cfg.Src.Prefix, DestPrefix: cfg.Dest.Prefix,
		Filter: filter, Deep: true, PartSize: cfg.PartSize,
	}, func(r task.Result) error {
		batch = append(batch, r)
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	}, func(key string) error {
		extra++
		if extra <= 100 { // the first ones name the problem; the count says the rest
			m.log.Warn("audit: object only at the destination", "job", cfg.Name, "key", key)
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = m.st.FinishScan(cfg.Name, pass)
	}
	if err == nil {
		_, err = m.st.FinishPass(cfg.Name, pass, m.now())
	}
	if err != nil {
		return extra, fmt.Errorf("job %q pass %d: %w", cfg.Name, pass, err)
	}
	if extra > 0 {
		m.log.Warn("audit: objects only at the destination", "job", cfg.Name, "count", extra)
	}
	return extra, nil
}
