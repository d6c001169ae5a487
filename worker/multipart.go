package worker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/task"
)

// copyMultipart copies the object in parts, resuming an upload a previous
// attempt or process left (see prepareUpload), then completes and verifies
// it.
func (c *Copier) copyMultipart(ctx context.Context, run *copyRun) (outcome, error) {
	run.multipart = true
	// One HEAD gives what the parts' ranged reads are checked against (a
	// source replaced mid-copy must not be spliced) and the metadata for
	// CreateUpload.
	src, err := c.o.Src.Stat(ctx, run.obj.Key)
	if err != nil {
		return outcome{}, err
	}
	src = withListedCRC64(run.obj, src)
	if src.Size == 0 {
		return c.copySingle(ctx, run) // shrank since the listing; no part can be empty
	}
	lim := storage.LimitsOf(c.mp)
	ps, err := PartSize(c.o.Settings, src.Size, lim)
	if err != nil {
		return outcome{}, fmt.Errorf("worker: %q: %w", run.obj.Key, err)
	}
	up, err := c.prepareUpload(ctx, run, src, ps, lim)
	if err != nil {
		return outcome{}, err
	}
	progress, err := c.sendParts(ctx, run, up, src)
	if err != nil {
		return outcome{progress: progress}, err
	}
	st := up.snapshot()
	if want := int((st.Size + st.PartSize - 1) / st.PartSize); len(st.Parts) != want {
		// sendParts returns nil only when every part is in; a hole here
		// would complete a truncated object.
		return outcome{}, fmt.Errorf("worker: upload of %q has %d of %d parts", run.obj.Key, len(st.Parts), want)
	}
	plan := c.planPart(modeOf(st))
	sums := Sums{Size: st.Size, HasCRC64: plan.crc64, Declared: st.Checksum}
	parts := make([]storage.Part, len(st.Parts))
	for i, p := range st.Parts {
		parts[i] = storage.Part{Number: p.Number, Size: p.Size, ETag: p.ETag}
		sums.CRC64 = crc.Combine(sums.CRC64, p.CRC64, p.Size)
		if plan.md5 {
			sum, _ := hex.DecodeString(p.MD5) // checked by reconcile or computed by us
			sums.PartMD5s = append(sums.PartMD5s, sum)
		}
	}
	u := storage.Upload{Key: st.Dest, ID: st.UploadID, Checksum: st.Checksum, Condition: run.cond}
	run.writes++
	run.sent, run.sentSrc = &sums, src
	dst, err := c.mp.CompleteUpload(ctx, u, parts)
	if errors.Is(err, storage.ErrNoSuchUpload) {
		dst, err = c.completedMeanwhile(ctx, st.Dest, sums, err)
	}
	if errors.Is(err, storage.ErrCorrupt) && st.Checksum != "" {
		// The store refused the assembled object against the source's
		// checksum: some part is damaged and nothing says which. The
		// upload is dropped so the next attempt sends every part again.
		c.discardUpload(ctx, run)
		return outcome{}, err
	}
	if err != nil {
		return outcome{}, err
	}
	// The upload is gone now, whatever verification says: a retry starts
	// a new one. A failure to drop the state only costs the next attempt
	// a ListParts that answers ErrNoSuchUpload.
	_ = c.o.Uploads.DropUpload(ctx, run.job, run.obj.Key)
	if err := VerifySource(c.o.Settings.Verify, src, sums); err != nil {
		run.wrote(dst)
		return outcome{}, err
	}
	method, err := c.verifyDest(ctx, st.Dest, sums, dst)
	if err != nil {
		run.wrote(dst)
		return outcome{}, err
	}
	return outcome{src: src, res: task.Result{
		Status: task.StatusVerified, Method: method, DestETag: dst.ETag,
		CRC64: sums.CRC64, HasCRC64: sums.HasCRC64,
	}}, nil
}

// completedMeanwhile handles ErrNoSuchUpload from CompleteUpload, which the
// retry wrapper produces when a first Complete succeeded but its answer was
// lost. The object then exists with our parts' checksums: accept it if a
// strong check (CRC64 or multipart ETag) proves it is ours, else start over.
func (c *Copier) completedMeanwhile(ctx context.Context, key string, sums Sums, cause error) (storage.ObjectInfo, error) {
	dst, err := c.o.Dst.Stat(ctx, key)
	if err == nil {
		if m, verr := VerifyDest(task.VerifyAuto, sums, dst); verr == nil && m != task.MethodSize {
			return dst, nil
		}
	}
	return storage.ObjectInfo{}, fmt.Errorf("%w: %w", errUploadGone, cause)
}

// modeOf is what st's parts were hashed for. Records from builds that
// did not save it were hashed for auto (they hashed everything).
func modeOf(st task.UploadState) uploadMode {
	v := st.Verify
	if v == "" {
		v = task.VerifyAuto
	}
	return uploadMode{verify: v, checksum: st.Checksum}
}

