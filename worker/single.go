package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// copySingle streams the whole object in one Put: source -> throttle ->
// hashes -> destination. The metadata comes from Open's answer, which
// carries it for S3 and OSS (a GET returns the same headers as a HEAD), so
// a small object costs no extra request; a local source has none to give.
func (c *Copier) copySingle(ctx context.Context, run *copyRun) (outcome, error) {
	rc, src, err := c.o.Src.Open(ctx, run.obj.Key, 0, -1)
	if err != nil {
		return outcome{}, err
	}
	src = withListedCRC64(run.obj, src)
	if src.Size >= c.o.Settings.MultipartThreshold && c.mp != nil {
		// It grew past the threshold since it was listed: a single PUT
		// may now be over the store's limit.
		_ = rc.Close()
		return c.copyMultipart(ctx, run)
	}
	defer func() { _ = rc.Close() }()
	if run.multipart {
		// An earlier attempt went multipart and the source has shrunk
		// since: its upload would be orphaned.
		c.discardUpload(ctx, run)
		run.multipart = false
	}
	plan := c.planSingle(src)
	h := newHashingReader(c.o.Throttle.Reader(ctx, rc), plan, &run.bytesRead, c.o.Progress)
	info := carriedMeta(src)
	info.Checksum = plan.declare
	info.Condition = run.cond
	run.writes++
	dst, err := c.o.Dst.Put(ctx, run.obj.Dest, h, info)
	sums := h.sums()
	if err != nil {
		if sums.Size == src.Size {
			// All sent: the write may have landed with its answer lost.
			run.sent, run.sentSrc = &sums, src
		}
		return outcome{}, err
	}
	if err := VerifySource(c.o.Settings.Verify, src, sums); err != nil {
		run.wrote(dst)
		return outcome{}, err
	}
	method, err := c.verifyDest(ctx, run.obj.Dest, sums, dst)
	if err != nil {
		run.wrote(dst)
		return outcome{}, err
	}
	return outcome{src: src, res: task.Result{
		Status: task.StatusVerified, Method: method, DestETag: dst.ETag,
		CRC64: sums.CRC64, HasCRC64: sums.HasCRC64,
	}}, nil
}

// wrote records that this run stored dst and it failed verification: the
// next attempt replaces exactly it (a create-only condition would now be
// refused by our own damaged copy).
func (r *copyRun) wrote(dst storage.ObjectInfo) {
	r.damaged = true
	if r.cond.IsZero() {
		return
	}
	r.cond = storage.Condition{}
	if v := storage.VersionOf(dst); v.ETag != "" || !v.ModTime.IsZero() {
		r.cond = storage.Condition{IfMatch: v}
	}
}

// verifyDest is VerifyDest, then the read-back that verify=reread asks for
// or that a destination ignoring a declared checksum makes necessary.
func (c *Copier) verifyDest(ctx context.Context, key string, sums Sums, dst storage.ObjectInfo) (task.Method, error) {
	method, err := VerifyDest(c.o.Settings.Verify, sums, dst)
	if errors.Is(err, errNotValidated) || err == nil && c.o.Settings.Verify == task.VerifyReread {
		method, err = c.reread(ctx, key, sums)
	}
	return method, err
}

// carriedMeta is what the destination object inherits from the source:
// HTTP headers, user metadata, storage class, and the mtime (a local
// destination keeps it; S3 sets its own).
// The source's checksum is not carried: a copier declares it only when
// the destination validates it (hashPlan.declare).
func carriedMeta(src storage.ObjectInfo) storage.ObjectInfo {
	return storage.ObjectInfo{
		Size:               src.Size,
		ModTime:            src.ModTime,
		ContentType:        src.ContentType,
		CacheControl:       src.CacheControl,
		ContentDisposition: src.ContentDisposition,
		ContentEncoding:    src.ContentEncoding,
		Metadata:           src.Metadata,
		StorageClass:       src.StorageClass,
	}
}

// reread reads the destination back and compares its CRC64 and size with
// what was sent (verify=reread). The read is throttled like the copy: it is
// traffic all the same.
func (c *Copier) reread(ctx context.Context, key string, sent Sums) (task.Method, error) {
	return c.rereadCounted(ctx, key, sent, nil)
}

// rereadCounted is reread, counting the bytes read into counter if set.
func (c *Copier) rereadCounted(ctx context.Context, key string, sent Sums, counter *atomic.Int64) (task.Method, error) {
	rc, _, err := c.o.Dst.Open(ctx, key, 0, -1)
	if err != nil {
		return "", fmt.Errorf("reread: %w", err)
	}
	defer func() { _ = rc.Close() }()
	h := newHashingReader(c.o.Throttle.Reader(ctx, rc), hashPlan{crc64: true}, counter, nil)
	if _, err := io.Copy(io.Discard, h); err != nil {
		return "", fmt.Errorf("reread: %w", err)
	}
	got := h.sums()
	if got.Size != sent.Size || got.CRC64 != sent.CRC64 {
		return "", &MismatchError{Side: "destination", Check: "reread",
			Want: fmt.Sprintf("%d bytes, crc64 %s", sent.Size, crc.FormatOSS(sent.CRC64)),
			Got:  fmt.Sprintf("%d bytes, crc64 %s", got.Size, crc.FormatOSS(got.CRC64))}
	}
	return task.MethodReread, nil
}

// destCRC64 reads obj's destination copy, proven identical to the source
// object without its bytes (by a checksum or an MD5 ETag), and returns
// the CRC64 of what it read (Object.NeedCRC64). The bytes come from the
// destination: the source is not read again.
func (c *Copier) destCRC64(ctx context.Context, obj task.Object) (uint64, error) {
	rc, _, err := c.o.Dst.Open(ctx, obj.Dest, 0, -1)
	if err != nil {
		return 0, fmt.Errorf("reading the destination copy for its crc64: %w", err)
	}
	defer func() { _ = rc.Close() }()
	h := newHashingReader(c.o.Throttle.Reader(ctx, rc), hashPlan{crc64: true}, nil, nil)
	if _, err := io.Copy(io.Discard, h); err != nil {
		return 0, fmt.Errorf("reading the destination copy for its crc64: %w", err)
	}
	got := h.sums()
	if got.Size != obj.Size {
		return 0, &MismatchError{Side: "destination", Check: "size",
			Want: fmt.Sprint(obj.Size), Got: fmt.Sprint(got.Size)}
	}
	return got.CRC64, nil
}
