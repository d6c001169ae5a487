package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// Skip reasons, as they appear in Result.Reason.
const (
	ReasonSameCRC64 = "destination has same size and CRC64"
	ReasonNewer     = "destination has same size and is newer or as new"
)

// checkSkip applies the skip rules (OssImport's isSkipExistFile, with
// CRC64 where both sides have one): the destination is left alone when it
// has the same size and either the same CRC64 or a modification time at or
// after the source's. A destination that does not exist is copied.
//
// The CRC64 rule is proof and wins over timestamps both ways: when both
// CRC64s are known and differ, the contents differ, and the object is copied
// even if the destination is newer.
func (c *Copier) checkSkip(ctx context.Context, obj task.Object) (outcome, bool, error) {
	dst, err := c.o.Dst.Stat(ctx, obj.Dest)
	if errors.Is(err, storage.ErrNotFound) {
		return outcome{}, false, nil
	}
	if err != nil {
		return outcome{}, false, fmt.Errorf("skip check: %w", err)
	}
	if dst.Size != obj.Size {
		return outcome{}, false, nil
	}
	srcCRC, srcHas := obj.CRC64, obj.HasCRC64
	if dst.HasCRC64 && !srcHas {
		// Listings carry no CRC64; one HEAD of the source is far cheaper
		// than the copy it may save.
		src, err := c.o.Src.Stat(ctx, obj.Key)
		if err != nil {
			return outcome{}, false, fmt.Errorf("skip check: %w", err)
		}
		if src.Size != obj.Size {
			return outcome{}, false, nil // changed since the listing: copy it
		}
		srcCRC, srcHas = src.CRC64, src.HasCRC64
	}
	res := task.Result{Status: task.StatusSkipped, DestETag: dst.ETag}
	switch {
	case dst.HasCRC64 && srcHas && dst.CRC64 == srcCRC:
		res.Method, res.Reason = task.MethodCRC64, ReasonSameCRC64
		res.CRC64, res.HasCRC64 = dst.CRC64, true
		return outcome{res: res}, true, nil
	case dst.HasCRC64 && srcHas:
		return outcome{}, false, nil // same size, different bytes
	case !obj.ModTime.IsZero() && !dst.ModTime.IsZero() &&
		!dst.ModTime.Truncate(time.Second).Before(obj.ModTime.Truncate(time.Second)):
		// Only the size was compared; the mtime says the destination is
		// not older, which is OssImport's rule and what keeps an
		// incremental pass from clobbering objects the new side wrote.
		// Whole seconds: S3's Last-Modified has no more, so a copy made
		// in the same second as a local source file would look older.
		res.Method, res.Reason = task.MethodSize, ReasonNewer
		return outcome{res: res}, true, nil
	}
	return outcome{}, false, nil
}
