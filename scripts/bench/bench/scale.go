package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// scaleRun is the part of scalebench's JSON the tables print.
type scaleRun struct {
	Objects, Workers, ShardObjects int
	LoadStart                      string  `json:"loadavg_start"`
	LoadEnd                        string  `json:"loadavg_end"`
	ScanSeconds                    float64 `json:"scan_seconds"`
	WallSeconds                    float64 `json:"wall_seconds"`
	SteadyRate                     float64 `json:"steady_objects_per_s"`
	PeakRate                       float64 `json:"peak5s_objects_per_s"`
	MasterCPU                      float64 `json:"master_cpu_s"`
	CPUPerM                        float64 `json:"master_cpu_s_per_million"`
	HWM                            float64 `json:"master_peak_rss_mib"`
	WriteMiB                       float64 `json:"master_disk_write_mib"`
	DataDir                        float64 `json:"data_dir_mib"`
	HarnessCPU                     float64 `json:"harness_cpu_s"`
	Steady                         map[string]struct {
		Count        int
		P50ms, P99ms float64
	} `json:"latency_steady"`
	LeasingAgain float64 `json:"leasing_again_s"`
	FullSpeed    float64 `json:"full_speed_again_s"`
	Verified     int64
	Repeated     int
	Correct      bool
}

// scaleSizes are the object counts of the scale section:
// BENCH_SCALE_OBJECTS overrides (comma-separated).
func scaleSizes(quick bool) []int {
	if s := os.Getenv("BENCH_SCALE_OBJECTS"); s != "" {
		var out []int
		for _, f := range strings.Split(s, ",") {
			if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
				out = append(out, n)
			}
		}
		return out
	}
	if quick {
		return []int{100_000}
	}
	return []int{1_000_000, 10_000_000}
}

// scaleBench runs the scale harness (scripts/bench/scale) at 100 and
// 1,000 simulated workers for each size, with a kill -9 and restart of
// the master half way through every run.
func scaleBench(c *config) (string, error) {
	var md strings.Builder
	md.WriteString("### Scale (scalebench: a real `ferry master` over TLS, simulated workers running the real agent and gRPC client, 5 ms +- 50% simulated copy per object, a fake S3 endpoint listing a generated flat bucket; the master is killed with SIGKILL at 50% and restarted)\n\n")
	md.WriteString("Master CPU, peak RSS, bytes written and data-dir size are the master process's own (`/proc`), summed over both of its lives; " +
		"they hold up on a busy machine, where rates and latencies do not. The harness (all the workers) shares the same 2 cores.\n\n")
	md.WriteString("| objects | workers | objects/shard | load avg (start / end) | scan s | wall s | objects/s steady (peak 5 s) | master CPU s (per 10^6) | master peak RSS MiB | master wrote MiB | data dir MiB | lease p50 / p99 ms | heartbeat p50 / p99 ms | report p50 / p99 ms | ack p50 / p99 ms | leasing again s | full speed again s | verified = N, nothing lost |\n")
	md.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range scaleSizes(c.quick) {
		for _, w := range []int{100, 1000} {
			// Enough shards for every worker to hold some: at ferry's
			// default 10,000 objects a shard, 10^6 objects are 100 shards
			// and 900 of 1,000 workers would only poll.
			shard := min(10_000, max(100, n/(2*w)))
			logf("scale: %d objects, %d workers, %d objects a shard (load %s)", n, w, shard, loadNow())
			args := []string{"-ferry", c.ferry, "-objects", fmt.Sprint(n), "-workers", fmt.Sprint(w),
				"-shard-objects", fmt.Sprint(shard), "-work", filepath.Join(c.work, "scale")}
			if c.profile != "" {
				args = append(args, "-cpuprofile", filepath.Join(c.profile, fmt.Sprintf("master-%d-%d.pprof", n, w)))
			}
			cmd := exec.Command(c.scale, args...)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil && len(out) == 0 {
				return "", fmt.Errorf("scalebench %d objects %d workers: %w", n, w, err)
			}
			var r scaleRun
			if jerr := json.Unmarshal(out, &r); jerr != nil {
				return "", fmt.Errorf("scalebench output: %w: %s", jerr, tail(string(out)))
			}
			r.ShardObjects = shard
			lat := func(op string) string {
				s := r.Steady[op]
				return fmt.Sprintf("%.1f / %.1f", s.P50ms, s.P99ms)
			}
			ok := "yes"
			if !r.Correct {
				ok = "**NO**"
			}
			fmt.Fprintf(&md, "| %d | %d | %d | %s / %s | %.1f | %.1f | %.0f (%.0f) | %.1f (%.1f) | %.0f | %.0f | %.1f | %s | %s | %s | %s | %.1f | %s | %s (%d repeats absorbed) |\n",
				r.Objects, r.Workers, shard, r.LoadStart, r.LoadEnd, r.ScanSeconds, r.WallSeconds, r.SteadyRate, r.PeakRate,
				r.MasterCPU, r.CPUPerM, r.HWM, r.WriteMiB, r.DataDir, lat("lease"), lat("heartbeat"), lat("report"), lat("ack"),
				r.LeasingAgain, fullSpeed(r.FullSpeed), ok, r.Repeated)
			if err != nil {
				return md.String(), fmt.Errorf("scalebench %d objects %d workers: %w", n, w, err)
			}
		}
	}
	md.WriteString("\nobjects/s is the master's verified counter over the steady part of the run (first result to the kill); " +
		"\"leasing again\" is from the kill to the first lease the new master answered with work; \"full speed again\" to the first 5 s window at >= 90% of the rate before the kill (- : the job ended first). " +
		"Repeats are results reported again after the restart (their lease died with the master); the master's verified count must still be exactly N.\n\n")
	return md.String(), nil
}

func fullSpeed(s float64) string {
	if s < 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", s)
}

func loadNow() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
