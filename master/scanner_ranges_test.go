package master

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// rangeScan is a scanner over a memory listing that splits flat prefixes
// (pages and probes of 100 keys, so that a few thousand keys are worth it).
func rangeScan(st ScanStore, pass uint64, src *memList, threads int) *Scanner {
	return NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 300, Threads: threads,
		SplitRanges: true, ProbePage: 100}, st, nil, nil)
}

// rangeNames are the range streams recorded for the pass.
func rangeNames(t *testing.T, st *tracker.Store, pass uint64) []string {
	t.Helper()
	cps, err := st.ScanCheckpoints("j", pass)
	require.NoError(t, err)
	var out []string
	for n := range cps {
		if strings.HasPrefix(n, streamRange) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// A flat prefix listed as ranges shards exactly the keys a single stream
// does: none twice, none missed.
func TestScannerRangesShardEveryKeyOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
	}{
		{"sequential", sequentialKeys(20_000)},
		{"uniform", uniformKeys(20_000, 5)},
		{"skewed", skewedKeys(20_000, 6)},
		{"hot day", hotSpotKeys(20_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &memList{keys: tc.keys, page: 100}
			one, p1 := newStore(t, "j")
			require.NoError(t, rangeScan(one, p1, src, 1).Run(t.Context()))
			single := sharded(t, one, "j", p1)
			assert.Empty(t, rangeNames(t, one, p1), "one thread: one stream")

			st, pass := newStore(t, "j")
			s := rangeScan(st, pass, src, 8)
			require.NoError(t, s.Run(t.Context()))
			names := rangeNames(t, st, pass)
			assert.Greater(t, len(names), 8, "split into ranges")
			got := sharded(t, st, "j", pass)
			slices.Sort(got)
			assert.Equal(t, tc.keys, got, "every key exactly once")
			assert.Equal(t, single, got)
			assert.Equal(t, int64(len(tc.keys)), s.Listed.Load())
			cps, err := st.ScanCheckpoints("j", pass)
			require.NoError(t, err)
			for _, n := range names {
				assert.True(t, cps[n].Done, n)
			}
		})
	}
}

// Keys are listed in (lo, hi] ranges, with the exclusive startAfter of
// Backend.List: a split point that is a key belongs to the range below.
func TestScannerRangesHonourBounds(t *testing.T) {
	keys := sequentialKeys(1000)
	splits := []string{"obj/00000100", "obj/00000250x", "obj/00000700"} // two keys, one between keys
	rs := rangesOf(splits)
	rec := &recordingStore{ScanStore: nil}
	st, pass := newStore(t, "j")
	rec.ScanStore = st
	s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: &memList{keys: keys, page: 64}, ShardObjects: 50, Threads: 3}, rec, nil, nil)
	require.NoError(t, s.scanRanges(t.Context(), rs, nil))
	byStream := rec.keys()
	require.Len(t, byStream, len(rs))
	total := 0
	for _, r := range rs {
		got := byStream[r.name()]
		require.NotEmpty(t, got)
		assert.True(t, slices.IsSorted(got), "key order within a range")
		assert.Greater(t, got[0], r.lo)
		if r.hi != "" {
			assert.LessOrEqual(t, got[len(got)-1], r.hi)
		}
		total += len(got)
	}
	assert.Equal(t, len(keys), total)
	assert.Equal(t, "obj/00000100", byStream[rs[0].name()][99], "the split key itself ends the range below")
	assert.Equal(t, "obj/00000101", byStream[rs[1].name()][0])
	assert.Equal(t, "obj/00000251", byStream[rs[2].name()][0])
}

// recordingStore remembers which keys each stream appended.
type recordingStore struct {
	ScanStore
	mu     sync.Mutex
	stream map[string][]string
}

func (r *recordingStore) AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp tracker.ScanCheckpoint) ([]uint64, error) {
	r.mu.Lock()
	if r.stream == nil {
		r.stream = map[string][]string{}
	}
	for _, sh := range shards {
		for _, o := range sh.Objects {
			r.stream[cp.Stream] = append(r.stream[cp.Stream], o.Key)
		}
	}
	r.mu.Unlock()
	return r.ScanStore.AppendShards(job, n, shards, skipped, cp)
}

func (r *recordingStore) keys() map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.stream)
}

// failingStore fails AppendShards once left calls have succeeded, as a
// master killed at that point would stop: what was appended is kept.
type failingStore struct {
	*tracker.Store
	mu   sync.Mutex
	left int
}

var errKilled = errors.New("killed")

