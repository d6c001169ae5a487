package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// fakeMaster is an in-memory Master: a queue of grants, and a record of
// everything the agent said.
type fakeMaster struct {
	*MemUploads
	mu          sync.Mutex
	queue       []task.Grant
	emptyFirst  int  // Lease answers empty this many times first
	finishWhen  bool // ErrFinished once the queue is empty and nothing is out
	out         map[uint64]bool
	results     map[uint64][]task.Result
	reports     []int // batch sizes
	acked       map[uint64]bool
	nacked      map[uint64]string
	loseOnRenew map[uint64]bool
	// staleOnReport: Report refuses these tokens with task.ErrStale, as a
	// master does once the shard was leased again or its pass ended.
	staleOnReport map[uint64]bool
	refused       int
	leaseCalls    int
	renewCalls    int
	// holdEmpty: an empty answer comes after the call's whole wait, as
	// from a master that holds leases open; leases records every call.
	holdEmpty bool
	leases    []leaseCall
}

type leaseCall struct {
	wait            time.Duration
	asked, answered time.Time
}

func newFakeMaster(shards ...task.Grant) *fakeMaster {
	return &fakeMaster{MemUploads: NewMemUploads(), queue: shards, finishWhen: true, out: map[uint64]bool{},
		results: map[uint64][]task.Result{}, acked: map[uint64]bool{}, nacked: map[uint64]string{}, loseOnRenew: map[uint64]bool{},
		staleOnReport: map[uint64]bool{}}
}

func (m *fakeMaster) Lease(ctx context.Context, worker string, max int, wait time.Duration) ([]task.Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.leaseCalls++
	if m.emptyFirst > 0 {
		m.emptyFirst--
		call := leaseCall{wait: wait, asked: time.Now()}
		if m.holdEmpty {
			m.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			m.mu.Lock()
		}
		call.answered = time.Now()
		m.leases = append(m.leases, call)
		return nil, nil
	}
	if len(m.queue) == 0 {
		if m.finishWhen && len(m.out) == 0 {
			return nil, ErrFinished
		}
		return nil, nil
	}
	n := min(max, len(m.queue))
	g := m.queue[:n]
	m.queue = m.queue[n:]
	for _, s := range g {
		m.out[s.Token] = true
	}
	return g, nil
}

func (m *fakeMaster) Renew(ctx context.Context, worker string, held []task.LeaseRef) ([]uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.renewCalls++
	var lost []uint64
	for _, h := range held {
		if tok := h.Token; m.loseOnRenew[tok] {
			lost = append(lost, tok)
			delete(m.out, tok) // re-granted to someone else
		}
	}
	return lost, nil
}

func (m *fakeMaster) Report(ctx context.Context, worker string, lease task.LeaseRef, results []task.Result) error {
	token := lease.Token
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.staleOnReport[token] {
		m.refused++
		delete(m.out, token) // another worker or pass has the shard now
		return fmt.Errorf("token %d: %w", token, task.ErrStale)
	}
	m.results[token] = append(m.results[token], results...)
	m.reports = append(m.reports, len(results))
	return nil
}

func (m *fakeMaster) Ack(ctx context.Context, worker string, lease task.LeaseRef) error {
	token := lease.Token
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.out[token] {
		return fmt.Errorf("token %d: not leased", token)
	}
	m.acked[token] = true
	delete(m.out, token)
	return nil
}

func (m *fakeMaster) Nack(ctx context.Context, worker string, lease task.LeaseRef, reason string) error {
	token := lease.Token
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nacked[token] = reason
	delete(m.out, token)
	return nil
}

// shardOf puts n objects in src and returns their shard.
func shardOf(t *testing.T, src storage.Backend, id uint64, n int, keyf string) task.Grant {
	g := task.Grant{Shard: task.Shard{Job: "job", ID: id}, Token: 100 + id, Attempt: 1}
	for i := range n {
		key := fmt.Sprintf(keyf, id, i)
		putObj(t, src, key, randomBytes(1000+i, id*100+uint64(i)))
		g.Objects = append(g.Objects, object(t, src, key, "copy/"+key))
	}
	return g
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func runAgent(ctx context.Context, t *testing.T, a *Agent) (time.Duration, error) {
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not stop")
		return 0, nil
	}
}

