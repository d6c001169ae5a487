// Command scalebench is the scale harness of `make bench` (section
// "scale", issue 15): a real `ferry master` process over TLS with its
// cluster token, up to thousands of simulated workers in this process,
// and a source of 10^6..10^8 objects that costs no disk.
//
// Each simulated worker is the real worker.Agent driving the real gRPC
// client (worker/client): register, lease, heartbeat, report, ack, all
// over TLS to the master. Only the bytes are simulated: the Copier runs
// on a source whose Open sleeps the simulated copy time and a
// destination that keeps nothing.
//
// The source is a fake S3 endpoint that answers ListObjectsV2 from a
// counter (listing.go): the master lists it through its real s3 backend,
// page by page over HTTPS, as it would list a real bucket, and the
// product carries no benchmark-only storage type.
//
// It prints one JSON object of figures on stdout; scripts/bench/bench
// turns them into the tables of docs/benchmarks.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

type options struct {
	ferry          string
	work           string
	objects        int
	workers        int
	concurrency    int
	size           int64
	copy           time.Duration
	jitter         float64
	killAt         float64
	profile        string
	timeout        time.Duration
	dialers        int
	keepData       bool
	leaseTTL       string
	heartbeatEvery string
	shardObjects   int
	masterCPUs     string
	workerCPUs     string
}

func main() {
	var o options
	flag.StringVar(&o.ferry, "ferry", "bin/ferry", "the ferry binary whose master is measured")
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "ferry-scale"), "scratch directory (the master's data dir goes here: local disk)")
	flag.IntVar(&o.objects, "objects", 1_000_000, "objects in the synthetic source")
	flag.IntVar(&o.workers, "workers", 100, "simulated workers (each its own gRPC connection and agent)")
	flag.IntVar(&o.concurrency, "concurrency", 8, "objects each worker copies at once (ferry worker's default)")
	flag.Int64Var(&o.size, "size", 1024, "bytes per object (read as zeros, hashed and verified by the real copier)")
	flag.DurationVar(&o.copy, "copy", 5*time.Millisecond, "simulated copy time per object (mean)")
	flag.Float64Var(&o.jitter, "jitter", 0.5, "simulated copy time varies by +- this fraction")
	flag.Float64Var(&o.killAt, "kill-at", 0.5, "kill -9 the master once this fraction of objects is verified, then restart it (0: no kill)")
	flag.StringVar(&o.profile, "cpuprofile", "", "CPU profile of the (restarted) master into this file")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Hour, "give up after this long")
	flag.IntVar(&o.dialers, "dialers", 32, "workers registering at once at start")
	flag.BoolVar(&o.keepData, "keep", false, "keep the work directory")
	flag.StringVar(&o.leaseTTL, "lease-ttl", "30s", "the master's --lease-ttl (its default)")
	flag.StringVar(&o.heartbeatEvery, "heartbeat", "5s", "the master's --heartbeat (its default)")
	flag.IntVar(&o.shardObjects, "shard-objects", 0, "the job's taskObjectCountLimit (0: ferry's default, 10,000)")
	flag.StringVar(&o.masterCPUs, "master-cpus", "", "run the master under taskset -c with this CPU list (\"0\"); empty: unpinned")
	flag.StringVar(&o.workerCPUs, "worker-cpus", "", "pin this process (the simulated workers and the fake S3) with taskset -a -p -c to this CPU list (\"1\"); empty: unpinned")
	flag.Parse()
	if o.workerCPUs != "" {
		if err := pinSelf(o.workerCPUs); err != nil {
			fmt.Fprintln(os.Stderr, "scalebench:", err)
			os.Exit(1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "scalebench:", err)
		os.Exit(1)
	}
	if !res.Correct {
		fmt.Fprintln(os.Stderr, "scalebench: the run lost or double-counted objects:", res.Problems)
		os.Exit(2)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s scale: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
