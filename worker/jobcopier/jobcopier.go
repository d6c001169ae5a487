// Package jobcopier builds the copier for a job from its config: the one
// place that turns a conf.Job into a worker.Copier, for a cluster worker
// (worker/client) and an in-process worker alike. Package worker itself
// knows nothing of configs (DESIGN §2): it takes task.CopySettings.
package jobcopier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/worker"
)

// New opens j's source and destination (creating a local destination
// directory) and returns a copier with j's copy settings. o carries what
// the caller owns (throttle, upload store, progress, OnThrottled, clock);
// its Src, Dst and Settings are set from j.
//
// o.OnThrottled also hears every SlowDown that the retry layer below the
// copier absorbs, not only those that fail an attempt: a cluster worker
// reports them all, and the master backs the whole job off on them.
// o.OnRetry hears every retry of that layer.
//
// createOnly, if not nil, is the master's answer to CreateOnlyEnforced
// (its probe when the job started): the copier takes it instead of
// probing the destination again. Nil (no answer came) probes.
func New(ctx context.Context, j *conf.Job, o worker.Options, createOnly *bool) (*worker.Copier, error) {
	src, dst := j.Src, j.Dest
	if o.OnThrottled != nil || o.OnRetry != nil {
		onRetry := func(_, _ string, _ int, _ time.Duration, err error) {
			if o.OnRetry != nil {
				o.OnRetry(err)
			}
			if o.OnThrottled != nil && errors.Is(err, storage.ErrThrottled) {
				o.OnThrottled()
			}
		}
		src.Retry.OnRetry, dst.Retry.OnRetry = onRetry, onRetry
	}
	var err error
	if o.Src, err = backends.Open(ctx, src); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if o.Dst, err = backends.OpenDest(ctx, dst); err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	o.Settings = j.CopySettings
	if createOnly != nil {
		o.CreateOnlyEnforced = *createOnly
	} else {
		o.CreateOnlyEnforced = CreateOnlyEnforced(ctx, j, o.Dst)
	}
	return worker.NewCopier(o)
}
