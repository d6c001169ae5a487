package worker

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// Audit outcomes, as they appear in Result.Reason and Class.
const (
	// ClassAudit is the Class of an object the audit found different.
	ClassAudit = "audit"
	// ReasonMissing: the source object has no copy at the destination.
	ReasonMissing = "missing at destination"
)

// Audit compares obj with its copy at the destination and copies nothing
// (jobType=audit, DESIGN §3: the audit runs on workers so that the master
// never reads object bytes). Stored checksums decide first, one HEAD on
// each side: CRC64 (OSS) against the source's or, failing that, the
// manifest's CRC64 of this source version (obj.ManifestCRC64), then the
// store's own checksum of the same algorithm on both sides, then MD5
// ETags. Only where none of them is comparable and the destination reports
// a digest the source can be hashed into (a local source against a
// multipart ETag, say) is the source read, once; Result.BytesRead counts
// those bytes. Where nothing can be compared, the sizes decide, unless
// verify=reread: then the destination is read back too (and counted) and
// the CRC64s of both sides compared.
//
// The Result is Verified with the method that decided, or Failed with
// Class "audit" and what differs; an error that prevents the comparison
// fails the object with the error's class. The error is non-nil only when
// the job cannot go on (a fatal error, or ctx ended), as for Copy.
func (c *Copier) Audit(ctx context.Context, job string, obj task.Object) (task.Result, error) {
	start := c.o.Now()
	res := task.Result{Key: obj.Key, Dest: obj.Dest, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag, Attempts: 1}
	if err := c.o.Throttle.WaitObject(ctx); err != nil {
		return res, fmt.Errorf("worker: audit %q: %w", obj.Key, err)
	}
	var read atomic.Int64
	out, err := c.audit(ctx, obj, &read)
	res.BytesRead, res.Duration = read.Load(), c.o.Now().Sub(start)
	if err != nil {
		class := storage.Classify(err)
		if ctx.Err() != nil {
			class = storage.Canceled
		}
		res.Status, res.Class, res.Reason = task.StatusFailed, class.String(), err.Error()
		if class == storage.Fatal || class == storage.Canceled {
			return res, fmt.Errorf("worker: audit %q: %w", obj.Key, err)
		}
		return res, nil
	}
	res.Status, res.Method, res.Reason, res.DestETag = out.Status, out.Method, out.Reason, out.DestETag
	res.CRC64, res.HasCRC64 = out.CRC64, out.HasCRC64
	if out.Status == task.StatusFailed {
		res.Class = ClassAudit
	}
	fillSource(&res, obj, out.src)
	return res, nil
}

// auditOutcome is what one comparison found.
type auditOutcome struct {
	task.Result // Status, Method, Reason, DestETag, CRC64
	src         storage.ObjectInfo
}

func (c *Copier) audit(ctx context.Context, obj task.Object, read *atomic.Int64) (auditOutcome, error) {
	dst, err := c.o.Dst.Stat(ctx, obj.Dest)
	if errors.Is(err, storage.ErrNotFound) {
		return differs(storage.ObjectInfo{}, dst, ReasonMissing), nil
	}
	if err != nil {
		return auditOutcome{}, fmt.Errorf("audit: %w", err)
	}
	src, err := c.o.Src.Stat(ctx, obj.Key)
	if err != nil {
		return auditOutcome{}, fmt.Errorf("audit: %w", err)
	}
	if src.Size != dst.Size {
		return differs(src, dst, fmt.Sprintf("size differs: source %d, destination %d", src.Size, dst.Size)), nil
	}
	mode := c.o.Settings.Verify
	stored, fromManifest := storedSums(obj, src, dst)
	method, err := VerifyDest(mode, stored, dst)
	if err != nil {
		who := "source"
		if fromManifest {
			who = "manifest (what ferry read from this source version)"
		}
		return mismatch(src, dst, who, err)
	}
	if method == task.MethodCRC64 && fromManifest {
		method = task.MethodManifestCRC64
	}
	out := auditOutcome{Result: task.Result{Status: task.StatusVerified, Method: method, DestETag: dst.ETag,
		CRC64: stored.CRC64, HasCRC64: stored.HasCRC64}, src: src}
	if method != task.MethodSize {
		return out, nil
	}
	reread := mode == task.VerifyReread
	if plan, ps, ok := c.readPlan(mode, dst); ok || reread && !stored.HasCRC64 {
		if out, err = c.auditRead(ctx, obj, src, dst, plan, ps, read); err != nil || out.Method != task.MethodSize {
			return out, err
		}
	}
	if !reread {
		return out, nil
	}
	// verify=reread: nothing stored decided, so the destination is read
	// back and its CRC64 compared with the source's.
	out.Method, err = c.rereadCounted(ctx, obj.Dest, Sums{Size: src.Size, CRC64: out.CRC64}, read)
	if err != nil {
		return mismatch(src, dst, "source", err)
	}
	return out, nil
}

