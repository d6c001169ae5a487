// Command bench is `make bench`: ferry against rclone and a raw GET->PUT
// pipe on the same two local S3 servers (versitygw over TLS), plus ferry's
// scan scale and the cost of its streaming hashes. It writes its tables
// into docs/benchmarks.md between markers, leaving the rest of the file.
//
// BENCH_QUICK=1 (or -quick) runs small datasets for a fast check.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

type dataset struct {
	Name  string
	Count int
	Size  int64
	Runs  int // rounds; -runs overrides
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
	sections := flag.String("sections", "copy,verify,scan,hash", "which parts to run")
	tools := flag.String("tools", "ferry,rclone,raw", "tools compared in the copy section")
	sets := flag.String("sets", "", "datasets to run, comma-separated (default all: a-small,b-large,c-huge)")
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
	c.rclone = filepath.Join(cache, "bin", "rclone")
	if c.quick {
		c.sets = []dataset{{"a-small", 2000, 16 << 10, 3}, {"b-large", 4, 64 << 20, 3}, {"c-huge", 1, 256 << 20, 3}}
		c.scanSizes = []int{100_000, 200_000}
	} else {
		c.sets = []dataset{{"a-small", 20000, 16 << 10, 5}, {"b-large", 32, 64 << 20, 5}, {"c-huge", 1, 2 << 30, 5}}
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

type env struct {
	c        *config
	src, dst *testserver.S3Server
	sc, dc   *s3.Client
	bundle   string // both servers' certificates
	seq      int
	// cpu holds each run's CPU seconds by series key (dataset/tool): the
	// tool's own and both servers'. Wall time is what a user sees; CPU
	// time is steadier on a shared 2-core box and says where it goes.
	cpu     map[string][]runCPU
	warming bool // the run in progress is a warm-up: not recorded
}

type runCPU struct{ tool, servers float64 }

// serverCPU is the CPU seconds both servers used so far, from
// /proc/PID/stat (utime + stime, in clock ticks of 1/100 s on Linux).
func (e *env) serverCPU() float64 {
	var total float64
	for _, s := range []*testserver.S3Server{e.src, e.dst} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.Pid()))
		if err != nil {
			continue
		}
		// Fields after the ")" closing the command name: utime and
		// stime are the 12th and 13th.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			total += (u + st) / 100
		}
	}
	return total
}

func unsigned(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

func (e *env) setup() error {
	e.sc, e.dc = e.src.Client(), e.dst.Client()
	a, err := os.ReadFile(e.src.Cert.CertFile)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(e.dst.Cert.CertFile)
	if err != nil {
		return err
	}
	e.bundle = filepath.Join(e.c.work, "s3", "ca-bundle.pem")
	if err := os.WriteFile(e.bundle, append(a, b...), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(e.c.work, "rclone.conf"), nil, 0o600); err != nil {
		return err
	}
	ctx := context.Background()
	buf := make([]byte, 64<<20)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(buf)
	for _, d := range e.c.sets {
		t := time.Now()
		if err := e.src.MakeBucket(ctx, d.Name); err != nil {
			return err
		}
		if err := e.generate(ctx, d, buf); err != nil {
			return fmt.Errorf("generating %s: %w", d.Name, err)
		}
		logf("generated %s: %d x %d bytes in %s", d.Name, d.Count, d.Size, time.Since(t).Round(time.Millisecond))
	}
	// The servers' files are still dirty in the page cache: without this
	// the first timed run shares the disk with their write-back.
	syscall.Sync()
	return nil
}

// generate fills bucket d.Name through the S3 API: many PUTs at once,
// objects above 64 MiB as multipart with 64 MiB parts.
func (e *env) generate(ctx context.Context, d dataset, buf []byte) error {
	conc := 64
	if d.Size >= 32<<20 {
		conc = 4
	}
	sem := make(chan struct{}, conc)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	body := func(i int, n int64) *bytes.Reader {
		off := (int64(i) * 4099) % (int64(len(buf)) - n + 1)
		return bytes.NewReader(buf[off : off+n])
	}
	for i := range d.Count {
		key := fmt.Sprintf("obj/%03d/%08d", i%1000, i)
		if d.Size <= int64(len(buf)) {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_, err := e.sc.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.Name, Key: &key, Body: body(i, d.Size), ContentLength: aws.Int64(d.Size)}, unsigned)
				if err != nil {
					fail(err)
				}
			}()
			continue
		}
		cu, err := e.sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &d.Name, Key: &key})
		if err != nil {
			return err
		}
		const ps = 64 << 20
		n := int((d.Size + ps - 1) / ps)
		parts := make([]types.CompletedPart, n)
		for p := range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				l := min(int64(ps), d.Size-int64(p)*ps)
				num := int32(p + 1)
				up, err := e.sc.UploadPart(ctx, &s3.UploadPartInput{Bucket: &d.Name, Key: &key, UploadId: cu.UploadId, PartNumber: &num,
					Body: body(p, l), ContentLength: &l}, unsigned)
				if err != nil {
					fail(err)
					return
				}
				parts[p] = types.CompletedPart{ETag: up.ETag, PartNumber: &num}
			}()
		}
		wg.Wait()
		if first != nil {
			return first
		}
		if _, err := e.sc.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &d.Name, Key: &key, UploadId: cu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			return err
		}
	}
	wg.Wait()
	return first
}

