package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRateTime(t *testing.T) {
	for _, tc := range []struct {
		name           string
		r              Rate
		objects, bytes int64
		want           time.Duration
	}{
		{"bytes only", Rate{BytesPerSec: 100}, 5, 1000, 10 * time.Second},
		{"objects only", Rate{ObjectsPerSec: 50}, 100, 1 << 30, 2 * time.Second},
		{"both add up", Rate{BytesPerSec: 100, ObjectsPerSec: 50}, 100, 1000, 12 * time.Second},
		{"nothing to copy", Rate{BytesPerSec: 100, ObjectsPerSec: 50}, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.r.Time(tc.objects, tc.bytes))
		})
	}
}

func TestFit(t *testing.T) {
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	for _, tc := range []struct {
		name         string
		small, large Phase
		want         Rate
		err          bool
	}{
		// a = 0.01 s/object, b = 1e-6 s/byte: 100 small objects of 1e6
		// bytes in all take 100 × 0.01 + 1e6 × 1e-6 = 2 s; 10 large ones
		// of 1e8 bytes 0.1 + 100 = 100.1 s.
		{"solves both costs", Phase{Objects: 100, Bytes: 1e6, Elapsed: sec(2)}, Phase{Objects: 10, Bytes: 1e8, Elapsed: sec(100.1)},
			Rate{BytesPerSec: 1e6, ObjectsPerSec: 100}, false},
		{"small only: all per object", Phase{Objects: 50, Bytes: 500, Elapsed: sec(5)}, Phase{}, Rate{ObjectsPerSec: 10}, false},
		{"large only: all per byte", Phase{}, Phase{Objects: 2, Bytes: 4e6, Elapsed: sec(2)}, Rate{BytesPerSec: 2e6}, false},
		// Noise: the small phase took longer than the large one, which
		// moved ten times the bytes; the exact solution has a negative
		// per-byte cost. Each phase is charged to its own cost instead:
		// 3 s for 10 objects, and the large phase's time less its
		// objects' share, but at least half of it: 1 s for 1e7 bytes.
		{"noisy: falls back", Phase{Objects: 10, Bytes: 1e6, Elapsed: sec(3)}, Phase{Objects: 10, Bytes: 1e7, Elapsed: sec(2)},
			Rate{ObjectsPerSec: 10.0 / 3, BytesPerSec: 1e7}, false},
		{"nothing copied", Phase{}, Phase{}, Rate{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Fit(tc.small, tc.large)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.InEpsilon(t, max(tc.want.BytesPerSec, 1), max(r.BytesPerSec, 1), 1e-6, "bytes/s")
			assert.InEpsilon(t, max(tc.want.ObjectsPerSec, 1), max(r.ObjectsPerSec, 1), 1e-6, "objects/s")
		})
	}
}

func TestModelNodes(t *testing.T) {
	tb := int64(1 << 40)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name           string
		m              Model
		objects, bytes int64
		deadline       time.Duration
		nodes          int
		expected       time.Duration
		err            bool
	}{
		// The OssImport rule: 1 TiB at 100 MiB/s is 10,485.76 s a node;
		// in 1 hour at 80%: 10485.76 / 2880 = 3.64 -> 4 nodes.
		{"bytes: X/Y/(Z/100)", Model{Rate: Rate{BytesPerSec: 100 << 20}, Utilization: 0.8}, 0, tb, time.Hour, 4, 3277 * time.Second, false},
		// The same bytes in 100 million objects at 1,000 objects/s add
		// 100,000 s: (10485.76 + 100000) / 2880 = 38.4 -> 39 nodes.
		{"small objects add their requests", Model{Rate: Rate{BytesPerSec: 100 << 20, ObjectsPerSec: 1000}, Utilization: 0.8}, 100_000_000, tb, time.Hour, 39, 3541 * time.Second, false},
		{"an easy deadline: one node", Model{Rate: Rate{BytesPerSec: 100 << 20}, Utilization: 1}, 0, 1 << 30, day, 1, 10 * time.Second, false},
		// 1 TiB through a job throttle of 1 MiB/s takes 12 days: no node
		// count makes 7.
		{"throttled past the deadline", Model{Rate: Rate{BytesPerSec: 100 << 20}, Utilization: 1, Limits: Limits{BytesPerSec: 1 << 20}}, 0, tb, 7 * day, 0, 0, true},
		{"throttle floors the duration", Model{Rate: Rate{BytesPerSec: 100 << 20}, Utilization: 1, Limits: Limits{ObjectsPerSec: 1}}, 3600, 1 << 30, 2 * time.Hour, 1, time.Hour, false},
		{"no time", Model{Rate: Rate{BytesPerSec: 1}, Utilization: 1}, 1, 1, 0, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.m.Nodes(tc.objects, tc.bytes, tc.deadline)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.nodes, n)
			got := tc.m.Duration(tc.objects, tc.bytes, n)
			assert.Equal(t, tc.expected, got.Round(time.Second))
			assert.LessOrEqual(t, got, tc.deadline, "the node count makes the deadline")
		})
	}
}

func TestNodeCounts(t *testing.T) {
	for _, tc := range []struct {
		need int
		want []int
	}{
		{0, []int{1, 2, 4, 8}},
		{1, []int{1, 2, 4, 8}},
		{3, []int{1, 2, 3, 4, 8}},
		{8, []int{1, 2, 4, 8}},
		{13, []int{1, 2, 4, 8, 13, 16}},
		{40, []int{1, 2, 4, 8, 16, 32, 40, 64}},
	} {
		assert.Equal(t, tc.want, NodeCounts(tc.need), "need %d", tc.need)
	}
}
