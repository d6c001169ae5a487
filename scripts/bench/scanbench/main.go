// Command scanbench measures ferry's master scanning a local source into
// the tracker, exactly as `ferry run` does it (master.Scanner over the
// local backend, appending shards to a fresh tracker.Store), without
// copying anything. It prints one JSON line: objects, seconds, objects/s
// and the process's peak RSS (VmHWM).
//
//	scanbench -make 1000000 -src /tmp/scan-src    # create empty files (once)
//	scanbench -src /tmp/scan-src -data /tmp/scan-data [-threads 1] [-cpuprofile f]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/internal/gcpolicy"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/tracker"
)

func main() {
	mk := flag.Int("make", 0, "create this many empty files under -src (1000 per directory) and exit")
	src := flag.String("src", "", "local source directory")
	data := flag.String("data", "", "tracker directory (must not exist: a fresh data dir)")
	threads := flag.Int("threads", 1, "scanThreadCount (ferry's default is 1)")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile")
	flag.Parse()
	gcpolicy.Apply(os.Getenv) // as ferry runs
	if *mk > 0 {
		if err := makeFiles(*src, *mk); err != nil {
			fail(err)
		}
		return
	}
	if *src == "" || *data == "" {
		fail(fmt.Errorf("need -src and -data"))
	}
	if _, err := os.Stat(*data); err == nil {
		fail(fmt.Errorf("%s exists: give a fresh data dir", *data))
	}
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	st, err := tracker.Open(*data, tracker.Options{})
	if err != nil {
		fail(err)
	}
	defer st.Close()
	b, err := backends.Open(ctx, backends.Spec{Type: backends.Local, Root: *src})
	if err != nil {
		fail(err)
	}
	const job = "scanbench"
	if err := st.PutJob(tracker.Job{Name: job, Source: "local " + *src, Dest: "none", Created: time.Now()}); err != nil {
		fail(err)
	}
	pass, err := st.StartPass(job, time.Now())
	if err != nil {
		fail(err)
	}
	var shards atomic.Int64
	sc := master.NewScanner(master.ScanConfig{Job: job, Pass: pass.N, Src: b, Threads: *threads},
		st, func(ids []uint64) { shards.Add(int64(len(ids))) }, nil)
	// Peak live heap and peak file-backed RSS, sampled, to tell Go memory
	// from the tracker's mmap in VmHWM.
	var peakHeap, peakFile atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		smp := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(smp)
			if v := int64(smp[0].Value.Uint64()); v > peakHeap.Load() {
				peakHeap.Store(v)
			}
			if v := status("RssFile") << 10; v > peakFile.Load() {
				peakFile.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	if err := sc.Run(ctx); err != nil {
		fail(err)
	}
	secs := time.Since(start).Seconds()
	close(stop)
	<-sampled
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := map[string]any{
		"objects": sc.Listed.Load(), "shards": shards.Load(), "seconds": secs,
		"objects_per_s": float64(sc.Listed.Load()) / secs,
		"peak_rss_mib":  float64(status("VmHWM")) / 1024, "heap_sys_mib": float64(ms.HeapSys) / (1 << 20),
		// At the end: anonymous (Go heap, stacks) vs file-backed (the
		// tracker's bbolt mmap, the binary) resident memory.
		"rss_anon_mib": float64(status("RssAnon")) / 1024, "rss_file_mib": float64(status("RssFile")) / 1024,
		"threads":           *threads,
		"peak_heap_mib":     float64(peakHeap.Load()) / (1 << 20),
		"peak_rss_file_mib": float64(peakFile.Load()) / (1 << 20),
	}
	if fi, err := os.Stat(st.Path()); err == nil {
		out["db_mib"] = float64(fi.Size()) / (1 << 20)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

// status reads a KiB figure (VmHWM: peak RSS) from /proc/self/status.
func status(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

func makeFiles(root string, n int) error {
	dirs := (n + 999) / 1000
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	next := atomic.Int64{}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				d := int(next.Add(1) - 1)
				if d >= dirs {
					return
				}
				dir := filepath.Join(root, fmt.Sprintf("d%05d", d))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
				for i := d * 1000; i < min(n, (d+1)*1000); i++ {
					f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%07d", i)))
					if err == nil {
						err = f.Close()
					}
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "scanbench:", err)
	os.Exit(1)
}