// count lists bucket on the destination: every tool's copy is checked the
// same way.
func (e *env) count(ctx context.Context, bucket string) (n int, bytes int64, err error) {
	pg := s3.NewListObjectsV2Paginator(e.dc, &s3.ListObjectsV2Input{Bucket: &bucket})
	for pg.HasMorePages() {
		p, err := pg.NextPage(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, o := range p.Contents {
			n++
			bytes += aws.ToInt64(o.Size)
		}
	}
	return n, bytes, nil
}

// oneRun copies dataset d with tool into a fresh destination bucket and
// returns the wall time of the tool's process.
func (e *env) oneRun(ctx context.Context, tool string, d dataset, verify string) (float64, error) {
	e.seq++
	bucket := fmt.Sprintf("r%03d-%s", e.seq, strings.ReplaceAll(tool, "=", "-"))
	if err := e.dst.MakeBucket(ctx, bucket); err != nil {
		return 0, err
	}
	defer os.RemoveAll(filepath.Join(e.dst.Root, bucket)) // versitygw posix: a bucket is a directory; never used again
	dir := filepath.Join(e.c.work, "runs", bucket)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	var cmd *exec.Cmd
	w := fmt.Sprint(e.c.workers)
	switch {
	case strings.HasPrefix(tool, "ferry"):
		cfg := filepath.Join(dir, "job.cfg")
		job := fmt.Sprintf(`jobName=bench
srcType=s3
srcDomain=%s
srcBucket=%s
srcAccessKey=%s
srcSecretKey=%s
srcPathStyle=true
srcCABundle=%s
destType=s3
destDomain=%s
destBucket=%s
destAccessKey=%s
destSecretKey=%s
destPathStyle=true
destCABundle=%s
`, e.src.Endpoint, d.Name, e.src.AccessKey, e.src.SecretKey, e.src.Cert.CertFile,
			e.dst.Endpoint, bucket, e.dst.AccessKey, e.dst.SecretKey, e.dst.Cert.CertFile)
		if verify != "" {
			job += "verify=" + verify + "\n"
		}
		if err := os.WriteFile(cfg, []byte(job), 0o600); err != nil {
			return 0, err
		}
		args := []string{"run", "--json", "--progress", "none", "--workers", w, "--data-dir", filepath.Join(dir, "data")}
		if e.c.profile != "" {
			args = append(args, "--cpuprofile", filepath.Join(e.c.profile, bucket+".pprof"))
		}
		cmd = exec.CommandContext(ctx, e.c.ferry, append(args, cfg)...)
	case tool == "rclone":
		cmd = exec.CommandContext(ctx, e.c.rclone, "copy", "src:"+d.Name, "dst:"+bucket, "--transfers", w,
			"--ca-cert", e.bundle, "--config", filepath.Join(e.c.work, "rclone.conf"),
			// ferry's multipart settings, so both cut 2 GiB the same way.
			"--s3-upload-cutoff", "100Mi", "--s3-chunk-size", "50Mi", "--s3-upload-concurrency", "4")
		cmd.Env = append(os.Environ(),
			"RCLONE_CONFIG_SRC_TYPE=s3", "RCLONE_CONFIG_SRC_PROVIDER=Other", "RCLONE_CONFIG_SRC_ENDPOINT="+e.src.Endpoint,
			"RCLONE_CONFIG_SRC_ACCESS_KEY_ID="+e.src.AccessKey, "RCLONE_CONFIG_SRC_SECRET_ACCESS_KEY="+e.src.SecretKey,
			"RCLONE_CONFIG_SRC_REGION=us-east-1", "RCLONE_CONFIG_SRC_FORCE_PATH_STYLE=true",
			"RCLONE_CONFIG_DST_TYPE=s3", "RCLONE_CONFIG_DST_PROVIDER=Other", "RCLONE_CONFIG_DST_ENDPOINT="+e.dst.Endpoint,
			"RCLONE_CONFIG_DST_ACCESS_KEY_ID="+e.dst.AccessKey, "RCLONE_CONFIG_DST_SECRET_ACCESS_KEY="+e.dst.SecretKey,
			"RCLONE_CONFIG_DST_REGION=us-east-1", "RCLONE_CONFIG_DST_FORCE_PATH_STYLE=true")
	case tool == "raw":
		cmd = exec.CommandContext(ctx, e.c.rawpipe, "-src", e.src.Endpoint, "-dst", e.dst.Endpoint, "-ca", e.bundle,
			"-access", e.src.AccessKey, "-secret", e.src.SecretKey, "-src-bucket", d.Name, "-dst-bucket", bucket, "-workers", w)
		if e.src.AccessKey != e.dst.AccessKey || e.src.SecretKey != e.dst.SecretKey {
			return 0, errors.New("rawpipe needs the same credentials on both servers")
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Every run starts with no dirty pages: the previous run's write-back
	// would otherwise land on whoever runs next.
	syscall.Sync()
	srv0 := e.serverCPU()
	t := time.Now()
	err := cmd.Run()
	secs := time.Since(t).Seconds()
	if err != nil {
		return 0, fmt.Errorf("%s on %s: %v\n%s%s", tool, d.Name, err, tail(stdout.String()), tail(stderr.String()))
	}
	if e.warming {
		logf("(warm-up, not counted)")
	} else if e.cpu == nil {
		e.cpu = map[string][]runCPU{}
	}
	key := d.Name + "/" + tool
	if verify != "" {
		key += ":" + verify
	}
	if !e.warming {
		e.cpu[key] = append(e.cpu[key], runCPU{
			tool:    (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds(),
			servers: e.serverCPU() - srv0,
		})
	}
	if strings.HasPrefix(tool, "ferry") {
		var rep struct {
			Counters struct{ Verified, Failed, Skipped int64 } `json:"counters"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			return 0, fmt.Errorf("ferry report: %v: %s", err, tail(stdout.String()))
		}
		if rep.Counters.Verified != int64(d.Count) || rep.Counters.Failed != 0 {
			return 0, fmt.Errorf("ferry on %s: verified %d failed %d of %d", d.Name, rep.Counters.Verified, rep.Counters.Failed, d.Count)
		}
	}
	n, b, err := e.count(ctx, bucket)
	if err != nil {
		return 0, err
	}
	if n != d.Count || b != int64(d.Count)*d.Size {
		return 0, fmt.Errorf("%s on %s: destination has %d objects / %d bytes, want %d / %d", tool, d.Name, n, b, d.Count, int64(d.Count)*d.Size)
	}
	logf("%-12s %-8s %8.2fs  %8.1f obj/s %8.1f MB/s", tool, d.Name, secs, float64(d.Count)/secs, float64(d.Count)*float64(d.Size)/1e6/secs)
	return secs, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// series runs tools on d, d.Runs rounds, rotating which tool goes first
// each round; it returns each tool's wall times by round.
//
// A warm-up run comes first and is not counted: the first run of a series
// is 20-30% slower whatever the tool (seen for ferry, rclone and the raw
// pipe alike), and would handicap whoever opens round 1.
func (e *env) series(ctx context.Context, d dataset, tools []string) (map[string][]float64, error) {
	secs := map[string][]float64{}
	name, verify, _ := strings.Cut(tools[len(tools)-1], ":")
	e.warming = true
	_, err := e.oneRun(ctx, name, d, verify)
	e.warming = false
	if err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	for r := range d.Runs {
		for i := range tools {
			tool := tools[(i+r)%len(tools)]
			name, verify, _ := strings.Cut(tool, ":")
			s, err := e.oneRun(ctx, name, d, verify)
			if err != nil {
				return nil, err
			}
			secs[tool] = append(secs[tool], s)
		}
	}
	return secs, nil
}

// pairRatio is the median over rounds of (a's rate / b's rate) in the
// same round = b's time / a's time.
func pairRatio(a, b []float64) (med float64, each []float64) {
	for i := range min(len(a), len(b)) {
		each = append(each, b[i]/a[i])
	}
	return median(each), each
}

func fmtList(v []float64, f string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(s, ", ")
}

func (e *env) copyBench() (string, error) {
	ctx := context.Background()
	var md strings.Builder
	var runs []string
	for _, d := range e.c.sets {
		runs = append(runs, fmt.Sprintf("%s %d", d.Name, d.Runs))
	}
	fmt.Fprintf(&md, "### Copy throughput (S3 -> S3, runs per tool alternating: %s; concurrency %d)\n\n", strings.Join(runs, ", "), e.c.workers)
	md.WriteString("Rates are medians over runs of objects / wall time and bytes / wall time (MB = 10^6 bytes); ratios are computed run by run (same round) and the median is shown, with every round's value in brackets.\n\n")
	md.WriteString("CPU columns are medians of CPU seconds per run (user + system): the tool's process, and both servers together; all share the 2 cores.\n\n")
	md.WriteString("| dataset | tool | median wall s | objects/s | MB/s | tool CPU s | servers CPU s | all walls (s) |\n|---|---|---|---|---|---|---|---|\n")
	var ratios strings.Builder
	ratios.WriteString("| dataset | ferry/rclone | ferry/raw | rclone/raw |\n|---|---|---|---|\n")
	tools := e.c.tools
	for _, d := range e.c.sets {
		secs, err := e.series(ctx, d, tools)
		if err != nil {
			return "", err
		}
		for _, t := range tools {
			m := median(secs[t])
			tc, sc := e.cpuMedians(d.Name + "/" + t)
			fmt.Fprintf(&md, "| %s (%d x %s) | %s | %.2f | %.1f | %.1f | %.1f | %.1f | %s |\n", d.Name, d.Count, human(d.Size), t, m,
				float64(d.Count)/m, float64(d.Count)*float64(d.Size)/1e6/m, tc, sc, fmtList(secs[t], "%.2f"))
		}
		ratio := func(a, b string) string {
			if secs[a] == nil || secs[b] == nil {
				return "-"
			}
			m, each := pairRatio(secs[a], secs[b])
			return fmt.Sprintf("**%.2f** [%s]", m, fmtList(each, "%.2f"))
		}
		fmt.Fprintf(&ratios, "| %s | %s | %s | %s |\n", d.Name, ratio("ferry", "rclone"), ratio("ferry", "raw"), ratio("rclone", "raw"))
	}
	md.WriteString("\nPairwise throughput ratios (>1 means the first tool is faster):\n\n")
	md.WriteString(ratios.String())
	md.WriteString("\n")
	return md.String(), nil
}

func (e *env) verifyBench() (string, error) {
	ctx := context.Background()
	i := slices.IndexFunc(e.c.sets, func(d dataset) bool { return d.Name == "b-large" })
	if i < 0 {
		return "", errors.New("the verify section needs dataset b-large")
	}
	d := e.c.sets[i]
	tools := []string{"ferry:auto", "ferry:off"}
	secs, err := e.series(ctx, d, tools)
	if err != nil {
		return "", err
	}
	var md strings.Builder
	fmt.Fprintf(&md, "### Verification on vs off, dataset %s (%d x %s), ferry, %d runs alternating\n\n", d.Name, d.Count, human(d.Size), d.Runs)
	md.WriteString("| verify | median wall s | MB/s | ferry CPU s | servers CPU s | all walls (s) |\n|---|---|---|---|---|---|\n")
	for _, t := range tools {
		m := median(secs[t])
		tc, sc := e.cpuMedians(d.Name + "/" + t)
		fmt.Fprintf(&md, "| %s | %.2f | %.1f | %.1f | %.1f | %s |\n", strings.TrimPrefix(t, "ferry:"), m, float64(d.Count)*float64(d.Size)/1e6/m, tc, sc, fmtList(secs[t], "%.2f"))
	}
	r, each := pairRatio(secs["ferry:auto"], secs["ferry:off"])
	fmt.Fprintf(&md, "\nThroughput auto/off, run by run: median **%.3f** [%s] (cost of verification = %.1f%%). "+
		"`verify=off` computes no digest and compares sizes only; `auto` computes CRC64 (the manifest's) and, S3 to S3, "+
		"has the destination validate the source's own CRC64NVME (see worker/plan.go).\n\n",
		r, fmtList(each, "%.3f"), (1-r)*100)
	aTool, aSrv := e.cpuMedians(d.Name + "/ferry:auto")
	oTool, oSrv := e.cpuMedians(d.Name + "/ferry:off")
	if oTool+oSrv > 0 {
		fmt.Fprintf(&md, "CPU, which does not depend on what else the box did meanwhile: ferry %.1f s with verification vs %.1f s without, "+
			"ferry and both servers %.1f s vs %.1f s: verification costs **%.1f%%** of the CPU the copy takes.\n\n",
			aTool, oTool, aTool+aSrv, oTool+oSrv, (aTool+aSrv-oTool-oSrv)/(oTool+oSrv)*100)
	}
	return md.String(), nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d KiB", n>>10)
	}
}

func scanBench(c *config) (string, error) {
	var md strings.Builder
	fmt.Fprintf(&md, "### Scan scale (scanbench: master.Scanner, local source of empty files in directories of 1,000, into a fresh tracker; scanThreadCount=1, ferry's default)\n\n")
	md.WriteString("| objects | wall s | objects/s | peak RSS (VmHWM) MiB | peak Go heap MiB | peak file-backed RSS MiB | tracker db MiB |\n|---|---|---|---|---|---|---|\n")
	var rss []float64
	for _, n := range c.scanSizes {
		src := filepath.Join(c.work, fmt.Sprintf("scan-src-%d", n))
		stamp := src + ".complete"
		if _, err := os.Stat(stamp); err != nil {
			logf("creating %d empty files in %s", n, src)
			_ = os.RemoveAll(src)
			if out, err := exec.Command(c.scan, "-make", fmt.Sprint(n), "-src", src).CombinedOutput(); err != nil {
				return "", fmt.Errorf("scanbench -make: %v: %s", err, out)
			}
			if err := os.WriteFile(stamp, nil, 0o644); err != nil {
				return "", err
			}
		}
		data := filepath.Join(c.work, "scan-data")
		_ = os.RemoveAll(data)
		out, err := exec.Command(c.scan, "-src", src, "-data", data).Output()
		_ = os.RemoveAll(data)
		if err != nil {
			return "", fmt.Errorf("scanbench: %w", err)
		}
		var r map[string]float64
		if err := json.Unmarshal(out, &r); err != nil {
			return "", err
		}
		logf("scan %d: %s", n, strings.TrimSpace(string(out)))
		rss = append(rss, r["peak_rss_mib"])
		fmt.Fprintf(&md, "| %d | %.2f | %.0f | %.1f | %.1f | %.1f | %.0f |\n", int64(r["objects"]), r["seconds"], r["objects_per_s"],
			r["peak_rss_mib"], r["peak_heap_mib"], r["peak_rss_file_mib"], r["db_mib"])
	}
	if len(rss) == 2 && rss[0] > 0 {
		fmt.Fprintf(&md, "\nRSS growth %d -> %d objects: %.2fx. File-backed RSS is the binary's own code (about 9 MiB) plus the tracker's mapped pages, which the tracker drops every 250 ms of bulk writes (tracker/resident.go).\n", c.scanSizes[0], c.scanSizes[1], rss[1]/rss[0])
	}
	md.WriteString("\n")
	return md.String(), nil
}

// cpuMedians is the median tool and server CPU seconds of key's runs.
func (e *env) cpuMedians(key string) (tool, servers float64) {
	var t, s []float64
	for _, r := range e.cpu[key] {
		t, s = append(t, r.tool), append(s, r.servers)
	}
	return median(t), median(s)
}
