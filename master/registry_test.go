package master

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The registry is pure logic over the time it is given: these tests are
// its contract without a Manager, a tracker or a goroutine.

func newTestRegistry() *Registry {
	return NewRegistry(15*time.Second, 5*time.Second, slog.New(slog.DiscardHandler))
}

func TestRegistryLiveness(t *testing.T) {
	r := newTestRegistry()
	assert.Equal(t, 1, r.Register(Registration{Worker: "a"}, t0))
	assert.Equal(t, 2, r.Register(Registration{Worker: "b"}, t0))
	r.Touch("", t0) // a nameless caller is nobody
	r.Touch("c", t0)
	assert.False(t, r.Beat("c", WorkerStats{}, t0), "known only from a call: it must register")
	assert.True(t, r.Beat("a", WorkerStats{}, t0))
	assert.False(t, r.Beat("nobody", WorkerStats{}, t0), "unknown after a master restart")

	r.Touch("a", t0.Add(10*time.Second))
	assert.Empty(t, r.Reap(t0.Add(15*time.Second)), "silence of exactly the timeout is not death")
	assert.Equal(t, []string{"b", "c"}, r.Reap(t0.Add(16*time.Second)), "dead, in name order")
	assert.Empty(t, r.Reap(t0.Add(17*time.Second)), "named once")

	ws := r.Workers(map[string]int{"a": 3})
	require.Len(t, ws, 3, "the dead stay listed for a while")
	assert.Equal(t, WorkerInfo{Worker: "a", Leases: 3, Registered: t0, LastSeen: t0.Add(10 * time.Second), Alive: true}, ws[0])
	assert.False(t, ws[1].Alive)

	r.Touch("b", t0.Add(20*time.Second))
	assert.True(t, r.Workers(nil)[1].Alive, "a dead worker that calls again is alive")

	late := t0.Add(10*15*time.Second + 11*time.Second)
	r.Touch("a", late)
	r.Touch("b", late)
	assert.Empty(t, r.Reap(late))
	ws = r.Workers(nil)
	require.Len(t, ws, 2, "c, dead for ten timeouts, is forgotten")
	assert.Equal(t, []string{"a", "b"}, []string{ws[0].Worker, ws[1].Worker})
}

func TestRegistryRates(t *testing.T) {
	r := newTestRegistry()
	r.Register(Registration{Worker: "a"}, t0)
	r.Beat("a", WorkerStats{BytesSent: 1000, ObjectsDone: 4, Slowdowns: 2, Interval: 2 * time.Second}, t0)
	w := r.Workers(nil)[0]
	assert.Equal(t, int64(500), w.BytesPerSecond)
	assert.Equal(t, 2.0, w.ObjectsPerSecond)
	assert.Equal(t, int64(2), w.Slowdowns)
	// Without an interval, the time since the last heartbeat is used.
	r.Beat("a", WorkerStats{BytesSent: 1000, Slowdowns: 1}, t0.Add(4*time.Second))
	w = r.Workers(nil)[0]
	assert.Equal(t, int64(250), w.BytesPerSecond)
	assert.Equal(t, int64(3), w.Slowdowns, "slowdowns add up")
}

func TestRegistryShares(t *testing.T) {
	limited := JobLimits{Job: "j", Limits: Limits{BytesPerSecond: 300, ObjectsPerSecond: 30}}
	free := JobLimits{Job: "free"}
	r := newTestRegistry()
	for _, w := range []string{"a", "b", "c"} {
		r.Register(Registration{Worker: w}, t0)
	}
	assert.Equal(t, []JobThrottle{{"j", 100, 10, 0}, {Job: "free"}}, r.Shares("a", t0, []JobLimits{limited, free}),
		"no one holds a lease yet: an even share of the live workers, unlimited stays unlimited")

	r.Holding("j", "a", t0)
	r.Holding("j", "b", t0)
	assert.Equal(t, []JobThrottle{{"j", 150, 15, 0}}, r.Shares("a", t0, []JobLimits{limited}), "shared among those working on it")

	// b goes silent and dies: a has it all.
	r.Touch("a", t0.Add(16*time.Second))
	r.Touch("c", t0.Add(16*time.Second))
	r.Holding("j", "a", t0.Add(16*time.Second))
	assert.Equal(t, []string{"b"}, r.Reap(t0.Add(16*time.Second)))
	assert.Equal(t, []JobThrottle{{"j", 300, 30, 0}}, r.Shares("a", t0.Add(16*time.Second), []JobLimits{limited}))

	r.ForgetJob("j")
	assert.Equal(t, []JobThrottle{{"j", 150, 15, 0}}, r.Shares("a", t0.Add(16*time.Second), []JobLimits{limited}),
		"a new pass: nobody holds its leases, the two live workers share it")
}

func TestRegistryBackoff(t *testing.T) {
	r := newTestRegistry()
	r.Register(Registration{Worker: "a"}, t0)
	l := Limits{BytesPerSecond: 1000}
	got, f := r.Effective(l)
	assert.Equal(t, l, got)
	assert.Equal(t, 1.0, f)
	r.Beat("a", WorkerStats{Slowdowns: 3, Interval: time.Second}, t0)
	got, f = r.Effective(l)
	assert.Less(t, f, 1.0, "a SlowDown lowers every limit")
	assert.Equal(t, Effective(l, f, Rates{}), got)
	assert.Equal(t, got.BytesPerSecond, r.Shares("a", t0, []JobLimits{{Job: "j", Limits: l}})[0].BytesPerSecond)
}
