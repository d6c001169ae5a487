package master

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
)

// probeFunc lists the keys after startAfter, up to one page of them: one
// LIST request on an object store.
type probeFunc func(ctx context.Context, startAfter string) ([]string, error)

// splitter finds split points for one flat prefix by sampling it with
// start-after probes, each one LIST request. Every probe answers a page of
// consecutive keys: where the listing really is at that point, and how
// dense it is there (page size over the span of the page in the keyspace).
//
//  1. The first page (given) says which bytes the keys use.
//  2. The end: a (parallel+1)-ary search between the highest key known and
//     the top of the space, until a probe answers a short page (the last
//     one), or the unexplored gap below the lowest empty answer is a
//     negligible part of the space.
//  3. A round of probes at even ranks, then up to refineRounds rounds in
//     the gaps between pages that may hold a good share of a range (see
//     estimate and probePoints).
//  4. Split points at equal quantiles of the final estimate.
//
// Uniformly random keys are uniform in the keyspace and need little more;
// sequential numbers are too, thanks to its alphabet ranks; skewed keys and
// holes are what the refinement is for. About 100 probes in a dozen waves
// for uniform or sequential keys, a few hundred for the hardest shapes,
// whatever the bucket's size, against a listing of (keys / page) requests:
// little for the buckets worth splitting.
type splitter struct {
	page     int // keys per probe: a full page means there is more
	parallel int // probes at once
	probe    probeFunc
	runs     []run
	probes   int
	// waves: probes one after another in time (a batch of parallel
	// probes is one): what the planning costs in round trips.
	waves int
}

// run is one probe's answer: the keys right after from, consecutive in the
// listing (no key lies between from and keys[0], nor between two of keys).
type run struct {
	from string
	keys []string
}

// Splits are bounded so that a range is worth a stream (at least
// minRangePages pages) and the layout stays small (maxRanges streams).
const (
	minRangePages = 4
	maxRanges     = 256
	endRounds     = 16
	refineRounds  = 6
	ceilingLevels = 6
)

// plan returns up to want-1 strictly increasing split points for a listing
// whose first page is first, or none when the listing is too small to be
// worth splitting (first is not a full page, or the estimate is a few pages).
func (s *splitter) plan(ctx context.Context, first []string, want int) ([]string, error) {
	if len(first) < s.page || want < 2 {
		return nil, nil
	}
	s.runs = append(s.runs, run{keys: first})
	last, err := s.findEnd(ctx)
	if err != nil {
		return nil, err
	}
	// Refine where the estimate is least sure: every gap between pages
	// that may hold more than a share of a range gets probes spread over
	// it. A probe that lands just below a dense cluster answers a page
	// running into it, whose dense end makes the gap after it large, and
	// so probed next round: that is how a narrow hot spot is found.
	wantMax := want
	var (
		ks  *keyspace
		est distribution
	)
	// First a baseline: probes at even ranks, so that no part of the
	// space goes unseen because the estimate so far has not noticed it.
	ks = newKeyspace(append(s.allKeys(), last))
	// The probes after the end is found cost at most a quarter of the
	// listing's own requests (the pages the estimate says it has), so that
	// a bucket of a few dozen pages is not sampled more than it is listed.
	budget := max(2*s.parallel, int(min(1e9, s.estimate(ks).total()/float64(4*s.page))))
	even := min(2*wantMax, budget)
	var at []string
	for i := 1; i <= even; i++ {
		if k := ks.key(ks.between(ks.lo, ks.hi, float64(i)/float64(even+1))); len(at) == 0 || k > at[len(at)-1] {
			at = append(at, k)
		}
	}
	if _, err := s.probeAll(ctx, at); err != nil {
		return nil, err
	}
	budget -= len(at)
	for round := 0; ; round++ {
		ks = newKeyspace(append(s.allKeys(), last))
		est = s.estimate(ks)
		want = int(min(float64(wantMax), maxRanges, est.total()/float64(minRangePages*s.page)))
		if debugSplit != nil {
			debugSplit("round %d: %d probes, estimate %.0f, want %d", round, s.probes, est.total(), want)
		}
		if want < 2 {
			return nil, nil
		}
		if round == refineRounds {
			break
		}
		// A gap gets probes if it may hold a third of the largest number
		// of ranges asked for, or half a page: judged by the ranges this
		// estimate allows, a bucket whose bulk has not been seen yet
		// would look too small to look at more closely.
		unit := max(est.total()/float64(3*wantMax), float64(s.page)/2)
		at := est.probePoints(ks, unit, float64(s.page), min(2*wantMax, budget))
		budget -= len(at)
		if len(at) == 0 {
			break
		}
		keys := make([]string, 0, len(at))
		for _, x := range at {
			if k := ks.key(x); len(keys) == 0 || k > keys[len(keys)-1] {
				keys = append(keys, k)
			}
		}
		if _, err := s.probeAll(ctx, keys); err != nil {
			return nil, err
		}
	}
	var splits []string
	for i := 1; i < want; i++ {
		p := ks.key(est.quantile(ks, float64(i)/float64(want)))
		if p <= first[0] || p >= last || (len(splits) > 0 && p <= splits[len(splits)-1]) {
			continue
		}
		splits = append(splits, p)
	}
	return splits, nil
}

