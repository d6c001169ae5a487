package plan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/worker/jobcopier"
)

// Options are `ferry plan`'s choices.
type Options struct {
	Sample  int   // top-level prefixes to list; 0 lists everything
	MaxList int64 // objects listed at most; 0 is no bound
	// Probe is the copy probe's duration; 0 skips it (Rate must be set).
	Probe         time.Duration
	ProbeReadOnly bool
	Concurrency   int  // objects copied at once per node (ferry worker --concurrency)
	Rate          Rate // given instead of probed when non-zero
	Deadline      time.Duration
	Utilization   float64 // 0..1
	Seed          uint64
}

// Report is a plan: JSON field names are stable (docs/plan.md).
type Report struct {
	Job         string `json:"job"`
	Source      string `json:"source"`
	Destination string `json:"destination"`

	Objects   int64 `json:"objects"`
	Bytes     int64 `json:"bytes"`
	Listed    int64 `json:"listed"`
	Excluded  int64 `json:"excluded"`
	Truncated bool  `json:"truncated"`
	Exact     bool  `json:"exact"`
	// Sampling (Sampled): the ± of objects and bytes, 2 standard errors;
	// SpreadKnown is false when fewer than two prefixes were sampled.
	Sampled         bool   `json:"sampled"`
	Prefixes        int    `json:"prefixes,omitempty"`
	SampledPrefixes int    `json:"sampled_prefixes,omitempty"`
	ObjectsSpread   int64  `json:"objects_spread"`
	BytesSpread     int64  `json:"bytes_spread"`
	SpreadKnown     bool   `json:"spread_known"`
	Seed            uint64 `json:"seed"`

	Histogram []Bucket  `json:"histogram"`
	Parts     PartsPlan `json:"parts"`
	Requests  Requests  `json:"requests"`

	RateSource  string       `json:"rate_source"` // "probe", "probe-read-only", "flags" or "none" (nothing to copy)
	Rate        Rate         `json:"rate"`
	Probe       *ProbeResult `json:"probe,omitempty"`
	Concurrency int          `json:"concurrency"`
	Utilization float64      `json:"utilization"`

	OneNodeSeconds  float64    `json:"one_node_seconds"` // at the full measured rate
	DeadlineSeconds float64    `json:"deadline_seconds,omitempty"`
	NodesNeeded     int        `json:"nodes_needed,omitempty"`
	ExpectedSeconds float64    `json:"expected_seconds,omitempty"` // with NodesNeeded nodes
	Durations       []Duration `json:"durations"`
}

// Bucket is one histogram row.
type Bucket struct {
	Size string `json:"size"`
	// Below is the bucket's exclusive upper bound in bytes; 0 for the
	// last, open one.
	Below   int64 `json:"below_bytes"`
	Objects int64 `json:"objects"`
	Bytes   int64 `json:"bytes"`
}

// PartsPlan is how multipart copies will be cut.
type PartsPlan struct {
	Threshold        int64 `json:"threshold"`         // multipartUploadThreshold
	PartSize         int64 `json:"part_size"`         // multipartUploadPartSize, at least the destination's minimum
	MaxPartSize      int64 `json:"max_part_size"`     // the largest the copier will use (raised past 10,000 parts)
	MultipartObjects int64 `json:"multipart_objects"` // objects copied in parts
	RaisedObjects    int64 `json:"raised_objects"`    // of them, with a raised part size
	DestMultipart    bool  `json:"dest_multipart"`    // the destination has multipart uploads
}

// Duration is the expected time with Nodes nodes.
type Duration struct {
	Nodes   int     `json:"nodes"`
	Seconds float64 `json:"seconds"`
}

