// Command bench is `make bench`: ferry against rclone and a raw GET->PUT
// pipe on the same two local S3 servers (versitygw over TLS), plus ferry's
// scan scale and the cost of its streaming hashes. It writes its tables
// into docs/benchmarks.md between markers, leaving the rest of the file.
//
// BENCH_QUICK=1 (or -quick) runs small datasets for a fast check.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

type dataset struct {
	Name  string
	Count int
	Size  int64 // every object's size, unless Mixed
	Runs  int   // rounds; -runs overrides
	Mixed bool  // sizes 0 to 256 KiB and awkward keys (mixed.go)
	Local bool  // the source is a local directory, not the source server
}

type config struct {
	quick                              bool
	runs, workers                      int
	work, out, bin, profile            string
	sections                           map[string]bool
	tools                              []string
	scanSizes                          []int
	sets                               []dataset
	ferry, rclone, rawpipe, scan, hash string
	scale                              string
	ferryB                             string // -ferry-b: a second ferry binary, tool "ferry-b", for A/B runs
}

func main() {
	var c config
	quick := flag.Bool("quick", os.Getenv("BENCH_QUICK") == "1", "small datasets (also BENCH_QUICK=1)")
	flag.IntVar(&c.runs, "runs", 0, "runs per tool and dataset (default 5; 3 with -quick)")
	flag.IntVar(&c.workers, "workers", 16, "concurrency for every tool (ferry --workers, rclone --transfers, rawpipe -workers)")
	flag.StringVar(&c.work, "work", "", "scratch directory (default $TMPDIR/ferry-bench)")
	flag.StringVar(&c.out, "out", "docs/benchmarks.md", "results file (tables replaced between markers)")
	flag.StringVar(&c.bin, "bin", "", "directory with ferry, rawpipe, scanbench, hashbench (built by make bench)")
	flag.StringVar(&c.profile, "profile", "", "write a CPU profile of every ferry run into this directory (ferry run --cpuprofile)")
	flag.StringVar(&c.ferryB, "ferry-b", "", "a second ferry binary, run as tool ferry-b (add it to -tools): before/after a change in the same run")
	sections := flag.String("sections", "copy,verify,scan,hash,scale", "which parts to run")
	tools := flag.String("tools", "ferry,rclone,raw", "tools compared in the copy section")
	sets := flag.String("sets", "", "datasets to run, comma-separated (default all: a-small,b-large,c-huge,m-mixed,l-mixed; l- is local -> S3)")
	flag.Parse()
	c.quick = *quick
	c.tools = strings.Split(*tools, ",")
	c.sections = map[string]bool{}
	for _, s := range strings.Split(*sections, ",") {
		c.sections[strings.TrimSpace(s)] = true
	}
	if c.work == "" {
		c.work = filepath.Join(os.TempDir(), "ferry-bench")
	}
	root, err := testserver.ModuleRoot()
	must(err)
	cache := os.Getenv("FERRY_CACHE")
	if cache == "" {
		cache = filepath.Join(root, ".cache")
	}
	if c.bin == "" {
		c.bin = filepath.Join(root, "bin")
	}
	c.ferry, c.rawpipe = filepath.Join(c.bin, "ferry"), filepath.Join(c.bin, "rawpipe")
	c.scan, c.hash = filepath.Join(c.bin, "scanbench"), filepath.Join(c.bin, "hashbench")
	c.scale = filepath.Join(c.bin, "scalebench")
	c.rclone = filepath.Join(cache, "bin", "rclone")
	if c.quick {
		c.sets = []dataset{{"a-small", 2000, 16 << 10, 3, false, false}, {"b-large", 4, 64 << 20, 3, false, false}, {"c-huge", 1, 256 << 20, 3, false, false},
			{"m-mixed", 1000, 0, 3, true, false}, {"l-mixed", 1000, 0, 3, true, true}}
		c.scanSizes = []int{100_000, 200_000}
	} else {
		c.sets = []dataset{{"a-small", 20000, 16 << 10, 5, false, false}, {"b-large", 32, 64 << 20, 5, false, false}, {"c-huge", 1, 2 << 30, 5, false, false},
			{"m-mixed", 5000, 0, 5, true, false}, {"l-mixed", 5000, 0, 5, true, true}}
		c.scanSizes = []int{1_000_000, 2_000_000}
	}
	for i := range c.sets {
		if c.runs > 0 {
			c.sets[i].Runs = c.runs
		}
	}
	if *sets != "" {
		keep := strings.Split(*sets, ",")
		c.sets = slices.DeleteFunc(c.sets, func(d dataset) bool { return !slices.Contains(keep, d.Name) })
	}
	if err := run(&c, cache); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(c *config, cache string) error {
	mode := "full"
	if c.quick {
		mode = "quick"
	}
	var md strings.Builder
	fmt.Fprintf(&md, "Mode: **%s**", mode)
	if c.quick {
		md.WriteString(" (BENCH_QUICK=1: small datasets, a fast check, not the issue's figures)")
	}
	fmt.Fprintf(&md, ". Date: %s. Machine: %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine())
	if c.sections["copy"] || c.sections["verify"] {
		if err := os.RemoveAll(filepath.Join(c.work, "s3")); err != nil {
			return err
		}
		vgw := filepath.Join(cache, "bin", "versitygw")
		for _, side := range []string{"src", "dst"} {
			if err := os.MkdirAll(filepath.Join(c.work, "s3", side), 0o700); err != nil {
				return err
			}
		}
		// One key pair for both servers, so the raw pipe needs one client config.
		keys := testserver.Options{AccessKey: "benchroot", SecretKey: fmt.Sprintf("bench-secret-%d", time.Now().UnixNano())}
		src, err := testserver.StartVersitygw(vgw, filepath.Join(c.work, "s3", "src"), keys)
		if err != nil {
			return err
		}
		defer src.Stop()
		stopOnSignal(src)
		dst, err := testserver.StartVersitygw(vgw, filepath.Join(c.work, "s3", "dst"), keys)
		if err != nil {
			return err
		}
		defer dst.Stop()
		stopOnSignal(dst)
		logf("source %s, destination %s", src.Endpoint, dst.Endpoint)
		e := &env{c: c, src: src, dst: dst}
		if err := e.setup(); err != nil {
			return err
		}
		if c.sections["copy"] {
			s, err := e.copyBench()
			if err != nil {
				return err
			}
			md.WriteString(s)
		}
		if c.sections["verify"] {
			s, err := e.verifyBench()
			if err != nil {
				return err
			}
			md.WriteString(s)
		}
	}
	if c.sections["hash"] {
		out, err := exec.Command(c.hash).Output()
		if err != nil {
			return fmt.Errorf("hashbench: %w", err)
		}
		var h map[string]float64
		if err := json.Unmarshal(out, &h); err != nil {
			return err
		}
		fmt.Fprintf(&md, "### Streaming hash cost (hashbench, one 64 MiB buffer in 32 KiB writes, best of 5, one core)\n\n")
		fmt.Fprintf(&md, "| copy only | + CRC64 (storage/crc, CLMUL) | + CRC64 (Go's hash/crc64, before) | + CRC64NVME (storage/crc) | + MD5 | + CRC64 + MD5 |\n|---|---|---|---|---|---|\n")
		fmt.Fprintf(&md, "| %.0f MB/s | %.0f MB/s | %.0f MB/s | %.0f MB/s | %.0f MB/s | %.0f MB/s |\n\n", h["memcpy_mbps"], h["crc64_mbps"], h["crc64_stdlib_mbps"], h["crc64nvme_mbps"], h["md5_mbps"], h["crc64_md5_mbps"])
	}
	if c.sections["scan"] {
		s, err := scanBench(c)
		if err != nil {
			return err
		}
		md.WriteString(s)
	}
	if c.sections["scale"] {
		// Its own block: `BENCH_SECTIONS=scale` must not wipe the copy
		// tables of the last full run, nor they it.
		head := fmt.Sprintf("Mode: **%s**. Date: %s. Machine: %s.\n\n", mode, time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine())
		save := func(s string) {
			if err := writeResults(c.out, "scale:"+mode, head+s); err != nil {
				logf("writing the scale tables: %v", err)
			}
		}
		s, err := scaleBench(c, save)
		save(s)
		if err != nil {
			return err
		}
	}
	if !c.sections["copy"] && !c.sections["verify"] && !c.sections["hash"] && !c.sections["scan"] {
		return nil // only the scale section ran: the other tables stay as they are
	}
	return writeResults(c.out, "bench:"+mode, md.String())
}

var (
	serversMu sync.Mutex
	servers   []*testserver.S3Server
	sigOnce   sync.Once
)

// stopOnSignal stops s (and every server registered before) when the
// benchmark is interrupted, so no server outlives it.
func stopOnSignal(s *testserver.S3Server) {
	serversMu.Lock()
	servers = append(servers, s)
	serversMu.Unlock()
	sigOnce.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			<-ch
			serversMu.Lock()
			for _, s := range servers {
				s.Stop()
			}
			os.Exit(130)
		}()
	})
}

func machine() string {
	free, _ := exec.Command("free", "-h").Output()
	mem := ""
	for _, l := range strings.Split(string(free), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "Mem:" {
			mem = f[1]
		}
	}
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("nproc %d (%s), RAM %s (free -h), %s, %s/%s", runtime.NumCPU(), cpu, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// writeResults replaces the text between <!-- tag --> and <!-- /tag -->
// in path, or appends the block.
func writeResults(path, tag, body string) error {
	old, _ := os.ReadFile(path)
	begin, end := "<!-- "+tag+" -->", "<!-- /"+tag+" -->"
	block := begin + "\n" + body + end
	s := string(old)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i >= 0 && j > i {
		s = s[:i] + block + s[j+len(end):]
	} else {
		if s == "" {
			s = "# Benchmarks\n"
		}
		s = strings.TrimRight(s, "\n") + "\n\n" + block + "\n"
	}
	logf("writing %s", path)
	return os.WriteFile(path, []byte(s), 0o644)
}
