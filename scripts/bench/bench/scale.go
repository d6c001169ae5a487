package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
		Count int     `json:"count"`
		P50ms float64 `json:"p50_ms"`
		P99ms float64 `json:"p99_ms"`
	} `json:"latency_steady"`
	LeasingAgain float64 `json:"leasing_again_s"`
	FullSpeed    float64 `json:"full_speed_again_s"`
	Verified     int64
	Repeated     int
	Correct      bool
}

// scalePoint is one run of the harness.
type scalePoint struct{ objects, workers int }

// scalePoints are the runs of the scale section: every size at 100 and
// 1,000 workers. BENCH_SCALE_RUNS overrides with objects:workers pairs,
// comma-separated (e.g. 1000000:100,10000000:1000): a 10^7 run takes
// tens of minutes on a busy 2-core machine.
func scalePoints(quick bool) []scalePoint {
	if s := os.Getenv("BENCH_SCALE_RUNS"); s != "" {
		var out []scalePoint
		for _, f := range strings.Split(s, ",") {
			o, w, _ := strings.Cut(strings.TrimSpace(f), ":")
			n, err1 := strconv.Atoi(o)
			k, err2 := strconv.Atoi(w)
			if err1 == nil && err2 == nil && n > 0 && k >= 0 {
				out = append(out, scalePoint{n, k})
			}
		}
		return out
	}
	sizes := []int{1_000_000, 10_000_000}
	if quick {
		sizes = []int{100_000}
	}
	var out []scalePoint
	for _, n := range sizes {
		out = append(out, scalePoint{n, 100}, scalePoint{n, 1000})
	}
	return out
}

// scaleSizes are the distinct object counts of the points, for the
// scan-alone table.
func scaleSizes(points []scalePoint) []int {
	var out []int
	for _, p := range points {
		if !slices.Contains(out, p.objects) {
			out = append(out, p.objects)
		}
	}
	return out
}

// scaleBench runs the scale harness (scripts/bench/scale) at 100 and
// 1,000 simulated workers for each size, with a kill -9 and restart of
// the master half way through every run.
//
// save is called with the tables so far after every run, so a run cut
// short still leaves the figures it took.
func scaleBench(c *config, save func(string)) (string, error) {
	points := scalePoints(c.quick)
	var md strings.Builder
	md.WriteString("### Scale (scalebench: a real `ferry master` over TLS, simulated workers running the real agent and gRPC client, 5 ms +- 50% simulated copy per object, a fake S3 endpoint listing a generated flat bucket; the master is killed with SIGKILL at 50% and restarted)\n\n")
	md.WriteString("Master CPU, peak RSS, bytes written and data-dir size are the master process's own (`/proc`), summed over both of its lives; " +
		"they hold up on a busy machine, where rates and latencies do not. The harness (all the workers) shares the same 2 cores.\n\n")
	md.WriteString("| objects | workers | objects/shard | load avg (start / end) | scan s | wall s | objects/s steady (peak 5 s) | master CPU s (per 10^6) | master peak RSS MiB | master wrote MiB | data dir MiB | lease p50 / p99 ms (calls) | heartbeat p50 / p99 ms (calls) | report p50 / p99 ms (calls) | ack p50 / p99 ms (calls) | leasing again s | full speed again s | verified = N, nothing lost |\n")
	md.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var runs, scans []scaleRun
	for _, p := range points {
		n, w := p.objects, p.workers
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
		runs = append(runs, r)
		lat := func(op string) string {
			s := r.Steady[op]
			if s.Count == 0 {
				return "-" // none before the kill: a short run
			}
			return fmt.Sprintf("%.1f / %.1f (%d)", s.P50ms, s.P99ms, s.Count)
		}
		ok := "yes"
		if !r.Correct {
			ok = "**NO**"
		}
		fmt.Fprintf(&md, "| %d | %d | %d | %s / %s | %.1f | %.1f | %.0f (%s) | %.1f (%.1f) | %.0f | %.0f | %.1f | %s | %s | %s | %s | %.1f | %s | %s (%d repeats absorbed) |\n",
			r.Objects, r.Workers, shard, r.LoadStart, r.LoadEnd, r.ScanSeconds, r.WallSeconds, r.SteadyRate, peak(r.PeakRate),
			r.MasterCPU, r.CPUPerM, r.HWM, r.WriteMiB, r.DataDir, lat("lease"), lat("heartbeat"), lat("report"), lat("ack"),
			r.LeasingAgain, fullSpeed(r.FullSpeed), ok, r.Repeated)
		if err != nil {
			return md.String(), fmt.Errorf("scalebench %d objects %d workers: %w", n, w, err)
		}
		save(md.String())
	}
	md.WriteString("\nThe scan alone (no workers: the listing and the shard appends with nothing competing in the master), at ferry's default 10,000 objects a shard:\n\n")
	md.WriteString("| objects | load avg (start / end) | scan s | objects/s | list pages | master CPU s | master peak RSS MiB | master wrote MiB | data dir MiB |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range scaleSizes(points) {
		logf("scale: scan alone, %d objects (load %s)", n, loadNow())
		cmd := exec.Command(c.scale, "-ferry", c.ferry, "-objects", fmt.Sprint(n), "-workers", "0", "-work", filepath.Join(c.work, "scale"))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return md.String(), fmt.Errorf("scalebench scan %d objects: %w", n, err)
		}
		var r struct {
			scaleRun
			Pages int64 `json:"list_pages"`
		}
		if err := json.Unmarshal(out, &r); err != nil {
			return md.String(), fmt.Errorf("scalebench output: %w: %s", err, tail(string(out)))
		}
		fmt.Fprintf(&md, "| %d | %s / %s | %.1f | %.0f | %d | %.1f | %.0f | %.0f | %.1f |\n", r.Objects, r.LoadStart, r.LoadEnd, r.ScanSeconds,
			float64(r.Objects)/r.ScanSeconds, r.Pages, r.MasterCPU, r.HWM, r.WriteMiB, r.DataDir)
		scans = append(scans, r.scaleRun)
		save(md.String())
	}
	md.WriteString(extrapolate(runs, scans))
	md.WriteString("\nobjects/s is the master's verified counter over the steady part of the run (first result to the kill); " +
		"\"leasing again\" is from the kill to the first lease the new master answered with work; \"full speed again\" to the first 5 s window at >= 90% of the average rate from the first result to the kill (- : the job ended first). " +
		"Repeats are results reported again after the restart (their lease died with the master); the master's verified count must still be exactly N.\n\n")
	return md.String(), nil
}

