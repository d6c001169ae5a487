package master

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// BenchmarkScanFlat measures parallel listing of one flat prefix of 10^6
// keys served in pages of 1,000, each page costing 20 ms as a LIST over a
// WAN link would (the only place a sleep stands for latency: it is the
// thing measured). threads=1 is the single stream of before; the others
// split the prefix into ranges. store=tracker appends the shards to a real
// tracker, as ferry does; store=discard shows what the listing alone
// costs, so the difference is the tracker's share. One iteration is a
// whole scan: run with -benchtime=1x.
//
//	go test ./master -run '^$' -bench ScanFlat -benchtime=1x
func BenchmarkScanFlat(b *testing.B) {
	const n, page, latency = 1_000_000, 1000, 20 * time.Millisecond
	shapes := []struct {
		name string
		keys func() []string
	}{
		{"sequential", func() []string { return sequentialKeys(n) }},
		{"uniform", func() []string { return uniformKeys(n, 42) }},
	}
	for _, shape := range shapes {
		keys := sync.OnceValue(shape.keys)
		for _, store := range []string{"tracker", "discard"} {
			for _, threads := range []int{1, 8, 16} {
				if shape.name != "sequential" && threads == 1 {
					continue // one stream lists any shape alike
				}
				b.Run(fmt.Sprintf("keys=%s/store=%s/threads=%d", shape.name, store, threads), func(b *testing.B) {
					b.StopTimer() // generating the keys is not the scan
					src := &memList{keys: keys(), page: page, pageDelay: latency}
					var probes, trackerBusy int64
					for range b.N {
						b.StopTimer()
						var st ScanStore = discardStore{ids: new(atomic.Uint64)}
						pass := uint64(1)
						busy := &timedStore{}
						if store == "tracker" {
							ts, p := newStore(b, "j")
							busy.ScanStore, pass = ts, p
							st = busy
						}
						src.pages.Store(0)
						s := NewScanner(ScanConfig{Job: "j", Pass: pass, Src: src, Threads: threads, SplitRanges: true, ProbePage: page}, st, nil, benchLog(b))
						b.StartTimer()
						if err := s.Run(b.Context()); err != nil {
							b.Fatal(err)
						}
						b.StopTimer()
						if got := s.Listed.Load(); got != n {
							b.Fatalf("listed %d keys, want %d", got, n)
						}
						probes = src.pages.Load() - n/page
						trackerBusy += busy.busy.Load()
					}
					b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
					b.ReportMetric(float64(probes), "extra-pages")
					if store == "tracker" {
						// The share of the scan's time the tracker was
						// busy (its writes are serialized): near 1, it
						// is the bottleneck.
						b.ReportMetric(float64(trackerBusy)/float64(b.Elapsed()), "tracker-busy")
					}
				})
			}
		}
	}
}

// discardStore takes the shards and keeps nothing.
type discardStore struct{ ids *atomic.Uint64 }

func (discardStore) ScanCheckpoints(string, uint64) (map[string]tracker.ScanCheckpoint, error) {
	return nil, nil
}

func (d discardStore) AppendShards(_ string, _ uint64, shards []task.Shard, _ []task.Result, _ tracker.ScanCheckpoint) ([]uint64, error) {
	ids := make([]uint64, len(shards))
	for i := range ids {
		ids[i] = d.ids.Add(1)
	}
	return ids, nil
}

func (discardStore) Lookup(string, []string) (map[string]tracker.Entry, error) { return nil, nil }

// timedStore adds up the time spent in the tracker's scan calls.
type timedStore struct {
	ScanStore
	busy atomic.Int64 // ns
}

func (t *timedStore) AppendShards(job string, n uint64, shards []task.Shard, skipped []task.Result, cp tracker.ScanCheckpoint) ([]uint64, error) {
	defer t.since(time.Now())
	return t.ScanStore.AppendShards(job, n, shards, skipped, cp)
}

func (t *timedStore) Lookup(job string, keys []string) (map[string]tracker.Entry, error) {
	defer t.since(time.Now())
	return t.ScanStore.Lookup(job, keys)
}

func (t *timedStore) StartScanStreams(job string, n uint64, streams []string) error {
	return t.ScanStore.(streamStarter).StartScanStreams(job, n, streams)
}

func (t *timedStore) since(start time.Time) { t.busy.Add(int64(time.Since(start))) }

// benchLog logs the scan's planning (-v shows it) to the benchmark's output.
func benchLog(b *testing.B) *slog.Logger {
	return slog.New(slog.NewTextHandler(b.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}