// storedSums describes the source from what is stored about it, without
// reading it: its CRC64 (its own, else the manifest's for this version),
// its checksum where the destination keeps one of the same algorithm (for
// VerifyDest, which compares a declared checksum with the destination's),
// and its MD5 ETag. fromManifest says the CRC64 is the manifest's.
func storedSums(obj task.Object, src, dst storage.ObjectInfo) (s Sums, fromManifest bool) {
	s.Size = src.Size
	switch {
	case src.HasCRC64:
		s.CRC64, s.HasCRC64 = src.CRC64, true
	case obj.HasCRC64 && sameVersion(obj, src):
		s.CRC64, s.HasCRC64 = obj.CRC64, true
	case obj.HasManifestCRC64 && sameVersion(obj, src):
		s.CRC64, s.HasCRC64, fromManifest = obj.ManifestCRC64, true, true
	}
	if sa, _, err := storage.ParseChecksum(src.Checksum); err == nil {
		if da, _, err := storage.ParseChecksum(dst.Checksum); err == nil && sa == da {
			s.Declared = src.Checksum
		}
	}
	if storage.IsMD5ETag(src.ETag) {
		s.MD5 = decodeMD5(src.ETag)
	}
	return s, fromManifest
}

// sameVersion: the source as stated now is the version obj was listed as
// (a CRC64 taken from the listing or the manifest describes that one).
func sameVersion(obj task.Object, src storage.ObjectInfo) bool {
	if src.Size != obj.Size {
		return false
	}
	if !obj.ModTime.IsZero() && !src.ModTime.IsZero() && !obj.ModTime.Equal(src.ModTime) {
		return false
	}
	return obj.ETag == "" || src.ETag == "" || storage.ETagEqual(obj.ETag, src.ETag)
}

func differs(src, dst storage.ObjectInfo, reason string) auditOutcome {
	return auditOutcome{Result: task.Result{Status: task.StatusFailed, Reason: reason, DestETag: dst.ETag}, src: src}
}

// mismatch turns VerifyDest's MismatchError into the audit's wording; any
// other error is returned as it is.
func mismatch(src, dst storage.ObjectInfo, who string, err error) (auditOutcome, error) {
	var me *MismatchError
	if !errors.As(err, &me) {
		return auditOutcome{}, fmt.Errorf("audit: %w", err)
	}
	what := map[string]string{"crc64": "CRC64", "md5": "MD5 ETag", "multipart-etag": "multipart ETag", "checksum": "checksum",
		"reread": "content read back"}[me.Check]
	if what == "" {
		what = me.Check
	}
	reason := fmt.Sprintf("%s differs: %s %s, destination %s", what, who, me.Want, me.Got)
	if me.Hint != "" {
		reason += " (" + me.Hint + ")"
	}
	return differs(src, dst, reason), nil
}