// prepareUpload returns the upload to send parts to: the saved one, with
// the parts it can reuse, if it is still valid for this source object,
// else a new one (the old one aborted, so nothing is orphaned).
func (c *Copier) prepareUpload(ctx context.Context, run *copyRun, src storage.ObjectInfo, ps int64, lim storage.PartLimits) (*upload, error) {
	st, ok, err := c.o.Uploads.LoadUpload(ctx, run.job, run.obj.Key)
	if err != nil {
		return nil, fmt.Errorf("load upload state: %w", err)
	}
	if ok {
		if stale(st, run.obj, src, lim, c.o.Settings.Verify) == "" {
			listed, err := c.mp.ListParts(ctx, storage.Upload{Key: st.Dest, ID: st.UploadID})
			if err == nil {
				st.Parts = reconcile(st.Parts, listed, st.Size, st.PartSize, c.planPart(modeOf(st)).md5)
				return &upload{st: st}, nil
			}
			if !errors.Is(err, storage.ErrNoSuchUpload) {
				return nil, err
			}
		}
		if err := c.abort(ctx, st); err != nil {
			return nil, err
		}
	}
	info := carriedMeta(src)
	info.Checksum = c.declareFor(src)
	u, err := c.mp.CreateUpload(ctx, run.obj.Dest, info)
	if err != nil {
		return nil, err
	}
	st = task.UploadState{
		Job: run.job, Key: run.obj.Key, Dest: run.obj.Dest, UploadID: u.ID, PartSize: ps,
		Size: src.Size, ModTime: src.ModTime, ETag: src.ETag, Created: c.o.Now(),
		Checksum: u.Checksum, Verify: c.o.Settings.Verify,
	}
	if err := c.o.Uploads.SaveUpload(ctx, st); err != nil {
		// Unrecorded, the upload would be orphaned by a crash: give it up.
		_ = c.mp.AbortUpload(context.WithoutCancel(ctx), u)
		return nil, fmt.Errorf("save upload state: %w", err)
	}
	return &upload{st: st}, nil
}

// stale says why a saved upload cannot be resumed for this object, or "".
func stale(st task.UploadState, obj task.Object, src storage.ObjectInfo, lim storage.PartLimits, verify task.VerifyMode) string {
	switch {
	case st.Dest != obj.Dest:
		return fmt.Sprintf("destination key was %q", st.Dest)
	case !partSizeFits(st.PartSize, src.Size, lim):
		return fmt.Sprintf("part size %d does not suit the destination for %d bytes", st.PartSize, src.Size)
	case modeOf(st).verify != verify:
		return fmt.Sprintf("parts were hashed for verify=%s, now %s", modeOf(st).verify, verify)
	case st.Checksum != "" && st.Checksum != src.Checksum:
		return fmt.Sprintf("declared checksum %s, the source now has %q", st.Checksum, src.Checksum)
	}
	return storage.Changed(storage.ObjectInfo{Size: st.Size, ModTime: st.ModTime, ETag: st.ETag}, src)
}

// reconcile keeps the saved parts the destination still holds unchanged:
// same number, size and ETag in both lists, and the size the plan gives
// that number. Everything else is sent again; a part the destination holds
// but we lack a digest for (its MD5, when needMD5) cannot be verified, so
// it is replaced too.
func reconcile(saved []task.PartState, listed []storage.Part, size, ps int64, needMD5 bool) []task.PartState {
	held := make(map[int]storage.Part, len(listed))
	for _, p := range listed {
		held[p.Number] = p
	}
	var keep []task.PartState
	for _, p := range saved {
		h, ok := held[p.Number]
		md5, err := hex.DecodeString(p.MD5)
		if ok && (!needMD5 || err == nil && len(md5) == 16) && h.Size == p.Size && p.Size == planned(p.Number, size, ps) &&
			storage.ETagEqual(h.ETag, p.ETag) {
			keep = append(keep, p)
		}
	}
	slices.SortFunc(keep, func(a, b task.PartState) int { return a.Number - b.Number })
	return slices.CompactFunc(keep, func(a, b task.PartState) bool { return a.Number == b.Number })
}

// planned is the size of part n (1-based) of an object of size bytes in
// parts of ps, or -1 when there is no such part.
func planned(n int, size, ps int64) int64 {
	off := int64(n-1) * ps
	if n < 1 || off >= size {
		return -1
	}
	return min(ps, size-off)
}

// abort ends a saved upload that cannot be resumed and forgets it.
func (c *Copier) abort(ctx context.Context, st task.UploadState) error {
	err := c.mp.AbortUpload(ctx, storage.Upload{Key: st.Dest, ID: st.UploadID})
	if err != nil && !errors.Is(err, storage.ErrNoSuchUpload) && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("abort stale upload: %w", err)
	}
	if err := c.o.Uploads.DropUpload(ctx, st.Job, st.Key); err != nil {
		return fmt.Errorf("drop upload state: %w", err)
	}
	return nil
}

// discardUpload aborts and forgets the object's upload, if any: the object
// failed for good and must leave no orphan behind.
func (c *Copier) discardUpload(ctx context.Context, run *copyRun) {
	st, ok, err := c.o.Uploads.LoadUpload(ctx, run.job, run.obj.Key)
	if err == nil && ok {
		_ = c.abort(ctx, st)
	}
}