func TestAgentCopiesAllAndAcks(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	m := newFakeMaster(shardOf(t, src, 1, 5, "s%d/o%d"), shardOf(t, src, 2, 5, "s%d/o%d"),
		shardOf(t, src, 3, 0, "s%d/o%d"), shardOf(t, src, 4, 4, "s%d/o%d"))
	m.emptyFirst = 2 // the scanner is still busy: the agent polls
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Concurrency: 3,
		ReportBatch: 2, ReportEvery: 20 * time.Millisecond, RenewEvery: 20 * time.Millisecond, Log: testLogger(t)}
	took, err := runAgent(t.Context(), t, a)
	require.NoError(t, err, "ErrFinished ends Run cleanly")
	assert.Less(t, took, 3*time.Second)
	for _, tok := range []uint64{101, 102, 103, 104} {
		assert.True(t, m.acked[tok], "shard %d acked", tok)
	}
	assert.Len(t, m.results[101], 5)
	assert.Len(t, m.results[102], 5)
	assert.Empty(t, m.results[103])
	assert.Len(t, m.results[104], 4)
	for tok, rs := range m.results {
		for _, r := range rs {
			assert.Equal(t, task.StatusVerified, r.Status, "token %d key %s: %s", tok, r.Key, r.Reason)
			_, err := dst.Stat(t.Context(), r.Dest)
			assert.NoError(t, err)
		}
	}
	for _, n := range m.reports {
		assert.LessOrEqual(t, n, 2, "reports are batched by ReportBatch")
	}
	assert.Empty(t, m.nacked)
	assert.GreaterOrEqual(t, m.leaseCalls, 3)
}

func TestAgentLostTokenStopsWork(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	slow := shardOf(t, src, 1, 3, "slow%d/o%d")
	fast := shardOf(t, src, 2, 2, "fast%d/o%d")
	hs := hook(src)
	var mu sync.Mutex
	canceled := 0
	hs.beforeOpen = func(ctx context.Context, key string) error {
		if !strings.HasPrefix(key, "slow") {
			return nil
		}
		<-ctx.Done() // hangs until the agent lets go of the shard
		mu.Lock()
		canceled++
		mu.Unlock()
		return ctx.Err()
	}
	m := newFakeMaster(slow, fast)
	m.loseOnRenew[slow.Token] = true
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: hs, Dst: dst}), Concurrency: 4,
		RenewEvery: 50 * time.Millisecond, ReportEvery: 20 * time.Millisecond, Log: testLogger(t)}
	took, err := runAgent(t.Context(), t, a)
	require.NoError(t, err)
	assert.Less(t, took, 2*time.Second)
	assert.False(t, m.acked[slow.Token], "a lost shard is not acked")
	assert.Empty(t, m.results[slow.Token], "nothing was copied")
	assert.True(t, m.acked[fast.Token])
	mu.Lock()
	assert.Equal(t, 3, canceled, "the copies in flight were canceled")
	mu.Unlock()
	assert.Empty(t, m.nacked, "losing a lease is not a failure to report")
}

func TestAgentFatalNacks(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	g := shardOf(t, src, 1, 6, "s%d/o%d")
	hd := hook(dst)
	hd.afterPut = func(info storage.ObjectInfo, err error) (storage.ObjectInfo, error) {
		if strings.HasSuffix(info.Key, "o3") {
			return storage.ObjectInfo{}, &storage.Error{Backend: "test", Op: "put", Key: info.Key, Err: storage.ErrAuth}
		}
		return info, err
	}
	m := newFakeMaster(g)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: hd}), Concurrency: 1, Log: testLogger(t)}
	took, err := runAgent(t.Context(), t, a)
	require.ErrorIs(t, err, storage.ErrAuth)
	assert.Less(t, took, 2*time.Second)
	assert.Contains(t, m.nacked[g.Token], "credentials refused")
	assert.False(t, m.acked[g.Token])
	assert.Len(t, m.results[g.Token], 3, "the objects done before the failure are reported (shutdown flush)")
}

func TestAgentCancel(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	g := shardOf(t, src, 1, 4, "s%d/o%d")
	hs := hook(src)
	ctx, cancel := context.WithCancel(t.Context())
	hs.beforeOpen = func(octx context.Context, key string) error {
		if strings.HasSuffix(key, "o2") {
			cancel() // the operator stops the worker while o2 is copied
			<-octx.Done()
			return octx.Err()
		}
		return nil
	}
	m := newFakeMaster(g)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: hs, Dst: dst}), Concurrency: 1,
		ReportEvery: time.Hour, ReportBatch: 100, Log: testLogger(t)}
	took, err := runAgent(ctx, t, a)
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, took, 2*time.Second)
	assert.Len(t, m.results[g.Token], 2, "o0 and o1 are reported on the way out")
	assert.False(t, m.acked[g.Token])
	assert.Empty(t, m.nacked, "stopping is not the shard's fault")
}

