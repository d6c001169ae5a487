package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// Options configure a Copier.
type Options struct {
	Src, Dst storage.Backend
	// Settings say how objects are copied (skip rules, multipart, verify
	// mode, attempts); zero fields take task.CopySettings' defaults.
	Settings task.CopySettings
	// Backoff spaces the attempts (Policy.Backoff; other fields unused but
	// Sleep, which tests may fake).
	Backoff retry.Policy
	// Throttle limits bytes and objects; nil is unlimited.
	Throttle *Throttle
	// Uploads keeps multipart state across processes; nil keeps it in
	// memory (resume across this Copier's own attempts only).
	Uploads UploadStore
	// Progress, if set, is told of bytes sent as they go (concurrently,
	// from the parts of a multipart copy: it must be safe for that). Bytes
	// sent again by a retry are counted again.
	Progress func(delta int64)
	// OnThrottled, if set, is called each time an attempt fails because the
	// server asked us to slow down (storage.ErrThrottled): a cluster worker
	// counts these in its heartbeats so the master can make every worker of
	// the job back off together. It must be quick and safe for concurrent use.
	OnThrottled func()
	// OnRetry, if set, is called each time the storage layer below the
	// copier retries a request after a transient error (jobcopier wires it
	// to the backends' retry policy), for metrics. Quick and concurrent-safe.
	OnRetry func(err error)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// CreateOnlyEnforced: the destination is known to refuse a create-only
	// write over an existing object (storage.ProbeConditions saw it). Then
	// an object is written create-only without a look first (createonly.go).
	CreateOnlyEnforced bool
}

// Copier copies single objects; see Copy. It is safe for concurrent use.
type Copier struct {
	o          Options
	mp         storage.Multipart // Dst's multipart side, nil if it has none
	blindStats blindStats
}