func (f *failingStore) AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp tracker.ScanCheckpoint) ([]uint64, error) {
	f.mu.Lock()
	if f.left <= 0 {
		f.mu.Unlock()
		return nil, errKilled
	}
	f.left--
	f.mu.Unlock()
	return f.Store.AppendShards(job, n, shards, skipped, cp)
}

// A scan interrupted at arbitrary points of arbitrary streams, resumed
// with another thread count each time, lists the ranges planned by the
// first run, and every key exactly once.
func TestScannerRangesResume(t *testing.T) {
	keys := uniformKeys(15_000, 7)
	src := &memList{keys: keys, page: 100}
	for seed := range uint64(3) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 11))
			st, pass := newStore(t, "j")
			// Killed before the first append: the layout is recorded
			// already, before any range is listed.
			fs := &failingStore{Store: st}
			require.ErrorIs(t, rangeScan(fs, pass, src, 8).Run(t.Context()), errKilled)
			layout := rangeNames(t, st, pass)
			require.Greater(t, len(layout), 8)
			assert.Empty(t, sharded(t, st, "j", pass))
			runs := 1
			for {
				runs++
				require.Less(t, runs, 500, "scan never finished")
				fs.left = r.IntN(6)
				err := rangeScan(fs, pass, src, []int{1, 3, 8, 16}[r.IntN(4)]).Run(t.Context())
				if err == nil {
					break
				}
				require.ErrorIs(t, err, errKilled)
			}
			assert.Greater(t, runs, 5, "interrupted several times")
			assert.Equal(t, layout, rangeNames(t, st, pass), "the same ranges whatever the thread count")
			got := sharded(t, st, "j", pass)
			slices.Sort(got)
			assert.Equal(t, keys, got, "every key exactly once")
		})
	}
}

// A layout with a range missing (recorded one stream at a time and killed
// in between, by a store without StartScanStreams) still covers every key.
func TestScannerRangesFillGaps(t *testing.T) {
	keys := sequentialKeys(3000)
	st, pass := newStore(t, "j")
	full := rangesOf([]string{"obj/00000500", "obj/00001000", "obj/00002000"})
	for _, r := range []keyRange{full[0], full[2]} { // second and last missing
		_, err := st.AppendShards("j", pass, nil, nil, tracker.ScanCheckpoint{Stream: r.name()})
		require.NoError(t, err)
	}
	var plain ScanStore = st // no StartScanStreams: not needed here
	require.NoError(t, rangeScan(plain, pass, &memList{keys: keys, page: 100}, 2).Run(t.Context()))
	got := sharded(t, st, "j", pass)
	slices.Sort(got)
	assert.Equal(t, keys, got)
	cps, err := st.ScanCheckpoints("j", pass)
	require.NoError(t, err)
	assert.Contains(t, cps, keyRange{"obj/00000500", "obj/00001000"}.name(), "the gap became a range")
	assert.Contains(t, cps, keyRange{"obj/00002000", ""}.name())
}

func TestRangeNames(t *testing.T) {
	for _, r := range []keyRange{{"", ""}, {"", "a:b"}, {"a/\x00", "\xff"}, {"x", ""}} {
		got, ok := parseRange(r.name())
		assert.True(t, ok)
		assert.Equal(t, r, got)
	}
	for _, bad := range []string{"all", "range:", "range:zz:00", "range:00"} {
		_, ok := parseRange(bad)
		assert.False(t, ok, bad)
	}
}

// A prefix with sub-prefixes keeps the level split (free split points),
// even where flat prefixes would be split into ranges; so does a flat
// prefix too small to be worth sampling.
func TestScannerRangesOnlyForLargeFlatPrefixes(t *testing.T) {
	src, keys := source(t, 200) // d0/ .. d3/ and top-level objects
	st, pass := newStore(t, "j")
	s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 20, Threads: 4, SplitRanges: true, ProbePage: 10},
		st, nil, nil)
	require.NoError(t, s.Run(t.Context()))
	cps, err := st.ScanCheckpoints("j", pass)
	require.NoError(t, err)
	assert.Contains(t, cps, streamLevel)
	assert.Contains(t, cps, streamDir+"d0/")
	assert.Empty(t, rangeNames(t, st, pass))
	got := sharded(t, st, "j", pass)
	slices.Sort(got)
	assert.Equal(t, keys, got)

	small, p2 := newStore(t, "j")
	flat := &memList{keys: sequentialKeys(150), page: 100}
	require.NoError(t, rangeScan(small, p2, flat, 8).Run(t.Context()))
	assert.Empty(t, rangeNames(t, small, p2), "two pages: one stream")
	assert.Equal(t, flat.keys, sharded(t, small, "j", p2))
}
