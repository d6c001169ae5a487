package worker

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

// countingObserver records what an Observer hears.
type countingObserver struct {
	mu                           sync.Mutex
	started, done, stopped       int
	bytes                        int64
	retried, throttled, inFlight int
	maxInFlight                  int
	jobs                         map[string]bool
	statuses                     map[task.Status]int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{jobs: map[string]bool{}, statuses: map[task.Status]int{}}
}

func (o *countingObserver) ObjectStarted(job string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started++
	o.inFlight++
	o.maxInFlight = max(o.maxInFlight, o.inFlight)
	o.jobs[job] = true
}

func (o *countingObserver) ObjectDone(job string, res task.Result, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.inFlight--
	if !ok {
		o.stopped++
		return
	}
	o.done++
	o.statuses[res.Status]++
}

func (o *countingObserver) BytesSent(job string, n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bytes += n
}

func (o *countingObserver) Retried(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.retried++
}

func (o *countingObserver) Throttled(string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttled++
}

// The agent tells its Observer of every object it starts and finishes.
func TestAgentObserver(t *testing.T) {
	src, dst := newLocal(t), newLocal(t)
	m := newFakeMaster(shardOf(t, src, 1, 5, "s%d/o%d"), shardOf(t, src, 2, 3, "s%d/o%d"))
	obs := newCountingObserver()
	a := &Agent{Name: "w1", Master: m, Copier: newCopier(t, Options{Src: src, Dst: dst}), Concurrency: 3,
		ReportEvery: 20 * time.Millisecond, RenewEvery: 20 * time.Millisecond, Log: testLogger(t), Observer: obs}
	_, err := runAgent(t.Context(), t, a)
	require.NoError(t, err)
	assert.Equal(t, 8, obs.started)
	assert.Equal(t, 8, obs.done)
	assert.Equal(t, 0, obs.inFlight)
	assert.LessOrEqual(t, obs.maxInFlight, 3)
	assert.Equal(t, 8, obs.statuses[task.StatusVerified])
}

// Hooks chains the observer after the callbacks already set, and leaves
// Options alone without an observer.
func TestHooks(t *testing.T) {
	var progress int64
	var throttled, retried int
	o := Options{Progress: func(d int64) { progress += d }, OnThrottled: func() { throttled++ },
		OnRetry: func(error) { retried++ }}
	assert.Equal(t, o.Settings, Hooks(o, "j", nil).Settings)

	obs := newCountingObserver()
	h := Hooks(o, "j", obs)
	h.Progress(10)
	h.OnThrottled()
	h.OnRetry(errors.New("503"))
	assert.Equal(t, int64(10), progress)
	assert.Equal(t, 1, throttled)
	assert.Equal(t, 1, retried)
	assert.Equal(t, int64(10), obs.bytes)
	assert.Equal(t, 1, obs.throttled)
	assert.Equal(t, 1, obs.retried)

	bare := Hooks(Options{}, "j", obs) // no callbacks of its own
	bare.Progress(5)
	bare.OnThrottled()
	bare.OnRetry(nil)
	assert.Equal(t, int64(15), obs.bytes)
}
