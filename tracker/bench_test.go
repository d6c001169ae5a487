package tracker

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// benchObjects makes a realistic shard: ~60-byte keys sharing prefixes,
// a dest prefix, sizes, mtimes, ETags and CRCs.
func benchObjects(first, n int) []task.Object {
	out := make([]task.Object, n)
	for i := range out {
		j := first + i
		k := fmt.Sprintf("photos/2024/%02d/%02d/user-%07d/IMG_%09d.jpg", j/1_000_000%12+1, j/40_000%28+1, j/100, j)
		out[i] = task.Object{Key: k, Dest: "backup/" + k, Size: int64(1<<20 + j%4096), ModTime: t0.Add(time.Duration(j) * time.Second),
			ETag: fmt.Sprintf("%032x", uint64(j)*0x9E3779B97F4A7C15), CRC64: uint64(j) * 0xBF58476D1CE4E5B9, HasCRC64: true}
	}
	return out
}

// BenchmarkAppendShards is the scan path: one 10,000-object shard per
// AppendShards call (one fsync'd transaction), each preceded by the
// scanner's manifest Lookup of the batch's keys.
func BenchmarkAppendShards(b *testing.B) {
	const per = 10_000
	s := newJob(b)
	keys := make([]string, per)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sh := []task.Shard{{Objects: benchObjects(i*per, per)}}
		for j, o := range sh[0].Objects {
			keys[j] = o.Key
		}
		b.StartTimer()
		if _, err := s.Lookup("j", keys); err != nil {
			b.Fatal(err)
		}
		last := sh[0].Objects[per-1].Key
		if _, err := s.AppendShards("j", 1, sh, nil, ScanCheckpoint{Stream: fmt.Sprintf("s%d", i), After: last}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "objects/s")
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse)/(1<<20), "heapMB")
}

// BenchmarkReport is the result path: batches of 1,000 verified results.
func BenchmarkReport(b *testing.B) {
	const per = 1000
	s := newJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rs := make([]task.Result, per)
		for j, o := range benchObjects(i*per, per) {
			rs[j] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusVerified, Method: task.MethodCRC64,
				Size: o.Size, ModTime: o.ModTime, ETag: o.ETag, DestETag: o.ETag, CRC64: o.CRC64, HasCRC64: true,
				BytesRead: o.Size, BytesSent: o.Size, Attempts: 1, Duration: time.Second}
		}
		b.StartTimer()
		if err := s.Report("j", 1, rs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "results/s")
}

// BenchmarkSkipped is an incremental pass over an unchanged source: every
// object is recorded as skipped in the manifest by AppendShards.
func BenchmarkSkipped(b *testing.B) {
	const per = 10_000
	s := newJob(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rs := make([]task.Result, per)
		for j, o := range benchObjects(i*per, per) {
			rs[j] = task.Result{Key: o.Key, Dest: o.Dest, Status: task.StatusSkipped, Method: task.MethodManifest,
				Reason: "unchanged since pass 1", Size: o.Size, ModTime: o.ModTime, ETag: o.ETag, CRC64: o.CRC64, HasCRC64: true}
		}
		b.StartTimer()
		if _, err := s.AppendShards("j", 1, nil, rs, ScanCheckpoint{Stream: fmt.Sprintf("s%d", i), After: rs[per-1].Key}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "objects/s")
}
