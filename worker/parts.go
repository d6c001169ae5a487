package worker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/retry"
	"github.com/ferry-migrate/ferry/task"
)

// upload is the state of the multipart upload being sent, shared by the
// part goroutines.
type upload struct {
	mu sync.Mutex // guards st
	st task.UploadState
	// saveMu serialises SaveUpload calls, each with a snapshot taken under
	// it, so a slow save of fewer parts can never land after a newer one.
	saveMu sync.Mutex
}

func (u *upload) snapshot() task.UploadState {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.st
	st.Parts = slices.Clone(u.st.Parts)
	return st
}

// missing lists the part numbers still to send.
func (u *upload) missing() []int {
	st := u.snapshot()
	have := make(map[int]bool, len(st.Parts))
	for _, p := range st.Parts {
		have[p.Number] = true
	}
	var todo []int
	for n := 1; planned(n, st.Size, st.PartSize) >= 0; n++ {
		if !have[n] {
			todo = append(todo, n)
		}
	}
	return todo
}

// sendParts uploads the missing parts, PartsInFlight at a time, saving the
// state after each so a crash loses at most the parts in flight.
//
// After a retryable failure no new part is started, but the parts in flight
// are let finish and recorded: the next attempt resumes after them. Other
// failures cancel the parts in flight: the job stops (fatal, canceled) or
// the upload is about to be aborted (permanent). progress reports whether
// any part was stored.
func (c *Copier) sendParts(ctx context.Context, run *copyRun, up *upload, src storage.ObjectInfo) (progress bool, err error) {
	todo := up.missing()
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
		if classify(err) != storage.Retryable {
			cancel()
		}
	}
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	next := make(chan int)
	for range min(c.o.Settings.PartsInFlight, len(todo)) {
		wg.Go(func() {
			for n := range next {
				p, err := c.sendPart(pctx, run, up, src, n)
				if err == nil {
					err = c.recordPart(pctx, up, p)
				}
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				progress = true
				mu.Unlock()
			}
		})
	}
feed:
	for _, n := range todo {
		if failed() {
			break
		}
		select {
		case next <- n:
		case <-pctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return progress, firstErr
}

// sendPart reads part n from the source with a ranged read and uploads it,
// hashing it on the way, then checks what the destination acknowledged.
func (c *Copier) sendPart(ctx context.Context, run *copyRun, up *upload, src storage.ObjectInfo, n int) (task.PartState, error) {
	st := up.snapshot()
	off, size := int64(n-1)*st.PartSize, planned(n, st.Size, st.PartSize)
	rc, info, err := c.o.Src.Open(ctx, run.obj.Key, off, size)
	if err != nil {
		return task.PartState{}, err
	}
	defer func() { _ = rc.Close() }()
	if why := storage.Changed(src, info); why != "" {
		return task.PartState{}, fmt.Errorf("%w: part %d: %s", retry.ErrChanged, n, why)
	}
	h := newHashingReader(c.o.Throttle.Reader(ctx, rc), c.planPart(modeOf(st)), &run.bytesRead, c.o.Progress)
	p, err := c.mp.UploadPart(ctx, storage.Upload{Key: st.Dest, ID: st.UploadID, Checksum: st.Checksum}, n, h, size)
	if errors.Is(err, storage.ErrNoSuchUpload) {
		return task.PartState{}, fmt.Errorf("%w: %w", errUploadGone, err)
	}
	if err != nil {
		return task.PartState{}, err
	}
	sums := h.sums()
	if err := VerifyPart(c.o.Settings.Verify, p, sums); err != nil {
		return task.PartState{}, err
	}
	return task.PartState{Number: n, Size: size, ETag: p.ETag, CRC64: sums.CRC64, MD5: hexMD5(sums.MD5)}, nil
}

// recordPart adds p to the state and saves it.
func (c *Copier) recordPart(ctx context.Context, up *upload, p task.PartState) error {
	up.saveMu.Lock()
	defer up.saveMu.Unlock()
	up.mu.Lock()
	i, found := slices.BinarySearchFunc(up.st.Parts, p.Number, func(q task.PartState, n int) int { return q.Number - n })
	if found {
		up.st.Parts[i] = p
	} else {
		up.st.Parts = slices.Insert(up.st.Parts, i, p)
	}
	up.mu.Unlock()
	if err := c.o.Uploads.SaveUpload(ctx, up.snapshot()); err != nil {
		return fmt.Errorf("save upload state after part %d: %w", p.Number, err)
	}
	return nil
}