// peak is "-" for a run shorter than the 5 s window.
func peak(v float64) string {
	if v <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", v)
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

// extrapolate fits a + b*N through the two largest sizes run with the
// most workers (and through the two largest scans alone) and prints the
// figures at 10^8 objects. Two points and a straight line: what grows
// with N (the manifest, shard records, the listing) grows linearly in
// ferry's design; what does not (per-worker state, buffers) shows as the
// intercept. A figure that grew faster than linearly between the two
// sizes would be underestimated, which is why both sizes are printed.
func extrapolate(runs, scans []scaleRun) string {
	const target = 100_000_000
	pick := func(rs []scaleRun) (a, b scaleRun, ok bool) {
		most := 0
		for _, r := range rs {
			most = max(most, r.Workers)
		}
		var by []scaleRun
		for _, r := range rs {
			if r.Workers == most {
				by = append(by, r)
			}
		}
		slices.SortFunc(by, func(x, y scaleRun) int { return x.Objects - y.Objects })
		if len(by) < 2 || by[len(by)-2].Objects == by[len(by)-1].Objects {
			return a, b, false
		}
		return by[len(by)-2], by[len(by)-1], true
	}
	line := func(n1, n2 int, v1, v2 float64) float64 {
		slope := (v2 - v1) / float64(n2-n1)
		return v2 + slope*float64(target-n2)
	}
	var md strings.Builder
	if a, b, ok := pick(runs); ok {
		fmt.Fprintf(&md, "\nExtrapolated to 10^8 objects, %d workers (a straight line through %d and %d objects):\n\n", b.Workers, a.Objects, b.Objects)
		md.WriteString("| figure | at " + fmt.Sprint(a.Objects) + " | at " + fmt.Sprint(b.Objects) + " | growth | at 10^8 (extrapolated) |\n|---|---|---|---|---|\n")
		row := func(name string, v1, v2 float64) {
			g := "-"
			if v1 > 0 {
				g = fmt.Sprintf("%.2fx", v2/v1)
			}
			fmt.Fprintf(&md, "| %s | %.1f | %.1f | %s | %.0f |\n", name, v1, v2, g, line(a.Objects, b.Objects, v1, v2))
		}
		row("master peak RSS MiB", a.HWM, b.HWM)
		row("data dir MiB", a.DataDir, b.DataDir)
		row("master wrote MiB", a.WriteMiB, b.WriteMiB)
		row("master CPU s", a.MasterCPU, b.MasterCPU)
		row("wall s (with the restart)", a.WallSeconds, b.WallSeconds)
		fmt.Fprintf(&md, "| objects/s steady | %.0f | %.0f | %.2fx | (taken as flat: %.0f) |\n", a.SteadyRate, b.SteadyRate, b.SteadyRate/max(a.SteadyRate, 1), b.SteadyRate)
		md.WriteString("\n")
	}
	if a, b, ok := pick(scans); ok {
		fmt.Fprintf(&md, "Scan alone at 10^8 (a straight line through %d and %d objects): %.0f s (%.1f and %.1f s measured), peak RSS %.0f MiB, data dir %.0f MiB.\n\n",
			a.Objects, b.Objects, line(a.Objects, b.Objects, a.ScanSeconds, b.ScanSeconds), a.ScanSeconds, b.ScanSeconds,
			line(a.Objects, b.Objects, a.HWM, b.HWM), line(a.Objects, b.Objects, a.DataDir, b.DataDir))
	}
	return md.String()
}
