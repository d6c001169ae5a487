package plan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// ProbeOptions say what to probe with.
type ProbeOptions struct {
	Job          *conf.Job
	Small, Large []storage.ObjectInfo // listed objects to copy, in this order
	// Duration is the whole probe's time, split between the phases that
	// have objects; each phase stops starting copies when its share is up
	// and lets those in flight finish.
	Duration    time.Duration
	Concurrency int
	// ReadOnly reads the objects from the source and writes nothing: it
	// measures the source side only (see docs/plan.md).
	ReadOnly bool
	Rand     *rand.Rand
	// CreateOnly, if set, is what Plan already found of the destination's
	// create-only writes (Shape.BlindCreate): the copier takes it rather
	// than probing the destination a second time.
	CreateOnly *bool
}

// ProbeResult is what the probe measured.
type ProbeResult struct {
	Small    Phase  `json:"small"`
	Large    Phase  `json:"large"`
	ReadOnly bool   `json:"read_only"`
	Scratch  string `json:"scratch_prefix,omitempty"` // where the copies went (removed again)
	Failed   int64  `json:"failed"`
	Rate     Rate   `json:"rate"`
	// Leftover: scratch objects that could not be removed (named in
	// CleanupError); the operator removes them.
	Leftover     int64  `json:"leftover,omitempty"`
	CleanupError string `json:"cleanup_error,omitempty"`
}

// copyOne copies or reads one object, the round-th time; it returns the
// key it wrote, if any.
type copyOne func(ctx context.Context, o storage.ObjectInfo, round int) (written string, err error)

// Probe times copies of the sample with the job's real copier (its copy
// settings, multipart and verification) into a scratch prefix under the
// destination prefix, ".ferry-plan-<random>/", never touching a real key,
// and removes every copy afterwards, on failure and interruption too.
func Probe(ctx context.Context, o ProbeOptions) (*ProbeResult, error) {
	if o.Concurrency < 1 {
		o.Concurrency = 16
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	res := &ProbeResult{ReadOnly: o.ReadOnly}
	one, cleanup, err := o.prepare(ctx, res)
	if err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		written []string
	)
	record := func(k string) {
		mu.Lock()
		written = append(written, k)
		mu.Unlock()
	}
	defer func() {
		if cleanup != nil {
			cleanup(written, res)
		}
	}()
	share := o.Duration
	if len(o.Small) > 0 && len(o.Large) > 0 {
		share /= 2
	}
	var firstErr error
	phases := []struct {
		objs []storage.ObjectInfo
		into *Phase
	}{{o.Small, &res.Small}, {o.Large, &res.Large}}
	for _, ph := range phases {
		if len(ph.objs) == 0 {
			continue
		}
		p, failed, err := runPhase(ctx, ph.objs, share, o.Concurrency, one, record)
		*ph.into = p
		res.Failed += failed
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if res.Small.Objects+res.Large.Objects == 0 && firstErr != nil {
		return nil, fmt.Errorf("probe: every copy failed: %w", firstErr)
	}
	if res.Rate, err = Fit(res.Small, res.Large); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	return res, nil
}

// prepare returns how one object is probed and how the scratch copies are
// removed afterwards (nil for a read-only probe).
func (o ProbeOptions) prepare(ctx context.Context, res *ProbeResult) (copyOne, func([]string, *ProbeResult), error) {
	j := o.Job
	src, err := backends.Open(ctx, j.Src)
	if err != nil {
		return nil, nil, fmt.Errorf("probe: source: %w", err)
	}
	if o.ReadOnly {
		return func(ctx context.Context, obj storage.ObjectInfo, _ int) (string, error) {
			rc, _, err := src.Open(ctx, obj.Key, 0, -1)
			if err != nil {
				return "", err
			}
			defer func() { _ = rc.Close() }()
			_, err = io.Copy(io.Discard, rc)
			return "", err
		}, nil, nil
	}
	if j.Backup == conf.BackupSnapshot {
		return nil, nil, errors.New("probe: a snapshot job's destination prefix is a template; use --probe-read-only or give --rate-bytes/--rate-objects")
	}
	cp, err := jobcopier.New(ctx, j, worker.Options{}, o.CreateOnly)
	if err != nil {
		return nil, nil, fmt.Errorf("probe: %w", err)
	}
	dst, err := backends.OpenDest(ctx, j.Dest)
	if err != nil {
		return nil, nil, fmt.Errorf("probe: destination: %w", err)
	}
	res.Scratch = fmt.Sprintf("%s.ferry-plan-%016x/", j.Dest.Prefix, o.Rand.Uint64())
	one := func(ctx context.Context, obj storage.ObjectInfo, round int) (string, error) {
		// Each round copies to keys of its own: a second copy onto the
		// first would be found identical and cost a HEAD, not a copy.
		dest := fmt.Sprintf("%sr%d/%s", res.Scratch, round, strings.TrimPrefix(obj.Key, j.Src.Prefix))
		r, err := cp.Copy(ctx, "ferry-plan", task.Object{Key: obj.Key, Dest: dest, Size: obj.Size,
			ModTime: obj.ModTime, ETag: obj.ETag, CRC64: obj.CRC64, HasCRC64: obj.HasCRC64})
		if err == nil && r.Status == task.StatusFailed {
			err = fmt.Errorf("copy %q: %s", obj.Key, r.Reason)
		}
		return dest, err
	}
	cleanup := func(keys []string, res *ProbeResult) {
		// The copies go even when ctx has ended: an interrupted plan must
		// not leave its scratch objects behind.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		for _, k := range keys {
			if err := dst.Delete(cctx, k); err != nil {
				res.Leftover++
				if res.CleanupError == "" {
					res.CleanupError = fmt.Sprintf("removing the scratch copies under %q: %v", res.Scratch, err)
				}
			}
		}
	}
	return one, cleanup, nil
}

// runPhase copies objs, concurrency at a time, starting new copies until
// share has passed (going round objs again if they run out first, so the
// phase measures a steady state, not one wave), and times it from the
// first start to the last end.
func runPhase(ctx context.Context, objs []storage.ObjectInfo, share time.Duration, concurrency int,
	one copyOne, record func(string)) (Phase, int64, error) {
	start := time.Now()
	stop := start.Add(share)
	type item struct {
		obj   storage.ObjectInfo
		round int
	}
	next := make(chan item)
	var (
		mu       sync.Mutex
		p        Phase
		failed   int64
		firstErr error
		fatal    bool
		wg       sync.WaitGroup
	)
	stopped := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return fatal
	}
	for range min(concurrency, len(objs)) {
		wg.Go(func() {
			for it := range next {
				obj := it.obj
				k, err := one(ctx, obj, it.round)
				if k != "" {
					record(k)
				}
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == nil {
						firstErr = err
					}
					if storage.Classify(err) == storage.Fatal {
						fatal = true // bad credentials, a missing bucket: more copies only repeat it
					}
				} else {
					p.Objects++
					p.Bytes += obj.Size
				}
				mu.Unlock()
			}
		})
	}
feed:
	for round := 0; ; round++ {
		for _, obj := range objs {
			if time.Now().After(stop) || stopped() {
				break feed
			}
			select {
			case next <- item{obj, round}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(next)
	wg.Wait()
	p.Elapsed = time.Since(start)
	p.Seconds = p.Elapsed.Seconds()
	return p, failed, firstErr
}
