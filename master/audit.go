package master

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// AuditConfig says what to compare.
type AuditConfig struct {
	Job        string
	Src, Dst   storage.Backend
	SrcPrefix  string
	DestPrefix string
	Filter     *Filter
	// Deep compares CRC64 where both sides can report one (a HEAD per object
	// on each side), and reads the source to compute the digest the
	// destination reports (CRC64, MD5, multipart ETag) when the source has
	// none of its own (a local disk); without it, size and MD5 ETags only.
	Deep bool
	// PartSize is the job's multipart part size, to recompute multipart
	// ETags ("<md5 of part md5s>-N") from the source.
	PartSize int64
}

// AuditSummary counts what the audit found.
type AuditSummary struct {
	Compared, Matched, Missing, Differ, Extra int64
	Methods                                   map[task.Method]int64
}

// Audit walks source and destination listings side by side (both are in
// key order, so memory stays flat) and calls fn with one Result per source
// object: Verified with the method that held, or Failed (Class "audit")
// with what differs. Objects only at the destination go to extra.
func Audit(ctx context.Context, cfg AuditConfig, fn func(task.Result) error, extra func(key string) error) (AuditSummary, error) {
	sum := AuditSummary{Methods: map[task.Method]int64{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops both listings if we return early
	srcC, srcErr := listChan(ctx, cfg.Src, cfg.SrcPrefix)
	dstC, dstErr := listChan(ctx, cfg.Dst, cfg.DestPrefix)
	s, sok := <-srcC
	d, dok := <-dstC
	for sok || dok {
		srel, drel := strings.TrimPrefix(s.Key, cfg.SrcPrefix), strings.TrimPrefix(d.Key, cfg.DestPrefix)
		switch {
		case sok && cfg.Filter != nil && !cfg.Filter.Match(srel, s.ModTime):
			s, sok = <-srcC
			continue
		case sok && (!dok || srel < drel):
			sum.Compared++
			sum.Missing++
			if err := fn(auditResult(s, cfg.DestPrefix+srel, task.StatusFailed, "", "missing at destination")); err != nil {
				return sum, err
			}
			s, sok = <-srcC
		case dok && (!sok || drel < srel):
			if cfg.Filter == nil || cfg.Filter.Match(drel, d.ModTime) {
				sum.Extra++
				if extra != nil {
					if err := extra(d.Key); err != nil {
						return sum, err
					}
				}
			}
			d, dok = <-dstC
		default:
			sum.Compared++
			r, err := compare(ctx, cfg, s, d)
			if err != nil {
				return sum, err
			}
			if r.Status == task.StatusVerified {
				sum.Matched++
				sum.Methods[r.Method]++
			} else {
				sum.Differ++
			}
			if err := fn(r); err != nil {
				return sum, err
			}
			s, sok = <-srcC
			d, dok = <-dstC
		}
	}
	if err := errors.Join(<-srcErr, <-dstErr); err != nil {
		return sum, err
	}
	return sum, ctx.Err()
}

func compare(ctx context.Context, cfg AuditConfig, s, d storage.ObjectInfo) (task.Result, error) {
	if s.Size != d.Size {
		return auditResult(s, d.Key, task.StatusFailed, "", fmt.Sprintf("size differs: source %d, destination %d", s.Size, d.Size)), nil
	}
	if cfg.Deep {
		ss, err := cfg.Src.Stat(ctx, s.Key)
		if err != nil {
			return task.Result{}, err
		}
		ds, err := cfg.Dst.Stat(ctx, d.Key)
		if err != nil {
			return task.Result{}, err
		}
		if ss.HasCRC64 && ds.HasCRC64 {
			return crcResult(s, d.Key, ss.CRC64, ds.CRC64), nil
		}
		if !storage.IsMD5ETag(s.ETag) && (ds.HasCRC64 || storage.IsMD5ETag(ds.ETag) || partsOf(ds.ETag, s.Size, cfg.PartSize) > 0) {
			// The destination offers a digest the source cannot: read the
			// source and compute it.
			return readAndCompare(ctx, cfg, s, ds)
		}
	}
	if storage.IsMD5ETag(s.ETag) && storage.IsMD5ETag(d.ETag) {
		if !storage.ETagEqual(s.ETag, d.ETag) {
			return auditResult(s, d.Key, task.StatusFailed, "", fmt.Sprintf("MD5 ETag differs: source %s, destination %s", s.ETag, d.ETag)), nil
		}
		return auditResult(s, d.Key, task.StatusVerified, task.MethodMD5, ""), nil
	}
	return auditResult(s, d.Key, task.StatusVerified, task.MethodSize, ""), nil
}

func crcResult(s storage.ObjectInfo, dest string, src, dst uint64) task.Result {
	if src != dst {
		return auditResult(s, dest, task.StatusFailed, "", fmt.Sprintf("CRC64 differs: source %d, destination %d", src, dst))
	}
	r := auditResult(s, dest, task.StatusVerified, task.MethodCRC64, "")
	r.CRC64, r.HasCRC64 = src, true
	return r
}

// readAndCompare streams the source once, computing CRC64, MD5 and the
// per-part MD5s of a multipart ETag, and compares the strongest digest the
// destination reported.
func readAndCompare(ctx context.Context, cfg AuditConfig, s, ds storage.ObjectInfo) (task.Result, error) {
	rc, _, err := cfg.Src.Open(ctx, s.Key, 0, -1)
	if err != nil {
		return task.Result{}, err
	}
	defer rc.Close()
	sum, err := digest(rc, cfg.PartSize)
	if err != nil {
		return task.Result{}, err
	}
	if sum.size != s.Size {
		return auditResult(s, ds.Key, task.StatusFailed, "", fmt.Sprintf("source changed while auditing: listed %d bytes, read %d", s.Size, sum.size)), nil
	}
	switch {
	case ds.HasCRC64:
		return crcResult(s, ds.Key, sum.crc, ds.CRC64), nil
	case storage.IsMD5ETag(ds.ETag):
		if !storage.ETagEqual(sum.md5, ds.ETag) {
			return auditResult(s, ds.Key, task.StatusFailed, "", fmt.Sprintf("content differs: source MD5 %s, destination ETag %s", sum.md5, ds.ETag)), nil
		}
		return auditResult(s, ds.Key, task.StatusVerified, task.MethodMD5, ""), nil
	default:
		if !storage.ETagEqual(sum.multipart, ds.ETag) {
			return auditResult(s, ds.Key, task.StatusFailed, "", fmt.Sprintf("content differs: source multipart ETag %s, destination %s", sum.multipart, ds.ETag)), nil
		}
		return auditResult(s, ds.Key, task.StatusVerified, task.MethodMultipartETag, ""), nil
	}
}

func auditResult(s storage.ObjectInfo, dest string, st task.Status, m task.Method, reason string) task.Result {
	r := task.Result{Key: s.Key, Dest: dest, Status: st, Method: m, Reason: reason,
		Size: s.Size, ModTime: s.ModTime, ETag: s.ETag}
	if st == task.StatusFailed {
		r.Class = "audit"
	}
	return r
}

// partsOf returns N when etag is a multipart ETag "<32 hex>-N" whose part
// count matches size cut in parts of partSize, else 0.
func partsOf(etag string, size, partSize int64) int64 {
	n := int64(storage.MultipartETagParts(etag))
	if n == 0 || partSize <= 0 || n != (size+partSize-1)/partSize {
		return 0
	}
	return n
}

// listChan streams a listing through a small buffer so two listings can be
// merged; the error arrives on the second channel when the listing ends.
func listChan(ctx context.Context, b storage.Backend, prefix string) (<-chan storage.ObjectInfo, <-chan error) {
	out := make(chan storage.ObjectInfo, 256)
	errc := make(chan error, 1)
	go func() {
		defer close(out)
		errc <- b.List(ctx, prefix, "", func(o storage.ObjectInfo) error {
			select {
			case out <- o:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return out, errc
}
