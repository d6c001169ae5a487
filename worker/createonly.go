package worker

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// Writing create-only without looking first.
//
// Every object is normally looked at (a HEAD of the destination) before it
// is written, and an absent one is then written create-only. Where the
// store is known to enforce create-only writes (Options.CreateOnlyEnforced),
// the HEAD proves nothing the write itself does not: the write is sent
// create-only straight away, and the store refuses it if anything is there.
// Only then is the object looked at and the overwrite policy applied as
// usual (identical, keep, or replace under if-match). On a fresh
// destination this saves one request of three per small object, on both
// the copier's CPU and the destination's.
//
// A refusal costs the body sent for nothing, so a destination that turns
// out to be mostly full (a rerun) goes back to looking first.

// blindWindow: after this many blind writes, the refusal rate decides
// whether the copier keeps writing blind.
const blindWindow = 64

// blindStats counts a copier's blind writes and the refusals among them.
type blindStats struct{ writes, refused atomic.Int64 }

// worth: blind writes still pay, i.e. fewer than one in eight was refused
// (each refusal costs a wasted body and the HEAD the copier then makes
// anyway, each acceptance saves one HEAD).
func (b *blindStats) worth() bool {
	w := b.writes.Load()
	return w < blindWindow || b.refused.Load()*8 < w
}

// blind reports whether run may skip the look before its first write:
// the store enforces create-only writes, the policy would write an absent
// object create-only anyway, the object is written in one request, and
// nothing known about it calls for a look (an earlier copy of ours, a
// manifest digest, a server-side copy that needs the destination absent).
func (c *Copier) blind(run *copyRun) bool {
	o := run.obj
	return c.o.CreateOnlyEnforced && c.o.Settings.Overwrite != task.OverwriteAlways &&
		o.PriorDestETag == "" && !o.HasManifestCRC64 && o.CopyFrom == "" &&
		(o.Size == 0 || o.Size < c.o.Settings.MultipartThreshold || c.mp == nil) &&
		c.blindStats.worth()
}

// refusedUnlooked handles a write refused (or its condition unsupported)
// before the destination was ever looked at: something is there. It may
// be our own copy, when an earlier blind attempt sent everything and lost
// its answer, or the retry layer resent the write: then it is compared
// with what was sent, as refused does. Anything else is looked at and the
// overwrite policy applied, exactly as if the copier had looked first.
func (c *Copier) refusedUnlooked(ctx context.Context, run *copyRun, err error) (outcome, error) {
	if run.blind && errors.Is(err, storage.ErrPrecondition) {
		c.blindStats.refused.Add(1)
	}
	ambiguous := errors.Is(err, retry.ErrRefusedAfterRetry) || run.writes > 1
	if ambiguous && run.sent != nil && errors.Is(err, storage.ErrPrecondition) {
		if now, serr := c.o.Dst.Stat(ctx, run.obj.Dest); serr == nil {
			if m, ok := c.ours(ctx, run, now); ok {
				return outcome{src: run.sentSrc, res: task.Result{
					Status: task.StatusVerified, Method: m, DestETag: now.ETag,
					CRC64: run.sent.CRC64, HasCRC64: run.sent.HasCRC64,
				}}, nil
			}
		}
	}
	run.blind, run.unlooked, run.checked, run.cond = false, false, false, storage.Condition{}
	return c.attempt(ctx, run)
}
