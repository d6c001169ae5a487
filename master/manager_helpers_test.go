package master

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// harness is a Manager over a real tracker in a temp dir, with a fake
// clock; restart replaces the Manager as a restarted master process would.
type harness struct {
	t     *testing.T
	clock *fakeClock
	st    *tracker.Store
	store JobStore // what the Manager gets: st, or a wrapper of it
	dir   string
	m     *Manager
	base  uint64
}

const (
	testHeartbeat = 5 * time.Second // worker timeout: 15s
	testLeaseTTL  = time.Minute
)

func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	h := &harness{t: t, clock: &fakeClock{now: t0}, st: st, dir: dir, base: 1 << 40}
	t.Cleanup(func() {
		if h.m != nil {
			h.m.Close()
		}
		st.Close()
	})
	h.start()
	return h
}

func (h *harness) start() {
	h.t.Helper()
	store := h.store
	if store == nil {
		store = h.st
	}
	m, err := NewManager(ManagerConfig{Store: store, DataDir: h.dir, LeaseTTL: testLeaseTTL, Heartbeat: testHeartbeat,
		Now: h.clock.Now, TokenBase: h.base})
	require.NoError(h.t, err)
	require.NoError(h.t, m.Start(h.t.Context()))
	h.m = m
}

// restart closes the manager and starts a new one on the same store and
// data dir, with a new token base as after a real restart.
func (h *harness) restart() {
	h.t.Helper()
	h.m.Close()
	h.base += 1 << 30
	h.start()
}

// localJob writes n source files and returns a local -> local config
// with shards of 5 objects.
func localJob(t *testing.T, name string, n int, extra ...string) string {
	t.Helper()
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "dst")
	b, err := local.New(src, local.Options{})
	require.NoError(t, err)
	for i := range n {
		_, err := b.Put(t.Context(), fmt.Sprintf("f%03d", i), bytes.NewReader([]byte{byte(i)}), storage.ObjectInfo{Size: 1})
		require.NoError(t, err)
	}
	lines := append([]string{"jobName=" + name, "srcType=local", "srcPrefix=" + src, "destType=local",
		"destPrefix=" + dst, "taskObjectCountLimit=5"}, extra...)
	return strings.Join(lines, "\n") + "\n"
}

func (h *harness) submit(cfg string) string {
	h.t.Helper()
	job, _, err := h.m.Submit(h.t.Context(), cfg, "")
	require.NoError(h.t, err)
	h.waitScanned(job)
	return job
}

// waitScanned waits (real time) until the job's scan is finished.
func (h *harness) waitScanned(job string) {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		s, err := h.m.Stat(job)
		return err == nil && s[0].ScanFinished
	}, 10*time.Second, 5*time.Millisecond, "scan of %s", job)
}

func (h *harness) stat(job string) JobStat {
	h.t.Helper()
	s, err := h.m.Stat(job)
	require.NoError(h.t, err)
	return s[0]
}

func (h *harness) register(workers ...string) {
	h.t.Helper()
	for _, w := range workers {
		require.NoError(h.t, h.m.Register(h.t.Context(), Registration{Worker: w, Hostname: "host-" + w, Concurrency: 4}))
	}
}

func (h *harness) heartbeat(w string, held ...task.LeaseRef) (lost []task.LeaseRef, thr []JobThrottle) {
	h.t.Helper()
	lost, thr, rereg, err := h.m.Heartbeat(h.t.Context(), w, held, WorkerStats{Interval: testHeartbeat})
	require.NoError(h.t, err)
	require.False(h.t, rereg, "worker %s is registered", w)
	return lost, thr
}

func (h *harness) lease(w string, max int) []task.Grant {
	h.t.Helper()
	gs, err := h.m.Lease(h.t.Context(), w, max)
	require.NoError(h.t, err)
	return gs
}

// finish reports every object of g verified and acks it.
func (h *harness) finish(w string, g task.Grant) {
	h.t.Helper()
	ctx := context.Background()
	require.NoError(h.t, h.m.Report(ctx, w, g.Ref(), verified(g.Objects)))
	stale, err := h.m.Ack(ctx, w, g.Ref())
	require.NoError(h.t, err)
	require.False(h.t, stale, "ack of %s shard %d", g.Job, g.ID)
}

// drain leases and finishes everything there is.
func (h *harness) drain(w string) {
	h.t.Helper()
	for range 1000 {
		gs := h.lease(w, 4)
		if len(gs) == 0 {
			return
		}
		for _, g := range gs {
			h.finish(w, g)
		}
	}
	h.t.Fatal("drain: work never ran out")
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Mode().Perm()
}
