package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ferry-migrate/ferry/plan"
)

// printPlan writes r as a short table: what is there, what it costs in
// requests, how fast one node goes, and how many nodes a deadline needs.
func printPlan(e *env, r *plan.Report) {
	out := e.stdout
	line := func(label, format string, a ...any) {
		fmt.Fprintf(out, "  %-10s %s\n", label, fmt.Sprintf(format, a...))
	}
	fmt.Fprintf(out, "Plan for job %s: %s -> %s\n", r.Job, r.Source, r.Destination)
	line("source", "%d objects, %s (%s)", r.Objects, bytesIEC(r.Bytes), accuracy(r))
	if r.Excluded > 0 {
		line("", "%d listed, %d excluded by filters (include, exclude, importSince, importUntil)", r.Listed, r.Excluded)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "  sizes\t\tobjects\tbytes\t")
	for _, b := range r.Histogram {
		if b.Objects > 0 {
			fmt.Fprintf(w, "\t%s\t%d\t%s\t\n", b.Size, b.Objects, bytesIEC(b.Bytes))
		}
	}
	_ = w.Flush()
	p := r.Parts
	if !p.DestMultipart {
		line("parts", "none: the destination takes every object in one write")
	} else {
		s := fmt.Sprintf("objects from %s go in %s parts: %d object(s)", bytesIEC(p.Threshold), bytesIEC(p.PartSize), p.MultipartObjects)
		if p.RaisedObjects > 0 {
			s += fmt.Sprintf("; %d need over 10,000 parts and get up to %s", p.RaisedObjects, bytesIEC(p.MaxPartSize))
		}
		line("parts", "%s", s)
	}
	q := r.Requests
	line("requests", "LIST %d | HEAD %d (destination %d, source %d) | GET %d | PUT %d", q.List, q.Head(), q.HeadDest, q.HeadSrc, q.Get, q.Put)
	reread := ""
	if q.GetDest > 0 {
		reread = fmt.Sprintf(" | reread GET %d", q.GetDest)
	}
	line("", "multipart: create %d, parts %d, complete %d%s | total %d", q.CreateUpload, q.UploadPart, q.Complete, reread, q.Total())
	line("rate", "%s", rateLine(r))
	line("one node", "%s at the full rate; %s at %g%% utilization",
		human(secs(r.OneNodeSeconds)), human(secs(r.OneNodeSeconds/r.Utilization)), r.Utilization*100)
	if r.NodesNeeded > 0 {
		line("deadline", "%s: %d node(s) needed, expected %s", human(secs(r.DeadlineSeconds)), r.NodesNeeded, human(secs(r.ExpectedSeconds)))
	}
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "  nodes\t\texpected\t")
	for _, d := range r.Durations {
		mark := ""
		if d.Nodes == r.NodesNeeded {
			mark = "  <- needed"
		}
		fmt.Fprintf(w, "\t%d\t%s\t%s\n", d.Nodes, human(secs(d.Seconds)), mark)
	}
	_ = w.Flush()
}

// accuracy says how far the counts can be trusted.
func accuracy(r *plan.Report) string {
	var parts []string
	switch {
	case r.Sampled && r.SampledPrefixes < r.Prefixes && r.SpreadKnown:
		parts = append(parts, fmt.Sprintf("ESTIMATE from %d of %d prefixes: ±%d objects, ±%s (95%%; seed %d)",
			r.SampledPrefixes, r.Prefixes, r.ObjectsSpread, bytesIEC(r.BytesSpread), r.Seed))
	case r.Sampled && r.SampledPrefixes < r.Prefixes:
		parts = append(parts, fmt.Sprintf("ESTIMATE from %d of %d prefixes: error unknown (sample 2 or more)", r.SampledPrefixes, r.Prefixes))
	}
	if r.Truncated {
		parts = append(parts, "AT LEAST: listing stopped at --max-list")
	}
	if len(parts) == 0 {
		return "exact"
	}
	return strings.Join(parts, "; ")
}

func rateLine(r *plan.Report) string {
	if r.RateSource == "none" {
		return "not measured: nothing to copy"
	}
	per := fmt.Sprintf("%s/s + %.1f objects/s per node", bytesIEC(int64(r.Rate.BytesPerSec)), r.Rate.ObjectsPerSec)
	if r.Probe == nil {
		return "given: " + per
	}
	pr := r.Probe
	what := "copy probe"
	if pr.ReadOnly {
		what = "read-only probe (source side only)"
	}
	s := fmt.Sprintf("%s at concurrency %d: small %d in %.1fs, large %d (%s) in %.1fs -> %s",
		what, r.Concurrency, pr.Small.Objects, pr.Small.Seconds, pr.Large.Objects, bytesIEC(pr.Large.Bytes), pr.Large.Seconds, per)
	if pr.Failed > 0 {
		s += fmt.Sprintf(" (%d probe copies failed)", pr.Failed)
	}
	return s
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// human is a duration rounded for reading: milliseconds under a second,
// tenths under a minute, seconds under an hour, minutes
// under two days, then days and hours.
func human(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String() // small test jobs: not "0s"
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	h := int64(d.Round(time.Hour) / time.Hour)
	if h%24 == 0 {
		return fmt.Sprintf("%dd", h/24)
	}
	return fmt.Sprintf("%dd%dh", h/24, h%24)
}
