package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/plan"
)

// planFlags are `ferry plan`'s flags, checked into plan.Options.
type planFlags struct {
	sample, concurrency    int
	maxList                int64
	probe                  time.Duration
	readOnly, asJSON       bool
	rateBytes, rateObjects string
	deadline               string
	utilization            float64
	seed                   uint64
}

func cmdPlan(ctx context.Context, e *env, args []string) int {
	fs, _ := flags(e, "plan", "JOB.cfg")
	var f planFlags
	fs.IntVar(&f.sample, "sample", 0, "list only `N` top-level prefixes, chosen at random, and extrapolate (0: list everything)")
	fs.Int64Var(&f.maxList, "max-list", 0, "stop listing after `N` objects; the figures are then a lower bound (0: no bound)")
	fs.DurationVar(&f.probe, "probe", 20*time.Second, "time a copy probe of listed objects into a scratch prefix of the destination, removed afterwards")
	fs.BoolVar(&f.readOnly, "probe-read-only", false, "probe by reading objects from the source only; writes nothing")
	fs.IntVar(&f.concurrency, "concurrency", 16, "objects copied at once per node, as ferry worker --concurrency")
	fs.StringVar(&f.rateBytes, "rate-bytes", "", "one node's bandwidth in bytes/s (`SIZE`: 200m); a rate given skips the probe")
	fs.StringVar(&f.rateObjects, "rate-objects", "", "one node's per-object rate (`N` objects/s at --concurrency, the request cost of small objects); a rate given skips the probe")
	fs.StringVar(&f.deadline, "deadline", "", "finish within `D`: a duration (36h, 7d) or a time (RFC3339); gives the nodes needed")
	fs.Float64Var(&f.utilization, "utilization", 80, "percent of a node's measured rate a long run sustains (the OssImport rule's Z)")
	fs.Uint64Var(&f.seed, "seed", 0, "random seed for sampling and the probe's choice of objects (0: random; the plan prints it)")
	fs.BoolVar(&f.asJSON, "json", false, "print the plan as JSON")
	if err := parse(fs, args, 1, 1); err != nil {
		return flagExit(err)
	}
	opt, err := f.options(time.Now())
	if err != nil {
		return fail(e, err)
	}
	text, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	job, err := conf.Parse(bytes.NewReader(text), fs.Arg(0))
	if err != nil {
		return fail(e, err)
	}
	if !f.asJSON {
		fmt.Fprintf(e.stderr, "ferry plan: job %q: listing %s\n", job.Name, job.Src)
	}
	r, err := plan.Plan(ctx, job, opt)
	if err != nil {
		return fail(e, err)
	}
	if f.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false) // "< 4 KiB", not "\u003c 4 KiB"
		_ = enc.Encode(r)
	} else {
		printPlan(e, r)
	}
	if r.Probe != nil && r.Probe.Leftover > 0 {
		fmt.Fprintf(e.stderr, "ferry plan: WARNING: %d scratch object(s) left: %s\n", r.Probe.Leftover, r.Probe.CleanupError)
		return exitFailures
	}
	return exitOK
}

// options checks the flags; every error names the flag and its value.
func (f planFlags) options(now time.Time) (plan.Options, error) {
	o := plan.Options{Sample: f.sample, MaxList: f.maxList, Probe: f.probe, ProbeReadOnly: f.readOnly,
		Concurrency: f.concurrency, Utilization: f.utilization / 100, Seed: f.seed}
	switch {
	case f.sample < 0:
		return o, fmt.Errorf("--sample %d: give a prefix count of 1 or more, or 0 to list everything", f.sample)
	case f.maxList < 0:
		return o, fmt.Errorf("--max-list %d: give an object count of 1 or more, or 0 for no bound", f.maxList)
	case f.concurrency < 1 || f.concurrency > 4096:
		return o, fmt.Errorf("--concurrency %d: give a number from 1 to 4096", f.concurrency)
	case f.utilization <= 0 || f.utilization > 100:
		return o, fmt.Errorf("--utilization %g: give a percentage above 0 and at most 100", f.utilization)
	case f.probe < 0:
		return o, fmt.Errorf("--probe %s: give a positive duration, or 0 with --rate-bytes/--rate-objects", f.probe)
	}
	if f.rateBytes != "" {
		n, err := conf.ParseSize(f.rateBytes)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("--rate-bytes %q: give bytes per second above 0, e.g. 200m", f.rateBytes)
		}
		o.Rate.BytesPerSec = float64(n)
	}
	if f.rateObjects != "" {
		n, err := strconv.ParseFloat(f.rateObjects, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("--rate-objects %q: give objects per second above 0, e.g. 500", f.rateObjects)
		}
		o.Rate.ObjectsPerSec = n
	}
	if o.Rate == (plan.Rate{}) && f.probe == 0 {
		return o, fmt.Errorf("--probe 0: with no probe, give the rate with --rate-bytes and --rate-objects")
	}
	if f.deadline != "" {
		d, err := parseDeadline(f.deadline, now)
		if err != nil {
			return o, err
		}
		o.Deadline = d
	}
	return o, nil
}

// parseDeadline reads a duration (Go syntax, plus whole days: 7d) or an
// RFC3339 time, and returns the time left until it.
func parseDeadline(s string, now time.Time) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("--deadline %q: give whole days (7d), a duration (36h) or a time (2026-12-31T00:00:00Z)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else if t, err := time.Parse(time.RFC3339, s); err == nil {
		d = t.Sub(now)
		if d <= 0 {
			return 0, fmt.Errorf("--deadline %q: that time has passed", s)
		}
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("--deadline %q: give whole days (7d), a duration (36h) or a time (2026-12-31T00:00:00Z)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("--deadline %q: give a duration above 0", s)
	}
	return d, nil
}
