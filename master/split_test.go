package master

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Key sets of the shapes the splitter must handle.
func sequentialKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("obj/%08d", i+1)
	}
	return keys
}

func uniformKeys(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 1))
	seen := map[string]bool{}
	keys := make([]string, 0, n)
	for len(keys) < n {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		k := "flat/" + hex.EncodeToString(b)
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// skewedKeys: random lowercase names whose first letter is far from
// uniform (half start with "m", a quarter with "c"), as user or tenant
// names are.
func skewedKeys(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 2))
	const alpha = "abcdefghijklmnopqrstuvwxyz"
	keys := map[string]bool{}
	for len(keys) < n {
		b := make([]byte, 12)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		switch p := r.Float64(); {
		case p < 0.5:
			b[0] = 'm'
		case p < 0.75:
			b[0] = 'c'
		}
		keys["u/"+string(b)] = true
	}
	out := make([]string, 0, n)
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hotSpotKeys: sequential keys with one day far denser than the others.
func hotSpotKeys(n int) []string {
	var keys []string
	for d := 1; d <= 28; d++ {
		per := n / 56
		if d == 14 {
			per = n / 2
		}
		for i := range per {
			keys = append(keys, fmt.Sprintf("log/2024-02-%02d/%07d", d, i))
		}
	}
	return keys
}

// probeOf answers probes from a sorted key list, counting them.
func probeOf(keys []string, page int, calls *atomic.Int64) probeFunc {
	return func(_ context.Context, after string) ([]string, error) {
		calls.Add(1)
		i := sort.Search(len(keys), func(i int) bool { return keys[i] > after })
		return slices.Clone(keys[i:min(i+page, len(keys))]), nil
	}
}

// counts returns how many keys each range of the splits holds.
func counts(keys, splits []string) []int {
	out := make([]int, len(splits)+1)
	for _, k := range keys {
		out[sort.SearchStrings(splits, k)]++ // ranges are (lo, hi]
	}
	return out
}

func TestSplitterPlans(t *testing.T) {
	for _, tc := range []struct {
		name       string
		keys       []string
		page, want int
		minRanges  int     // when the estimate bounds them; 0: exactly want
		maxRanges  int     // likewise
		maxSkew    float64 // the largest range over the mean; 0: not checked
	}{
		{"uniform random hex", uniformKeys(200_000, 1), 1000, 32, 0, 0, 1.6},
		{"sequential numbers", sequentialKeys(200_000), 1000, 32, 0, 0, 1.6},
		{"sequential numbers, small page", sequentialKeys(50_000), 100, 16, 0, 0, 1.6},
		{"skewed first letters", skewedKeys(200_000, 3), 1000, 32, 0, 0, 2},
		// Fixed-width counters that use few of their digits leave holes in
		// the keyspace after every day: probes at growing distances from
		// each day's last keys find where they stop.
		{"one hot day", hotSpotKeys(200_000), 1000, 32, 0, 0, 2},
		{"tiny: one short page", sequentialKeys(999), 1000, 32, 1, 1, 0},
		{"few keys: a few pages", sequentialKeys(3500), 1000, 32, 1, 1, 0},
		{"keys for a handful of ranges", sequentialKeys(12_000), 1000, 32, 2, 3, 1.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			sp := &splitter{page: tc.page, parallel: 8, probe: probeOf(tc.keys, tc.page, &calls)}
			first, err := sp.probe(t.Context(), "")
			require.NoError(t, err)
			splits, err := sp.plan(t.Context(), first, tc.want)
			require.NoError(t, err)
			assert.True(t, slices.IsSorted(splits) && len(slices.Compact(slices.Clone(splits))) == len(splits), "strictly increasing")
			lo, hi := tc.minRanges, tc.maxRanges
			if lo == 0 {
				lo, hi = tc.want, tc.want
			}
			assert.GreaterOrEqual(t, len(splits)+1, lo, "ranges")
			assert.LessOrEqual(t, len(splits)+1, hi, "ranges")
			c := counts(tc.keys, splits)
			mean := float64(len(tc.keys)) / float64(len(c))
			t.Logf("%d probes in %d waves, ranges %v", calls.Load(), sp.waves+1, c)
			if len(c) > 1 && tc.maxSkew > 0 {
				assert.LessOrEqual(t, float64(slices.Max(c))/mean, tc.maxSkew, "balance: %v", c)
				assert.Positive(t, slices.Min(c), "no empty range: %v", c)
			}
			assert.LessOrEqual(t, calls.Load(), int64(2+endRounds*9+2*tc.want*(refineRounds+1)), "probes")
		})
	}
}

// The keyspace is monotone and round-trips the keys it was built from.
func TestKeyspaceMonotone(t *testing.T) {
	keys := append(sequentialKeys(50), uniformKeys(50, 9)...)
	keys = append(keys, "obj", "obj/", "flat/zz", "a\x00b")
	slices.Sort(keys)
	ks := newKeyspace(keys)
	for i := 1; i < len(keys); i++ {
		assert.LessOrEqual(t, ks.rank(keys[i-1]).Cmp(ks.rank(keys[i])), 0, "%q <= %q", keys[i-1], keys[i])
		assert.Equal(t, keys[i], ks.key(ks.rank(keys[i])))
	}
	assert.Equal(t, keys[0], ks.at(0))
	assert.Equal(t, keys[len(keys)-1], ks.at(1))
	assert.InDelta(t, 0.5, ks.frac(ks.at(0.5)), 1e-9)
}
