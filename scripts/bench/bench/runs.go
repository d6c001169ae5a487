package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

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
		src := fmt.Sprintf(`srcType=s3
srcDomain=%s
srcBucket=%s
srcAccessKey=%s
srcSecretKey=%s
srcPathStyle=true
srcCABundle=%s
`, e.src.Endpoint, d.Name, e.src.AccessKey, e.src.SecretKey, e.src.Cert.CertFile)
		if d.Local {
			src = "srcType=local\nsrcPrefix=" + e.localDir(d) + "/\n"
		}
		job := fmt.Sprintf(`jobName=bench
%sdestType=s3
destDomain=%s
destBucket=%s
destAccessKey=%s
destSecretKey=%s
destPathStyle=true
destCABundle=%s
`, src,
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
		bin := e.c.ferry
		if tool == "ferry-b" {
			bin = e.c.ferryB
		}
		cmd = exec.CommandContext(ctx, bin, append(args, cfg)...)
	case tool == "rclone":
		from := "src:" + d.Name
		if d.Local {
			from = e.localDir(d)
		}
		cmd = exec.CommandContext(ctx, e.c.rclone, "copy", from, "dst:"+bucket, "--transfers", w,
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
	case tool == "raw" && d.Local:
		return 0, errors.New("the raw pipe reads S3 only")
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
	end := time.Now()
	secs := end.Sub(t).Seconds()
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
	total := d.totalBytes()
	if n != d.Count || b != total {
		return 0, fmt.Errorf("%s on %s: destination has %d objects / %d bytes, want %d / %d", tool, d.Name, n, b, d.Count, total)
	}
	logf("%-12s %-8s %8.2fs  %8.1f obj/s %8.1f MB/s%s", tool, d.Name, secs, float64(d.Count)/secs, float64(total)/1e6/secs,
		e.phases(filepath.Join(e.dst.Root, bucket), t, end))
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

// phases says how much of a run was spent before the first object landed
// and after the last one did, read from the destination's files: versitygw
// posix stores each object as a file whose mtime is its PUT's completion.
// It needs no help from the tool, so ferry, rclone and the pipe are timed
// the same way. Empty when the bucket cannot be walked.
func (e *env) phases(dir string, start, end time.Time) string {
	var first, last time.Time
	err := filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		m := fi.ModTime()
		if first.IsZero() || m.Before(first) {
			first = m
		}
		if m.After(last) {
			last = m
		}
		return nil
	})
	if err != nil || first.IsZero() {
		return ""
	}
	return fmt.Sprintf("  (first PUT done %.2fs, last PUT to exit %.2fs)", first.Sub(start).Seconds(), end.Sub(last).Seconds())
}
