package master

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/local"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// source makes a local tree with n objects spread over dirs, returning the
// backend and the sorted keys.
func source(t *testing.T, n int) (storage.Backend, []string) {
	t.Helper()
	b, err := local.New(t.TempDir(), local.Options{})
	require.NoError(t, err)
	var keys []string
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("d%d/f%03d.bin", i%4, i)
		if i%7 == 0 {
			k = fmt.Sprintf("top%03d", i) // objects directly at the top level too
		}
		_, err := b.Put(t.Context(), k, bytes.NewReader(make([]byte, i%50)), storage.ObjectInfo{Size: int64(i % 50)})
		require.NoError(t, err)
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return b, keys
}

func newStore(t testing.TB, job string) (*tracker.Store, uint64) {
	t.Helper()
	st, err := tracker.Open(t.TempDir(), tracker.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.PutJob(tracker.Job{Name: job, State: tracker.JobRunning}))
	p, err := st.StartPass(job, time.Now())
	require.NoError(t, err)
	return st, p.N
}

// sharded returns every object key in the pass's shards, in shard order.
func sharded(t *testing.T, st *tracker.Store, job string, pass uint64) []string {
	t.Helper()
	var keys []string
	require.NoError(t, st.Shards(job, pass, tracker.ShardAny, func(r tracker.ShardRecord) error {
		for _, o := range r.Objects {
			keys = append(keys, o.Key)
		}
		return nil
	}))
	return keys
}

func TestScannerShardsEverythingOnce(t *testing.T) {
	src, keys := source(t, 100)
	for _, threads := range []int{1, 4} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			st, pass := newStore(t, "j")
			var notified atomic.Int64
			s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, DestPrefix: "backup/", ShardObjects: 9, ShardBytes: 1 << 20, Threads: threads},
				st, func(ids []uint64) { notified.Add(int64(len(ids))) }, nil)
			require.NoError(t, s.Run(t.Context()))
			got := sharded(t, st, "j", pass)
			slices.Sort(got)
			assert.Equal(t, keys, got, "every object exactly once")
			assert.Equal(t, int64(100), s.Listed.Load())
			p, _, err := st.GetPass("j", pass)
			require.NoError(t, err)
			assert.Equal(t, int64(100), p.Scanned)
			assert.Equal(t, p.Shards, notified.Load())
			require.NoError(t, st.Shards("j", pass, tracker.ShardAny, func(r tracker.ShardRecord) error {
				assert.LessOrEqual(t, len(r.Objects), 9, "shard object limit")
				for _, o := range r.Objects {
					assert.Equal(t, "backup/"+o.Key, o.Dest)
				}
				return nil
			}))
		})
	}
}

func TestScannerShardByteLimit(t *testing.T) {
	src, _ := source(t, 60)
	st, pass := newStore(t, "j")
	s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 1000, ShardBytes: 100}, st, nil, nil)
	require.NoError(t, s.Run(t.Context()))
	require.NoError(t, st.Shards("j", pass, tracker.ShardAny, func(r tracker.ShardRecord) error {
		if len(r.Objects) > 1 {
			assert.LessOrEqual(t, r.Bytes(), int64(100))
		}
		return nil
	}))
}

// TestScannerFirstShardsRamp: a stream's first shard is one LIST page,
// so workers start after one page, and the shards after it double up to
// ShardObjects; every key is in exactly one shard, in order.
func TestScannerFirstShardsRamp(t *testing.T) {
	keys := make([]string, 17500)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%06d", i)
	}
	for _, tc := range []struct {
		shardObjects int
		want         []int
	}{
		{0, []int{1000, 2000, 4000, 8000, 2500}}, // the default, 10,000
		{1500, []int{1000, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500, 1500}},
		{300, append(slices.Repeat([]int{300}, 58), 100)}, // below one page: no ramp
	} {
		t.Run(fmt.Sprint(tc.shardObjects), func(t *testing.T) {
			st, pass := newStore(t, "j")
			s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: &memList{keys: keys, page: 1000}, ShardObjects: tc.shardObjects}, st, nil, nil)
			require.NoError(t, s.Run(t.Context()))
			var sizes []int
			var got []string
			require.NoError(t, st.Shards("j", pass, tracker.ShardAny, func(r tracker.ShardRecord) error {
				sizes = append(sizes, len(r.Objects))
				for _, o := range r.Objects {
					got = append(got, o.Key)
				}
				return nil
			}))
			assert.Equal(t, tc.want, sizes)
			assert.Equal(t, keys, got)
		})
	}
}

