package master

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// walkTotals is what the registry's running totals must equal: a walk of
// every worker.
func walkTotals(r *Registry) (live int, sum Rates) {
	for _, w := range r.workers {
		if w.alive {
			live++
			sum.BytesPerSecond += w.rates.BytesPerSecond
			sum.ObjectsPerSecond += w.rates.ObjectsPerSecond
		}
	}
	return max(1, live), sum
}

// regStep is one call to the registry at t0 plus at.
type regStep struct {
	op     string // register, touch, beat, reap
	worker string
	at     time.Duration
	bytes  int64
	objs   int64
}

func TestRegistryTotalsMatchAWalk(t *testing.T) {
	beat := func(w string, at time.Duration, bytes, objs int64) regStep {
		return regStep{op: "beat", worker: w, at: at, bytes: bytes, objs: objs}
	}
	reap := func(at time.Duration) regStep { return regStep{op: "reap", at: at} }
	cases := []struct {
		name  string
		steps []regStep
	}{
		{"register and beat", []regStep{
			{op: "register", worker: "a"}, {op: "register", worker: "b"},
			beat("a", time.Second, 5000, 10), beat("b", time.Second, 3000, 7), beat("a", 6*time.Second, 100, 1),
		}},
		{"implicit worker, then registered", []regStep{
			{op: "touch", worker: "x"}, beat("x", time.Second, 10, 1),
			{op: "register", worker: "x", at: 2 * time.Second}, beat("x", 7*time.Second, 999, 3),
		}},
		{"a silent worker dies and its rates leave the sum", []regStep{
			{op: "register", worker: "a"}, {op: "register", worker: "b"},
			beat("a", time.Second, 5000, 10), beat("b", time.Second, 3000, 7),
			beat("a", 10*time.Second, 4000, 8), reap(17 * time.Second),
		}},
		{"a dead worker comes back with no rates, then beats", []regStep{
			{op: "register", worker: "a"}, beat("a", time.Second, 5000, 10), reap(20 * time.Second),
			{op: "touch", worker: "a", at: 21 * time.Second}, beat("a", 26*time.Second, 700, 2),
		}},
		{"forgotten after ten timeouts, reaps too close together skipped", []regStep{
			{op: "register", worker: "a"}, {op: "register", worker: "b"}, beat("b", time.Second, 1, 1),
			reap(16 * time.Second), reap(16*time.Second + time.Millisecond),
			{op: "touch", worker: "a", at: 170 * time.Second}, reap(171 * time.Second),
			beat("a", 175*time.Second, 1<<40, 1e6), beat("nobody", 175*time.Second, 5, 5),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestRegistry()
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				switch s.op {
				case "register":
					r.Register(Registration{Worker: s.worker}, now)
				case "touch":
					r.Touch(s.worker, now)
				case "beat":
					r.Beat(s.worker, WorkerStats{BytesSent: s.bytes, ObjectsDone: s.objs}, now)
				case "reap":
					r.Reap(now)
				default:
					t.Fatalf("unknown op %q", s.op)
				}
				live, sum := walkTotals(r)
				assert.Equal(t, live, r.liveLocked(), "step %d (%s %s): live workers", i, s.op, s.worker)
				got := r.clusterRatesLocked()
				assert.InDelta(t, sum.BytesPerSecond, got.BytesPerSecond, 1e-6*max(1, sum.BytesPerSecond), "step %d: bytes/s", i)
				assert.InDelta(t, sum.ObjectsPerSecond, got.ObjectsPerSecond, 1e-9*max(1, sum.ObjectsPerSecond), "step %d: objects/s", i)
			}
		})
	}
}