// NewCopier checks o and fills its defaults.
func NewCopier(o Options) (*Copier, error) {
	if o.Src == nil || o.Dst == nil {
		return nil, errors.New("worker: copier needs both a source and a destination backend")
	}
	o.Settings = o.Settings.WithDefaults()
	if err := o.Settings.Verify.Check(); err != nil {
		return nil, fmt.Errorf("worker: verify mode %w", err)
	}
	if o.Uploads == nil {
		o.Uploads = NewMemUploads()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Backoff.Sleep == nil {
		o.Backoff.Sleep = retry.Sleep
	}
	c := &Copier{o: o}
	c.mp, _ = o.Dst.(storage.Multipart)
	return c, nil
}

// copyRun is the state of one Copy call across its attempts.
type copyRun struct {
	job       string
	obj       task.Object
	bytesRead atomic.Int64 // source bytes, all attempts and parts
	checked   bool         // skip rules evaluated (once: see attempt)
	multipart bool         // an attempt went the multipart way
	damaged   bool         // an attempt stored bytes that failed verification
	cond      storage.Condition
	// writes counts write calls (Put, CompleteUpload); sent and sentSrc
	// are what the last one that sent everything sent (its sums, the
	// source it read), to recognise our own object behind a refusal.
	writes    int
	sent      *Sums
	sentSrc   storage.ObjectInfo
	unchecked bool // the destination could not be looked at
	// absent: the destination held nothing under the key when looked at,
	// the only case a server-side copy (Object.CopyFrom) is made in;
	// streamed: one could not be made, the object streams from the source.
	absent, streamed bool
	// blind: the write in flight was sent create-only without a look
	// (createonly.go); a refusal means "look, then decide", not a race.
	// blindTried: one was, and no other will be. unlooked: the
	// destination was not looked at yet (the state is the blind write's).
	blind, blindTried, unlooked bool
}

// outcome is what a successful attempt produced.
type outcome struct {
	res      task.Result // Status, Method, Reason, DestETag, CRC64 set
	src      storage.ObjectInfo
	progress bool // the attempt stored something a retry will reuse
}

// Copy copies obj from Src to Dst under obj.Dest and verifies the copy.
//
// Every outcome for the object is a Result: verified, skipped (Reason says
// why; Outcome says identical or kept where the overwrite policy decided)
// or failed (Reason holds the error, Class its class). The error is
// non-nil only when the job cannot go on: the error is Fatal (credentials
// refused, bucket missing, disk full) or ctx ended. Then a multipart
// upload and its saved state are left for a later resume.
func (c *Copier) Copy(ctx context.Context, job string, obj task.Object) (task.Result, error) {
	start := c.o.Now()
	run := &copyRun{job: job, obj: obj}
	res := task.Result{Key: obj.Key, Dest: obj.Dest, Size: obj.Size, ModTime: obj.ModTime, ETag: obj.ETag}
	finish := func(r task.Result, attempts int) task.Result {
		r.BytesRead = run.bytesRead.Load()
		r.BytesSent = r.BytesRead // streamed: every byte read is sent, none is buffered
		r.Attempts = attempts
		r.Duration = c.o.Now().Sub(start)
		return r
	}
	if obj.Dest == "" {
		res.Status, res.Class, res.Reason = task.StatusFailed, storage.Permanent.String(), "object has no destination key"
		return finish(res, 0), nil
	}
	if err := c.o.Throttle.WaitObject(ctx); err != nil {
		return finish(res, 0), fmt.Errorf("worker: copy %q: %w", obj.Key, err)
	}
	stalled := 0   // consecutive failed attempts without progress
	throttled := 0 // attempts refused with SlowDown / 429
	for attempt := 1; ; attempt++ {
		out, err := c.attempt(ctx, run)
		if err == nil {
			r := out.res
			r.Key, r.Dest = obj.Key, obj.Dest
			fillSource(&r, obj, out.src)
			return finish(r, attempt), nil
		}
		res.Reason = err.Error()
		class := classify(err)
		switch {
		case ctx.Err() != nil:
			class = storage.Canceled // whatever failed, it failed because we stopped it
		case class == storage.Canceled:
			class = storage.Retryable // a timeout inside a client, not our ctx: transient
		}
		switch class {
		case storage.Canceled, storage.Fatal:
			res.Status, res.Class = task.StatusFailed, class.String()
			return finish(res, attempt), fmt.Errorf("worker: copy %q: %w", obj.Key, err)
		case storage.Permanent:
			c.cleanup(ctx, run, err)
			if c.dirMarker(obj, err) {
				res.Status, res.Reason = task.StatusSkipped, ReasonDirMarker
				return finish(res, attempt), nil
			}
			res.Status, res.Class = task.StatusFailed, class.String()
			return finish(res, attempt), nil
		}
		if out.progress {
			stalled = 0
		}
		// A server that says "slow down" is healthy and busy: back off and
		// try again, on a budget of its own (throttleBudget times Retries),
		// so a burst of SlowDown does not fail objects that are fine.
		isThrottled := errors.Is(err, storage.ErrThrottled)
		if isThrottled && c.o.OnThrottled != nil {
			c.o.OnThrottled()
		}
		var wait int
		if isThrottled && throttled < throttleBudget*c.o.Settings.Retries {
			throttled++
			wait = throttled - 1
		} else {
			stalled++
			wait = stalled - 1
		}
		if stalled >= c.o.Settings.Retries {
			c.cleanup(ctx, run, err)
			res.Status, res.Class = task.StatusFailed, storage.Retryable.String()
			res.Reason = fmt.Sprintf("gave up after %d attempts: %v", attempt, err)
			return finish(res, attempt), nil
		}
		if serr := c.o.Backoff.Sleep(ctx, c.o.Backoff.Backoff(wait, err)); serr != nil {
			res.Status, res.Class = task.StatusFailed, storage.Canceled.String()
			return finish(res, attempt), fmt.Errorf("worker: copy %q: %w while waiting to retry after: %w", obj.Key, serr, err)
		}
	}
}

// attempt makes one attempt: the overwrite policy (until it could be
// evaluated once: after a failed copy the destination holds our own
// damaged bytes, which must not count as "already there"), then the copy,
// under the condition the policy asked for.
func (c *Copier) attempt(ctx context.Context, run *copyRun) (outcome, error) {
	if !run.checked && !run.blindTried && c.blind(run) {
		run.checked, run.blind, run.blindTried, run.unlooked, run.cond = true, true, true, true, storage.IfAbsent()
		c.blindStats.writes.Add(1)
	}
	if !run.checked {
		d, err := c.look(ctx, run.obj)
		if err != nil {
			return outcome{}, err
		}
		run.checked = true
		if d.act != actCopy {
			res := skipped(d)
			if d.act == actIdentical && !res.HasCRC64 && run.obj.NeedCRC64 {
				if res.CRC64, err = c.destCRC64(ctx, run.obj); err != nil {
					return outcome{}, err
				}
				res.HasCRC64 = true
			}
			return outcome{res: res, src: d.src}, nil
		}
		run.cond, run.unchecked, run.absent = d.cond, d.unchecked, d.absent
	}
	if sc, ok := c.o.Dst.(storage.ServerCopier); ok && run.obj.CopyFrom != "" && run.absent && !run.streamed {
		out, done, err := c.serverCopy(ctx, run, sc)
		if err != nil || done {
			return out, err
		}
		run.streamed = true // the destination could not make it: stream from now on
	}
	out, err := c.write(ctx, run)
	if run.damaged {
		// Our own write is there now: a refusal from here on is about it,
		// as in a copier that looked first.
		run.unlooked = false
	}
	if run.unlooked && (errors.Is(err, storage.ErrPrecondition) || errors.Is(err, storage.ErrConditionUnsupported)) {
		return c.refusedUnlooked(ctx, run, err)
	}
	// A blind write that failed otherwise leaves the state a look that
	// found nothing would have: create-only (or, over our own damaged
	// copy, if-match on it) until a refusal says something is there.
	run.blind = false
	if errors.Is(err, storage.ErrConditionUnsupported) && !run.cond.IsZero() {
		// Refused before anything was sent (OSS has no if-match on
		// writes): the job warned of this window once; write without.
		run.cond = storage.Condition{}
		out, err = c.write(ctx, run)
	}
	if errors.Is(err, storage.ErrPrecondition) {
		return c.refused(ctx, run, err)
	}
	return out, err
}

// write copies the object, single-part or multipart.
func (c *Copier) write(ctx context.Context, run *copyRun) (outcome, error) {
	if run.obj.Size > 0 && run.obj.Size >= c.o.Settings.MultipartThreshold && c.mp != nil {
		return c.copyMultipart(ctx, run)
	}
	return c.copySingle(ctx, run)
}

// refused handles a conditional write the store refused: what is there
// now was written by someone else between our check and our write, and is
// kept. Unless it may be our own: a refusal after the retry layer resent
// the write, or after an earlier attempt of ours sent it all and failed,
// may meet our own copy stored with its answer lost. Then what is there is
// compared with what we sent (its CRC64 or ETag, else read back): ours is
// verified, anything else kept.
func (c *Copier) refused(ctx context.Context, run *copyRun, err error) (outcome, error) {
	if run.multipart {
		c.discardUpload(ctx, run) // a refused complete leaves the upload
		run.multipart = false
	}
	now, serr := c.o.Dst.Stat(ctx, run.obj.Dest)
	ambiguous := errors.Is(err, retry.ErrRefusedAfterRetry) || run.writes > 1
	if ambiguous && serr == nil && run.sent != nil {
		if m, ok := c.ours(ctx, run, now); ok {
			return outcome{src: run.sentSrc, res: task.Result{
				Status: task.StatusVerified, Method: m, DestETag: now.ETag,
				CRC64: run.sent.CRC64, HasCRC64: run.sent.HasCRC64,
			}}, nil
		}
	}
	res := task.Result{Status: task.StatusSkipped, Outcome: task.OutcomeKept, Reason: ReasonRaced}
	if run.unchecked {
		res.Reason = ReasonUnchecked
	}
	switch {
	case serr == nil:
		res.DestETag = now.ETag
	case errors.Is(serr, storage.ErrNotFound):
		res.Reason += " (it was deleted meanwhile)"
	}
	return outcome{res: res}, nil
}

// ours: the destination object now is the one run sent, proven by a
// strong check, or by reading it back when the CRC64 of what was sent is
// known.
func (c *Copier) ours(ctx context.Context, run *copyRun, now storage.ObjectInfo) (task.Method, bool) {
	sent := *run.sent
	if m, err := VerifyDest(task.VerifyAuto, sent, now); err == nil && m != task.MethodSize {
		return m, true
	}
	if !sent.HasCRC64 || now.Size != sent.Size {
		return "", false
	}
	m, err := c.rereadCounted(ctx, run.obj.Dest, sent, nil)
	return m, err == nil
}

// classify is storage.Classify, plus two cases where only the copier knows
// that starting the object again is the cure: the source changed under us
// (the next attempt copies the new version whole) and our multipart upload
// vanished (expired or aborted by someone else; the next attempt starts a
// new one). Both are permanent for the single request, not for the object.
func classify(err error) storage.Class {
	if errors.Is(err, retry.ErrChanged) || errors.Is(err, errUploadGone) {
		return storage.Retryable
	}
	return storage.Classify(err)
}

// ReasonDirMarker is the skip reason for an S3 "folder" object (an empty
// key ending in "/") that the destination cannot hold as an object (a
// filesystem, where directories exist implicitly).
const ReasonDirMarker = "directory marker (empty key ending in \"/\"): the destination keeps no such objects; its directories are implicit"

// dirMarker: obj is an S3 directory marker that the destination (not the
// source) refused as a key. Anything else refused stays a failure.
func (c *Copier) dirMarker(obj task.Object, err error) bool {
	var se *storage.Error
	return obj.Size == 0 && strings.HasSuffix(obj.Dest, "/") && errors.Is(err, storage.ErrInvalidKey) &&
		errors.As(err, &se) && se.Backend == c.o.Dst.String()
}

// throttleBudget: SlowDown answers an object may meet, as a multiple of
// Retries, before it is failed. With the default backoff (doubling to 20 s)
// and Retries 3 that rides out about three minutes of throttling.
const throttleBudget = 4

// errUploadGone marks ErrNoSuchUpload met during our own multipart copy.
var errUploadGone = errors.New("multipart upload vanished")

// cleanup runs when an object has failed for good. A multipart upload is
// aborted and its state dropped unless the failure was transient (attempts
// exhausted): then the next lease of the shard resumes it. A destination
// object that an attempt stored and that failed verification is deleted:
// it has the right size and a fresh mtime, so the skip rules of a later
// pass would take it for a good copy.
// It works on a context that outlives ctx's cancellation: this is
// bookkeeping, not copying.
func (c *Copier) cleanup(ctx context.Context, run *copyRun, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if run.damaged {
		_ = c.o.Dst.Delete(ctx, run.obj.Dest)
	}
	if run.multipart && classify(err) == storage.Permanent {
		c.discardUpload(ctx, run)
	}
}

// fillSource records in r the source object as it was read (Open's or
// Stat's answer), falling back to the listing for what the read did not
// tell: the manifest should describe what is at the destination.
func fillSource(r *task.Result, obj task.Object, src storage.ObjectInfo) {
	r.Size, r.ModTime, r.ETag = obj.Size, obj.ModTime, obj.ETag
	if src.Key != "" || src.Size != 0 {
		r.Size = src.Size
	}
	if !src.ModTime.IsZero() {
		r.ModTime = src.ModTime
	}
	if src.ETag != "" {
		r.ETag = src.ETag
	}
}