// Plan lists (or samples) j's source, probes or takes the rate, and
// predicts. It reads the source and, unless the probe is read-only or
// skipped, writes only under a scratch prefix it removes again.
func Plan(ctx context.Context, j *conf.Job, o Options) (*Report, error) {
	if j.Type != conf.JobImport {
		return nil, fmt.Errorf("ferry plan sizes import jobs; %q is a %s job", j.Name, j.Type)
	}
	if o.Seed == 0 {
		o.Seed = rand.Uint64()
	}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9E3779B97F4A7C15))
	src, err := backends.Open(ctx, j.Src)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	shape, err := shapeOf(ctx, j, o.Probe > 0 && !o.ProbeReadOnly)
	if err != nil {
		return nil, err
	}
	filter, err := master.NewFilter(j.ImportSince, j.ImportUntil, j.Include, j.Exclude)
	if err != nil {
		return nil, err
	}
	_, canLevel := src.(storage.LevelLister)
	prefixOK := j.Src.Prefix == "" || strings.HasSuffix(j.Src.Prefix, "/")
	// The probe goes round its sample as often as its time allows; a
	// larger sample only spreads it over more of the source.
	const keep = 1000
	sz, err := List(ctx, ListOptions{Src: src, Prefix: j.Src.Prefix, Filter: filter, Shape: shape,
		PageSize: int(j.Src.ListPageSize), NoListReq: j.Src.Type != backends.S3 && j.Src.Type != backends.OSS,
		Parallel: j.ScanThreads > 1 && canLevel && prefixOK,
		Sample:   o.Sample, MaxList: o.MaxList, Rand: rng, Keep: keep})
	if err != nil {
		return nil, err
	}
	r := &Report{Job: j.Name, Source: j.Src.String(), Destination: j.Dest.String(),
		Objects: sz.Objects, Bytes: sz.Bytes, Listed: sz.Listed, Excluded: sz.Excluded, Truncated: sz.Truncated,
		Sampled: sz.Sampled, Prefixes: sz.Prefixes, SampledPrefixes: sz.SampledPrefixes,
		ObjectsSpread: sz.ObjectsSpread, BytesSpread: sz.BytesSpread, Seed: o.Seed,
		Requests: sz.Req, Concurrency: o.Concurrency, Utilization: o.Utilization}
	r.Exact = !sz.Truncated && (!sz.Sampled || sz.SampledPrefixes == sz.Prefixes)
	r.SpreadKnown = r.Exact || sz.SampledPrefixes >= 2
	for i := range NumBuckets {
		r.Histogram = append(r.Histogram, Bucket{Size: BucketLabel(i), Below: BucketBelow(i), Objects: sz.Hist.Objects[i], Bytes: sz.Hist.Bytes[i]})
	}
	r.Parts = PartsPlan{Threshold: shape.Threshold, PartSize: max(shape.PartSize, shape.MinPartSize),
		MaxPartSize: max(sz.MaxPartSize, shape.PartSize, shape.MinPartSize), MultipartObjects: sz.MultipartObjects,
		RaisedObjects: sz.Raised, DestMultipart: shape.Multipart}

	switch {
	case sz.Objects == 0:
		r.RateSource = "none" // nothing to copy, nothing to time
	case o.Rate != (Rate{}):
		r.RateSource, r.Rate = "flags", o.Rate
	case o.Probe > 0:
		// Objects in listing order would probe one corner of the source;
		// the reservoir holds a uniform sample, shuffled again so a short
		// probe does not take its first entries only.
		rng.Shuffle(len(sz.Small), func(a, b int) { sz.Small[a], sz.Small[b] = sz.Small[b], sz.Small[a] })
		rng.Shuffle(len(sz.Large), func(a, b int) { sz.Large[a], sz.Large[b] = sz.Large[b], sz.Large[a] })
		po := ProbeOptions{Job: j, Small: sz.Small, Large: sz.Large, Duration: o.Probe,
			Concurrency: o.Concurrency, ReadOnly: o.ProbeReadOnly, Rand: rng}
		if !o.ProbeReadOnly {
			po.CreateOnly = &shape.BlindCreate // shapeOf probed for it
		}
		pr, err := Probe(ctx, po)
		if err != nil {
			return nil, err
		}
		r.Probe, r.Rate, r.RateSource = pr, pr.Rate, "probe"
		if o.ProbeReadOnly {
			r.RateSource = "probe-read-only"
		}
	default:
		return nil, fmt.Errorf("no rate: give --probe DURATION or --rate-bytes/--rate-objects")
	}
	m := Model{Rate: r.Rate, Utilization: o.Utilization,
		Limits: Limits{BytesPerSec: float64(j.BytesPerSecond), ObjectsPerSec: j.ObjectsPerSecond}}
	r.OneNodeSeconds = r.Rate.Time(r.Objects, r.Bytes).Seconds()
	need := 0
	if o.Deadline > 0 {
		n, err := m.Nodes(r.Objects, r.Bytes, o.Deadline)
		if err != nil {
			return nil, fmt.Errorf("--deadline: %w", err)
		}
		need = n
		r.DeadlineSeconds, r.NodesNeeded = o.Deadline.Seconds(), n
		r.ExpectedSeconds = m.Duration(r.Objects, r.Bytes, n).Seconds()
	}
	for _, n := range NodeCounts(need) {
		r.Durations = append(r.Durations, Duration{Nodes: n, Seconds: m.Duration(r.Objects, r.Bytes, n).Seconds()})
	}
	return r, nil
}

// shapeOf is the copier's view of j: its settings with defaults, and the
// destination's multipart support and minimum part size. When the plan
// writes to the destination anyway (writes: its copy probe), it also asks
// whether the copier will skip the overwrite check (Shape.BlindCreate);
// otherwise it writes nothing and counts one HEAD per object, an upper
// bound.
func shapeOf(ctx context.Context, j *conf.Job, writes bool) (Shape, error) {
	st := j.CopySettings.WithDefaults()
	s := Shape{Threshold: st.MultipartThreshold, PartSize: st.PartSize, Reread: st.Verify == task.VerifyReread}
	dst, err := backends.OpenDest(ctx, j.Dest)
	if err != nil {
		return s, fmt.Errorf("destination: %w", err)
	}
	if mp, ok := dst.(storage.Multipart); ok {
		s.Multipart, s.MinPartSize, s.Limits = true, mp.MinPartSize(), storage.LimitsOf(mp)
	}
	if writes {
		s.BlindCreate = jobcopier.CreateOnlyEnforced(ctx, j, dst)
	}
	return s, nil
}
