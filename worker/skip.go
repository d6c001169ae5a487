package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// look checks the destination (and, when a digest there could prove the
// object identical, the source) and applies the overwrite policy (decide).
// Every policy looks, always included: an identical object is never
// rewritten, which costs one HEAD per object.
func (c *Copier) look(ctx context.Context, obj task.Object) (decision, error) {
	s := sides{
		src: storage.ObjectInfo{Key: obj.Key, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag,
			CRC64: obj.CRC64, HasCRC64: obj.HasCRC64},
		manifestCRC64: obj.ManifestCRC64, hasManifest: obj.HasManifestCRC64, priorDestETag: obj.PriorDestETag,
		trustETags: c.o.Settings.Verify != task.VerifySize && c.o.Settings.Verify != task.VerifyOff,
	}
	dst, err := c.o.Dst.Stat(ctx, obj.Dest)
	switch {
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrInvalidKey):
		// A key the destination cannot hold is left to the write to
		// report, which tells a directory marker from a failure.
		d := decide(c.o.Settings.Overwrite, s)
		d.src, d.absent = s.src, errors.Is(err, storage.ErrNotFound)
		return d, nil
	case errors.Is(err, storage.ErrAccessDenied):
		// Credentials that may write but not read (or wrong ones: a HEAD
		// answer has no body to say which). Write as if nothing were
		// there, create-only unless the policy is always: an existing
		// object refuses it and is kept, and bad credentials meet the
		// write's fatal answer instead of failing each object alone.
		d := decide(c.o.Settings.Overwrite, s)
		d.src, d.unchecked = s.src, true
		return d, nil
	case err != nil:
		return decision{}, fmt.Errorf("destination check: %w", err)
	}
	s.dst = &dst
	if dst.Size == obj.Size && (dst.HasCRC64 && !obj.HasCRC64 || dst.Checksum != "") {
		// Listings carry no digest; one HEAD of the source is far cheaper
		// than the copy it may save.
		src, err := c.o.Src.Stat(ctx, obj.Key)
		if err != nil {
			return decision{}, fmt.Errorf("source check: %w", err)
		}
		s.src = src
	}
	d := decide(c.o.Settings.Overwrite, s)
	d.src, d.seen = s.src, dst
	return d, nil
}

// skipped is the Result of a decision not to write: identical is
// verified (the destination proven to hold the source's bytes, as a copy
// would be), kept is skipped.
func skipped(d decision) task.Result {
	res := task.Result{Status: task.StatusSkipped, Reason: d.reason, DestETag: d.seen.ETag}
	switch d.act {
	case actIdentical:
		res.Status, res.Outcome, res.Method = task.StatusVerified, task.OutcomeIdentical, d.method
		switch {
		case d.seen.HasCRC64:
			res.CRC64, res.HasCRC64 = d.seen.CRC64, true
		case d.src.HasCRC64:
			res.CRC64, res.HasCRC64 = d.src.CRC64, true
		}
	case actKeep:
		res.Outcome = task.OutcomeKept
	}
	return res
}