// findEnd returns the last key of the listing, or a key so close to the end
// that the keys beyond it are a negligible part of the space.
func (s *splitter) findEnd(ctx context.Context) (string, error) {
	lo := slices.Max(s.allKeys())
	emptyAbove := "" // "" = not known yet
	for range endRounds {
		ks := newKeyspace(s.allKeys())
		var at []string
		hi := ks.top()
		if emptyAbove != "" {
			hi = ks.rank(emptyAbove)
		}
		rlo := ks.rank(lo)
		// One wave a round: while the end is not bracketed, the ceilings
		// below take half of the parallel probes.
		inside := max(1, s.parallel)
		ceilings := 0
		if emptyAbove == "" {
			ceilings = max(1, min(ceilingLevels, s.parallel/2))
			inside = max(1, s.parallel-ceilings)
		}
		for i := 1; i <= inside; i++ {
			c := ks.key(ks.between(rlo, hi, float64(i)/float64(inside+1)))
			if c > lo && (len(at) == 0 || c > at[len(at)-1]) && (emptyAbove == "" || c < emptyAbove) {
				at = append(at, c)
			}
		}
		if emptyAbove == "" {
			// Beyond the space: keys with bytes above any seen, or
			// outside the samples' common prefix, at each of its last
			// few levels at once (a first page of obj/00000001... shares
			// "obj/0000" while the listing runs to obj/01000000), rather
			// than one level per round. 0xFF never occurs in UTF-8.
			for i := len(ks.prefix); i > max(-1, len(ks.prefix)-ceilings); i-- {
				at = append(at, ks.prefix[:i]+"\xff")
			}
		}
		if len(at) == 0 {
			return lo, nil
		}
		pages, err := s.probeAll(ctx, at)
		if err != nil {
			return "", err
		}
		for i, p := range pages {
			switch {
			case len(p) == 0:
				if emptyAbove == "" || at[i] < emptyAbove {
					emptyAbove = at[i]
				}
			case len(p) < s.page:
				return p[len(p)-1], nil
			default:
				lo = max(lo, p[len(p)-1])
			}
		}
		if emptyAbove != "" {
			// Stop when what is left unexplored is a sliver of the space.
			ks := newKeyspace(append(s.allKeys(), emptyAbove))
			if ks.frac(emptyAbove)-ks.frac(lo) < 1.0/(64*maxRanges) {
				return lo, nil
			}
		}
	}
	return lo, nil
}

// probeAll probes at each of at, parallel at a time, recording the runs.
func (s *splitter) probeAll(ctx context.Context, at []string) ([][]string, error) {
	pages := make([][]string, len(at))
	errs := make([]error, len(at))
	sem := make(chan struct{}, max(1, s.parallel))
	var wg sync.WaitGroup
	for i, a := range at {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			pages[i], errs[i] = s.probe(ctx, a)
		}()
	}
	wg.Wait()
	s.probes += len(at)
	s.waves += (len(at) + max(1, s.parallel) - 1) / max(1, s.parallel)
	for i, p := range pages {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if len(p) > 0 {
			s.runs = append(s.runs, run{from: at[i], keys: p})
		}
	}
	return pages, nil
}

func (s *splitter) allKeys() []string {
	var out []string
	for _, r := range s.runs {
		// Inner keys carry the alphabet: a page of sequential numbers
		// shows every digit only in its inner keys.
		out = append(out, r.keys...)
	}
	return out
}

// merged returns the runs in key order, overlapping ones joined: a probe
// that started inside another's page continues the same consecutive keys.
func (s *splitter) merged() []run {
	rs := slices.Clone(s.runs)
	// Runs with the same first key come from probes in the same empty
	// stretch: the one that started lowest knows the most of it is empty,
	// so it goes first and its start is the merged run's.
	slices.SortFunc(rs, func(a, b run) int {
		return cmp.Or(strings.Compare(a.keys[0], b.keys[0]), strings.Compare(a.from, b.from))
	})
	var out []run
	for _, r := range rs {
		if n := len(out); n > 0 {
			cur := &out[n-1]
			end := cur.keys[len(cur.keys)-1]
			if r.from <= end {
				i := sort.SearchStrings(r.keys, end)
				if i < len(r.keys) && r.keys[i] == end {
					i++
				}
				cur.keys = append(slices.Clip(cur.keys), r.keys[i:]...)
				continue
			}
		}
		out = append(out, run{from: r.from, keys: r.keys})
	}
	return out
}

// debugSplit, set by tests, logs the planning rounds.
var debugSplit func(string, ...any)
