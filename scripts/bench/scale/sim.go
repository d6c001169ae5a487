package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker"
)

// simSource stands in for the source store on the workers: Open sleeps a
// simulated copy time (the whole transfer, GET and PUT, lumped into one
// wait) and returns zeros. The real Copier runs around it, so the worker
// side does what a worker does (plan, stream, hash, verify, report)
// without I/O.
type simSource struct {
	l      *listing
	mtime  time.Time
	copy   time.Duration // mean simulated copy time
	jitter float64       // +- fraction of copy
}

func (s *simSource) String() string { return "simulated source" }

func (s *simSource) info(k string) storage.ObjectInfo {
	return storage.ObjectInfo{Key: k, Size: s.l.size, ETag: s.l.etag, ModTime: s.mtime}
}

func (s *simSource) List(context.Context, string, string, storage.ListFunc) error {
	return fmt.Errorf("simulated source: workers never list: %w", errors.ErrUnsupported)
}

func (s *simSource) Stat(_ context.Context, k string) (storage.ObjectInfo, error) {
	return s.info(k), nil
}

func (s *simSource) Open(ctx context.Context, k string, _, _ int64) (io.ReadCloser, storage.ObjectInfo, error) {
	d := time.Duration(float64(s.copy) * (1 + s.jitter*(2*rand.Float64()-1)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, storage.ObjectInfo{}, ctx.Err()
	case <-t.C:
	}
	return io.NopCloser(io.LimitReader(zeros{}, s.l.size)), s.info(k), nil
}

func (s *simSource) Put(context.Context, string, io.Reader, storage.ObjectInfo) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, fmt.Errorf("simulated source is read-only: %w", errors.ErrUnsupported)
}

func (s *simSource) Delete(context.Context, string) error { return errors.ErrUnsupported }

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// simDest is a destination that holds nothing: every key is absent
// before its copy, and a Put answers with the MD5 ETag of what it read,
// which is what the copier verifies against.
//
// Its copy buffers are pooled: io.Copy into a hash (which has no
// ReadFrom) allocates 32 KiB per call, and that garbage, one buffer per
// object, made allocation and GC a quarter of the harness's CPU, taken
// from the master on the same cores. (A real worker's destination runs on
// another machine.)
type simDest struct {
	bufs sync.Pool
}

