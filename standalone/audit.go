package standalone

import (
	"context"
	"errors"
	"time"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
)

var (
	errStop      = errors.New("stop")
	failedStatus = task.StatusFailed
)

// audit compares source and destination without copying: every source
// object is recorded verified (with the method that held) or failed with
// what differs; objects only at the destination are logged as extra.
func (r *run) audit(ctx context.Context) (*Report, error) {
	filter, err := master.NewFilter(r.job.ImportSince, r.job.Include, r.job.Exclude)
	if err != nil {
		return nil, err
	}
	stop := r.progressLoop(ctx)
	var batch []task.Result
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := r.st.Report(r.job.Name, r.pass.N, batch)
		batch = batch[:0]
		return err
	}
	sum, err := master.Audit(ctx, master.AuditConfig{
		Job: r.job.Name, Src: r.src, Dst: r.dst, SrcPrefix: r.job.Src.Prefix, DestPrefix: r.job.Dest.Prefix,
		Filter: filter, Deep: true, PartSize: r.job.PartSize,
	}, func(res task.Result) error {
		batch = append(batch, res)
		if len(batch) >= 1000 {
			return flush()
		}
		return nil
	}, func(key string) error {
		r.opt.Log.Warn("audit: object only at the destination", "key", key)
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = r.st.FinishScan(r.job.Name, r.pass.N)
	}
	if err == nil {
		_, err = r.st.FinishPass(r.job.Name, r.pass.N, time.Now())
	}
	stop()
	rep := r.report()
	rep.Extra = sum.Extra
	return rep, err
}
