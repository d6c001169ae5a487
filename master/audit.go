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
	// on each side); without it, size and single-part ETags only.
	Deep bool
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
			if ss.CRC64 != ds.CRC64 {
				return auditResult(s, d.Key, task.StatusFailed, "", fmt.Sprintf("CRC64 differs: source %d, destination %d", ss.CRC64, ds.CRC64)), nil
			}
			r := auditResult(s, d.Key, task.StatusVerified, task.MethodCRC64, "")
			r.CRC64, r.HasCRC64 = ss.CRC64, true
			return r, nil
		}
	}
	if md5Shaped(s.ETag) && md5Shaped(d.ETag) {
		if !storage.ETagEqual(s.ETag, d.ETag) {
			return auditResult(s, d.Key, task.StatusFailed, "", fmt.Sprintf("MD5 ETag differs: source %s, destination %s", s.ETag, d.ETag)), nil
		}
		return auditResult(s, d.Key, task.StatusVerified, task.MethodMD5, ""), nil
	}
	return auditResult(s, d.Key, task.StatusVerified, task.MethodSize, ""), nil
}

func auditResult(s storage.ObjectInfo, dest string, st task.Status, m task.Method, reason string) task.Result {
	r := task.Result{Key: s.Key, Dest: dest, Status: st, Method: m, Reason: reason,
		Size: s.Size, ModTime: s.ModTime, ETag: s.ETag}
	if st == task.StatusFailed {
		r.Class = "audit"
	}
	return r
}

// md5Shaped: a single-part ETag that is an MD5 (32 hex digits).
func md5Shaped(etag string) bool {
	etag = storage.TrimETag(etag)
	if len(etag) != 32 {
		return false
	}
	for _, c := range etag {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
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