func TestAgentLeaseErrorsAreRetried(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	m := &flakyLease{fakeMaster: newFakeMaster(shardOf(t, src, 1, 2, "s%d/o%d")), fails: 2}
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Log: testLogger(t)}
	_, err := runAgent(t.Context(), t, a)
	require.NoError(t, err)
	assert.True(t, m.acked[101])
}

type flakyLease struct {
	*fakeMaster
	fails int
}

func (f *flakyLease) Lease(ctx context.Context, worker string, max int, wait time.Duration) ([]task.Grant, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, errors.New("master unreachable")
	}
	f.mu.Unlock()
	return f.fakeMaster.Lease(ctx, worker, max, wait)
}

func TestAgentNeedsMasterAndCopier(t *testing.T) {
	assert.Error(t, (&Agent{}).Run(t.Context()))
}

// A report the master refuses as stale is never sent again: the shard is
// dropped (no ack, no nack), and the agent goes on with its other work.
func TestAgentDropsShardRefusedAsStale(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	old := shardOf(t, src, 1, 3, "old%d/o%d")
	cur := shardOf(t, src, 2, 2, "cur%d/o%d")
	m := newFakeMaster(old, cur)
	m.staleOnReport[old.Token] = true
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Concurrency: 2,
		ReportEvery: 10 * time.Millisecond, Log: testLogger(t)}
	_, err := runAgent(t.Context(), t, a)
	require.NoError(t, err)
	assert.Empty(t, m.results[old.Token], "refused results are not recorded")
	assert.False(t, m.acked[old.Token], "a stale shard is not acked")
	assert.Empty(t, m.nacked, "nor given back: it is someone else's")
	assert.True(t, m.acked[cur.Token])
	assert.Len(t, m.results[cur.Token], 2)
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Equal(t, 1, m.refused, "a refused report is not retried")
}

// TestAgentAuditGrantCompares: an audit grant is compared, not copied:
// the destination is left as it was, and the results say what differs.
func TestAgentAuditGrantCompares(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	g := shardOf(t, src, 1, 3, "s%d/o%d")
	g.Audit = true
	putObj(t, dst, g.Objects[0].Dest, getObj(t, src, g.Objects[0].Key)) // the others are missing
	m := newFakeMaster(g)
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Concurrency: 2,
		ReportEvery: 20 * time.Millisecond, RenewEvery: 20 * time.Millisecond, Log: testLogger(t)}
	_, err := runAgent(t.Context(), t, a)
	require.NoError(t, err)
	assert.True(t, m.acked[g.Token])
	got := map[string]task.Result{}
	for _, r := range m.results[g.Token] {
		got[r.Key] = r
	}
	require.Len(t, got, 3)
	assert.Equal(t, task.StatusVerified, got[g.Objects[0].Key].Status)
	for _, o := range g.Objects[1:] {
		assert.Equal(t, ReasonMissing, got[o.Key].Reason, o.Key)
		assert.Equal(t, ClassAudit, got[o.Key].Class, o.Key)
		_, err := dst.Stat(t.Context(), o.Dest)
		assert.ErrorIs(t, err, storage.ErrNotFound, "%s: an audit copies nothing", o.Dest)
	}
}

// TestAgentLeaseWait: the agent lets the master hold an empty lease for
// its poll interval (doubling from pollMin) and sleeps only what is left
// of it: after a master that answered at once, the rest of the interval
// (no spinning on old masters); after one that held the call, nothing.
func TestAgentLeaseWait(t *testing.T) {
	for _, hold := range []bool{false, true} {
		t.Run(fmt.Sprintf("master holds the call: %v", hold), func(t *testing.T) {
			src, dst := newLocal(t), newLocal(t)
			m := newFakeMaster(shardOf(t, src, 1, 1, "s%d/o%d"))
			m.emptyFirst, m.holdEmpty = 3, hold
			a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Log: testLogger(t)}
			_, err := runAgent(t.Context(), t, a)
			require.NoError(t, err)
			m.mu.Lock()
			defer m.mu.Unlock()
			require.Len(t, m.leases, 3)
			for i, want := range []time.Duration{pollMin, 2 * pollMin, 4 * pollMin} {
				assert.Equal(t, want, m.leases[i].wait, "call %d", i)
			}
			for i := range 2 {
				prev, next := m.leases[i], m.leases[i+1]
				// Never sooner than the interval after the last ask.
				assert.GreaterOrEqual(t, next.asked.Sub(prev.asked), prev.wait, "call %d came too soon", i+1)
				if hold {
					// The master already waited: asking again is
					// immediate, not another interval later.
					assert.Less(t, next.asked.Sub(prev.answered), prev.wait, "call %d slept after a held answer", i+1)
				}
			}
			assert.True(t, m.acked[101])
		})
	}
}