// TestScannerResumesAfterInterruption: a scan stopped after each shard
// append resumes from its checkpoints; nothing twice, nothing missed.
func TestScannerResumesAfterInterruption(t *testing.T) {
	src, keys := source(t, 120)
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			st, pass := newStore(t, "j")
			runs := 0
			for {
				runs++
				require.Less(t, runs, 200, "scan never finished")
				ctx, cancel := context.WithCancel(t.Context())
				s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, ShardObjects: 7, Threads: threads},
					st, func([]uint64) { cancel() }, nil)
				err := s.Run(ctx)
				cancel()
				if err == nil {
					break
				}
				require.True(t, errors.Is(err, context.Canceled), "run %d: %v", runs, err)
			}
			assert.Greater(t, runs, 5, "the scan was really interrupted several times")
			got := sharded(t, st, "j", pass)
			slices.Sort(got)
			assert.Equal(t, keys, got)
		})
	}
}

func TestScannerFilterAndManifestSkip(t *testing.T) {
	src, keys := source(t, 40)
	st, pass := newStore(t, "j")
	// Pass 1: everything verified.
	s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src}, st, nil, nil)
	require.NoError(t, s.Run(t.Context()))
	var results []task.Result
	require.NoError(t, st.Shards("j", pass, tracker.ShardAny, func(r tracker.ShardRecord) error {
		for _, o := range r.Objects {
			results = append(results, task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusVerified, Method: task.MethodMD5,
				Size: o.Size, ModTime: o.ModTime, ETag: o.ETag})
		}
		return st.SetShardState("j", pass, r.ID, tracker.ShardDone, 1, "")
	}))
	require.NoError(t, st.Report("j", pass, results))
	require.NoError(t, st.FinishScan("j", pass))
	_, err := st.FinishPass("j", pass, time.Now())
	require.NoError(t, err)

	// Change one object; pass 2 copies only it, and the filter drops d1/.
	changed := keys[len(keys)-1]
	_, err = src.Put(t.Context(), changed, bytes.NewReader([]byte("new content")), storage.ObjectInfo{Size: 11})
	require.NoError(t, err)
	p2, err := st.StartPass("j", time.Now())
	require.NoError(t, err)
	f, err := NewFilter(time.Time{}, time.Time{}, nil, []string{"d1/**"})
	require.NoError(t, err)
	s2 := NewScanner(ScanConfig{Job: "j", Pass: p2.N, Src: src, Filter: f}, st, nil, nil)
	require.NoError(t, s2.Run(t.Context()))
	assert.Equal(t, []string{changed}, sharded(t, st, "j", p2.N), "only the changed object is copied again")
	assert.Positive(t, s2.Excluded.Load())
	pass2, _, err := st.GetPass("j", p2.N)
	require.NoError(t, err)
	assert.Equal(t, int64(len(keys))-s2.Excluded.Load()-1, pass2.Skipped, "unchanged objects skipped by manifest")
	e, err := st.Lookup("j", []string{keys[0]})
	require.NoError(t, err)
	assert.Equal(t, task.MethodManifest, e[keys[0]].Method)
	assert.Contains(t, e[keys[0]].Reason, "verified in pass 1")
}

// rewritten: a manifest entry of an examined object and a listing that
// differs in size, ETag, CRC64 or mtime; delete records never count.
func TestRewritten(t *testing.T) {
	old := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	was := task.Result{Status: task.StatusVerified, Size: 5, ModTime: old, ETag: `"aa"`, CRC64: 7, HasCRC64: true}
	now := task.Object{Size: 5, ModTime: old, ETag: `"AA"`, CRC64: 7, HasCRC64: true}
	for _, tc := range []struct {
		name string
		edit func(*task.Result, *task.Object)
		want bool
	}{
		{"same object (ETag case aside)", func(*task.Result, *task.Object) {}, false},
		{"size", func(_ *task.Result, o *task.Object) { o.Size = 6 }, true},
		{"etag", func(_ *task.Result, o *task.Object) { o.ETag = `"bb"` }, true},
		{"crc64", func(_ *task.Result, o *task.Object) { o.CRC64 = 8 }, true},
		{"crc64 unknown now", func(_ *task.Result, o *task.Object) { o.CRC64, o.HasCRC64 = 8, false }, false},
		{"mtime", func(_ *task.Result, o *task.Object) { o.ModTime = old.Add(-time.Hour) }, true},
		{"skipped entry", func(r *task.Result, o *task.Object) { r.Status, o.Size = task.StatusSkipped, 6 }, true},
		{"failed entry", func(r *task.Result, o *task.Object) { r.Status, o.Size = task.StatusFailed, 6 }, true},
		{"delete record", func(r *task.Result, o *task.Object) { r.Status, o.Size = task.StatusDeleted, 6 }, false},
		{"would-delete record", func(r *task.Result, o *task.Object) { r.Status, o.Size = task.StatusWouldDelete, 6 }, false},
		{"requeued entry", func(r *task.Result, o *task.Object) { r.Status, o.Size = task.StatusUnknown, 6 }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, o := was, now
			tc.edit(&r, &o)
			assert.Equal(t, tc.want, rewritten(tracker.Entry{Result: r, Pass: 1}, o))
		})
	}
}