func newSimDest() *simDest {
	return &simDest{bufs: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (*simDest) String() string { return "simulated destination" }
func (*simDest) List(context.Context, string, string, storage.ListFunc) error {
	return nil
}
func (*simDest) Stat(_ context.Context, k string) (storage.ObjectInfo, error) {
	return storage.ObjectInfo{}, &storage.Error{Backend: "simulated destination", Op: "stat", Key: k, Err: storage.ErrNotFound}
}
func (*simDest) Open(_ context.Context, k string, _, _ int64) (io.ReadCloser, storage.ObjectInfo, error) {
	return nil, storage.ObjectInfo{}, &storage.Error{Backend: "simulated destination", Op: "open", Key: k, Err: storage.ErrNotFound}
}
func (d *simDest) Put(_ context.Context, k string, body io.Reader, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	buf := d.bufs.Get().(*[]byte)
	defer d.bufs.Put(buf)
	h := md5.New()
	n, err := io.CopyBuffer(h, body, *buf)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	return storage.ObjectInfo{Key: k, Size: n, ETag: hex.EncodeToString(h.Sum(nil)), ModTime: time.Now()}, nil
}
func (*simDest) Delete(context.Context, string) error { return nil }

func zeroETag(size int64) string {
	h := md5.New()
	_, _ = io.Copy(h, io.LimitReader(bytes.NewReader(make([]byte, size)), size))
	return hex.EncodeToString(h.Sum(nil))
}

// tally is what the harness saw the workers report: per key, how many
// times a result was accepted by the master (a report repeated after a
// restart counts twice here but must not count twice at the master).
//
// A report is counted when it was sent, whatever the answer: a master
// killed after committing a report but before answering it has recorded
// those results, and the worker's retry then meets a new master that
// refuses the old lease as stale. Such keys are counted in unanswered
// too, so the figure shows how often that happens.
type tally struct {
	perKey     []atomic.Uint32
	reported   atomic.Int64 // results sent, repeats included
	unanswered atomic.Int64 // results in reports that ended in an error
	foreign    atomic.Int64 // keys the listing never made: must stay 0
}

func newTally(n int) *tally { return &tally{perKey: make([]atomic.Uint32, n)} }

func (t *tally) add(rs []task.Result) {
	for _, r := range rs {
		i, ok := keyIndex(r.Key)
		if !ok || i >= len(t.perKey) {
			t.foreign.Add(1)
			continue
		}
		t.perKey[i].Add(1)
	}
	t.reported.Add(int64(len(rs)))
}

// check counts keys never reported and keys reported more than once.
func (t *tally) check() (missing, repeated int) {
	for i := range t.perKey {
		switch c := t.perKey[i].Load(); {
		case c == 0:
			missing++
		case c > 1:
			repeated++
		}
	}
	return missing, repeated
}

// timed is a worker.Master that times each call of the real gRPC client
// it wraps, into the recorders in force (steady, or after the restart).
type timed struct {
	worker.Master
	cur   *atomic.Pointer[ops]
	tally *tally
	// leasing, when set, is told when every lease that brought work was
	// asked for: the harness times the master's restart by it.
	leasing func(time.Time)
}

// Lease times a call that does not wait: the latency reported is the
// master's answer, not the time a worker sat waiting for a shard to be
// queued. Only when that finds nothing is the waiting call made, untimed,
// as the real agent would.
func (m *timed) Lease(ctx context.Context, w string, max int, wait time.Duration) ([]task.Grant, error) {
	t := time.Now()
	g, err := m.Master.Lease(ctx, w, max, 0)
	if err == nil && len(g) == 0 && wait > 0 {
		m.cur.Load().lease.add(time.Since(t))
		t = time.Now()
		if g, err = m.Master.Lease(ctx, w, max, wait); err != nil || len(g) == 0 {
			return g, err
		}
		if m.leasing != nil {
			m.leasing(t)
		}
		return g, nil
	}
	if err == nil {
		m.cur.Load().lease.add(time.Since(t))
		if len(g) > 0 && m.leasing != nil {
			// The call's start, not its end: a lease the old master
			// answered just before the kill must not count as the new
			// master's.
			m.leasing(t)
		}
	}
	return g, err
}

func (m *timed) Renew(ctx context.Context, w string, held []task.LeaseRef) ([]uint64, error) {
	t := time.Now()
	lost, err := m.Master.Renew(ctx, w, held)
	if err == nil {
		m.cur.Load().renew.add(time.Since(t))
	}
	return lost, err
}

func (m *timed) Report(ctx context.Context, w string, l task.LeaseRef, rs []task.Result) error {
	t := time.Now()
	err := m.Master.Report(ctx, w, l, rs)
	m.tally.add(rs)
	if err == nil {
		m.cur.Load().report.add(time.Since(t))
	} else {
		m.tally.unanswered.Add(int64(len(rs)))
	}
	return err
}

func (m *timed) Ack(ctx context.Context, w string, l task.LeaseRef) error {
	t := time.Now()
	err := m.Master.Ack(ctx, w, l)
	if err == nil {
		m.cur.Load().ack.add(time.Since(t))
	}
	return err
}

// lastLease remembers the latest lease that brought work, for timing the
// restart.
type lastLease struct {
	mu sync.Mutex
	t  time.Time
}

func (l *lastLease) set(t time.Time) {
	l.mu.Lock()
	if t.After(l.t) {
		l.t = t
	}
	l.mu.Unlock()
}

func (l *lastLease) get() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.t
}
