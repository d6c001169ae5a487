package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

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
	fmt.Fprintf(&md, "### Copy throughput (S3 -> S3; l- sets local -> S3, without the raw pipe, which reads S3 only; runs per tool alternating: %s; concurrency %d)\n\n", strings.Join(runs, ", "), e.c.workers)
	md.WriteString("Rates are medians over runs of objects / wall time and bytes / wall time (MB = 10^6 bytes); ratios are computed run by run (same round) and the median is shown, with every round's value in brackets.\n\n")
	md.WriteString("CPU columns are medians of CPU seconds per run (user + system): the tool's process, and both servers together; all share the 2 cores.\n\n")
	md.WriteString("| dataset | tool | median wall s | objects/s | MB/s | tool CPU s | servers CPU s | all walls (s) |\n|---|---|---|---|---|---|---|---|\n")
	var ratios strings.Builder
	ratios.WriteString("| dataset | ferry/rclone | ferry/raw | rclone/raw |\n|---|---|---|---|\n")
	for _, d := range e.c.sets {
		tools := e.c.tools
		if d.Local {
			tools = slices.DeleteFunc(slices.Clone(tools), func(t string) bool { return t == "raw" })
		}
		secs, err := e.series(ctx, d, tools)
		if err != nil {
			return "", err
		}
		for _, t := range tools {
			m := median(secs[t])
			tc, sc := e.cpuMedians(d.Name + "/" + t)
			fmt.Fprintf(&md, "| %s (%s) | %s | %.2f | %.1f | %.1f | %.1f | %.1f | %s |\n", d.Name, d.describe(), t, m,
				float64(d.Count)/m, float64(d.totalBytes())/1e6/m, tc, sc, fmtList(secs[t], "%.2f"))
		}
		ratio := func(a, b string) string {
			if secs[a] == nil || secs[b] == nil {
				return "-"
			}
			m, each := pairRatio(secs[a], secs[b])
			return fmt.Sprintf("**%.2f** [%s]", m, fmtList(each, "%.2f"))
		}
		fmt.Fprintf(&ratios, "| %s | %s | %s | %s |\n", d.Name, ratio("ferry", "rclone"), ratio("ferry", "raw"), ratio("rclone", "raw"))
		if secs["ferry-b"] != nil {
			fmt.Fprintf(&ratios, "| %s: ferry/ferry-b %s, ferry-b/rclone %s, ferry-b/raw %s | | | |\n", d.Name, ratio("ferry", "ferry-b"), ratio("ferry-b", "rclone"), ratio("ferry-b", "raw"))
		}
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
