package jobcopier

import (
	"context"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
)

// probeTimeout bounds the probe of create-only writes (about 20 small
// requests, storage.ProbeConditions).
const probeTimeout = 30 * time.Second

// CreateOnlyEnforced probes whether dst refuses a create-only write over an
// existing object, so the copier may write without looking first
// (worker.Options.CreateOnlyEnforced). Only a refusal seen counts: a probe
// that fails or cannot tell says no, and the copier looks first, as always.
// A job whose policy is always, or an audit, writes nothing create-only and
// is not probed. ferry plan asks too, to predict the copier's requests.
// Workers of a master mostly need not ask: the master probed when the job
// started and hands its answer on (New's createOnly).
func CreateOnlyEnforced(ctx context.Context, j *conf.Job, dst storage.Backend) bool {
	if !j.WritesConditionally() {
		return false
	}
	key := storage.ProbeKey(j.DestStaticPrefix())
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	got, err := storage.ProbeConditions(ctx, dst, key)
	return err == nil && got.PutIfAbsent
}
