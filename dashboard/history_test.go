package dashboard

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/tracker"
)

func stat(job string, pass uint64, sent, verified int64) master.JobStat {
	return master.JobStat{Job: job, Pass: pass, Counters: tracker.Counters{BytesSent: sent, Verified: verified}}
}

func TestHistory(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	tests := []struct {
		name     string
		samples  [][]master.JobStat
		points   int
		bps      float64
		ok       bool
		capacity int
	}{
		{"one sample has no rate", [][]master.JobStat{{stat("a", 1, 0, 0)}}, 0, 0, false, 10},
		{"steady", [][]master.JobStat{{stat("a", 1, 0, 0)}, {stat("a", 1, 100, 1)}, {stat("a", 1, 200, 2)}}, 2, 100, true, 10},
		{"a new pass is not a negative rate", [][]master.JobStat{{stat("a", 1, 0, 0)}, {stat("a", 1, 500, 5)}, {stat("a", 2, 0, 0)}, {stat("a", 2, 50, 1)}}, 2, 50, true, 10},
		{"the ring keeps the last n", [][]master.JobStat{{stat("a", 1, 0, 0)}, {stat("a", 1, 100, 1)}, {stat("a", 1, 300, 2)}, {stat("a", 1, 600, 3)}}, 1, 300, true, 2},
		{"a job that went is forgotten", [][]master.JobStat{{stat("a", 1, 0, 0)}, {stat("a", 1, 100, 1)}, {stat("b", 1, 0, 0)}}, 0, 0, false, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistory(tt.capacity)
			for i, s := range tt.samples {
				h.add(t0.Add(time.Duration(i)*time.Second), s)
			}
			assert.Len(t, h.points("a"), tt.points)
			bps, _, ok := h.rate("a")
			assert.Equal(t, tt.ok, ok)
			assert.InDelta(t, tt.bps, bps, 1e-9)
		})
	}
}
