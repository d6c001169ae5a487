package plan

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/storage"
)

// ListOptions say what to list and how a pass would list it.
type ListOptions struct {
	Src    storage.Backend
	Prefix string         // srcPrefix
	Filter *master.Filter // the pass's own filter: include, exclude, importSince/Until
	Shape  Shape
	// PageSize is the source's LIST page size (0: 1000). Local and HDFS
	// sources make no LIST requests; Requests.List is then 0.
	PageSize  int
	NoListReq bool
	// Parallel: the pass lists each top-level prefix apart (scanThreadCount
	// > 1 on a source that lists by level), which costs a LIST of the top
	// level and at least one page per prefix.
	Parallel bool
	// Sample > 0 lists that many top-level prefixes, chosen at random, and
	// extrapolates by the prefix count (see Sizing.Spread).
	Sample int
	// MaxList > 0 stops after that many objects listed: the figures are
	// then a lower bound (Sizing.Truncated).
	MaxList int64
	Rand    *rand.Rand
	// Keep is how many objects of each class (small, large) to keep, at
	// random, for the probe.
	Keep int
}

// Sizing is what the listing found, extrapolated when sampled.
type Sizing struct {
	Tally
	Listed    int64 // objects listed, filter or not
	Excluded  int64 // dropped by the filter
	Truncated bool  // MaxList reached: a lower bound
	// Sampling: Prefixes top-level prefixes, SampledPrefixes of them
	// listed. Exact when every prefix was listed.
	Sampled                   bool
	Prefixes, SampledPrefixes int
	// ObjectsSpread and BytesSpread are the ± of the estimate: twice its
	// standard error (about 95%) from the spread of the sampled prefixes.
	ObjectsSpread, BytesSpread int64
	// Small and Large are objects kept for the probe.
	Small, Large []storage.ObjectInfo
}

// errEnough stops a listing at MaxList.
var errEnough = errors.New("plan: listing bound reached")

// lister is one listing's running state.
type lister struct {
	o            ListOptions
	listed       int64
	excluded     int64
	seenSmall    int64
	seenLarge    int64
	small, large []storage.ObjectInfo
}

// take counts o into t (filtered) and keeps it for the probe at random.
func (l *lister) take(t *Tally, o storage.ObjectInfo) error {
	if l.o.MaxList > 0 && l.listed >= l.o.MaxList {
		return errEnough
	}
	l.listed++
	if l.o.Filter != nil && !l.o.Filter.Match(strings.TrimPrefix(o.Key, l.o.Prefix), o.ModTime) {
		l.excluded++
		return nil
	}
	t.Add(l.o.Shape, o.Size)
	if o.Size < SmallLimit {
		l.small = l.reservoir(l.small, &l.seenSmall, o)
	} else {
		l.large = l.reservoir(l.large, &l.seenLarge, o)
	}
	return nil
}

// reservoir keeps a uniform random sample of Keep objects of a stream
// whose length is unknown in advance (Algorithm R).
func (l *lister) reservoir(kept []storage.ObjectInfo, seen *int64, o storage.ObjectInfo) []storage.ObjectInfo {
	*seen++
	if len(kept) < l.o.Keep {
		return append(kept, o)
	}
	if l.o.Keep > 0 {
		if j := l.o.Rand.Int64N(*seen); j < int64(l.o.Keep) {
			kept[j] = o
		}
	}
	return kept
}

// List sizes the source: everything (Sample == 0) or a sample of its
// top-level prefixes.
func List(ctx context.Context, o ListOptions) (*Sizing, error) {
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	l := &lister{o: o}
	var s *Sizing
	var err error
	if o.Sample > 0 {
		s, err = l.sample(ctx)
	} else {
		s, err = l.all(ctx)
	}
	if errors.Is(err, errEnough) {
		s.Truncated, err = true, nil
	}
	if err != nil {
		return nil, err
	}
	s.Listed, s.Excluded, s.Small, s.Large = l.listed, l.excluded, l.small, l.large
	if o.NoListReq {
		s.Req.List = 0
	}
	return s, nil
}

// all lists the whole source once. LIST pages are counted as the pass
// will make them: with parallel scanning, the objects are grouped by
// top-level prefix (one stream each) from the flat listing's key order.
func (l *lister) all(ctx context.Context) (*Sizing, error) {
	s := &Sizing{}
	var (
		top, dirs int64  // top-level objects and prefixes
		cur       string // the prefix being listed
		inCur     int64  // objects listed under cur
		dirPages  int64
	)
	err := l.o.Src.List(ctx, l.o.Prefix, "", func(o storage.ObjectInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := strings.TrimPrefix(o.Key, l.o.Prefix)
		if i := strings.IndexByte(rel, '/'); i < 0 {
			top++
		} else if d := rel[:i+1]; d != cur {
			if cur != "" {
				dirPages += Pages(inCur, l.o.PageSize)
			}
			cur, inCur = d, 0
			dirs++
		}
		if cur != "" && strings.HasPrefix(rel, cur) {
			inCur++
		}
		return l.take(&s.Tally, o)
	})
	if cur != "" {
		dirPages += Pages(inCur, l.o.PageSize)
	}
	if l.o.Parallel {
		s.Req.List = Pages(top+dirs, l.o.PageSize) + dirPages
	} else {
		s.Req.List = Pages(l.listed, l.o.PageSize)
	}
	if err != nil && !errors.Is(err, errEnough) {
		return nil, fmt.Errorf("listing %s: %w", l.o.Src, err)
	}
	return s, err
}

// sample lists the top level, then Sample of its prefixes chosen at
// random, each in full, and extrapolates them to all prefixes.
func (l *lister) sample(ctx context.Context) (*Sizing, error) {
	ll, ok := l.o.Src.(storage.LevelLister)
	if !ok || (l.o.Prefix != "" && !strings.HasSuffix(l.o.Prefix, "/")) {
		return nil, fmt.Errorf("--sample: %s cannot be listed by prefix (srcPrefix must be empty or end in \"/\")", l.o.Src)
	}
	s := &Sizing{Sampled: true}
	var top Tally
	var dirs []string
	err := ll.ListLevel(ctx, l.o.Prefix, func(o storage.ObjectInfo) error { return l.take(&top, o) },
		func(d string) error { dirs = append(dirs, d); return nil })
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, fmt.Errorf("--sample: %s cannot be listed by prefix: %w", l.o.Src, err)
	}
	if err != nil {
		if errors.Is(err, errEnough) {
			s.Tally = top
			return s, err
		}
		return nil, fmt.Errorf("listing the top level of %s: %w", l.o.Src, err)
	}
	topListed := l.listed // the top level's objects, filtered or not
	levelPages := Pages(topListed+int64(len(dirs)), l.o.PageSize)
	pick := dirs
	if len(dirs) > l.o.Sample {
		pick = make([]string, l.o.Sample)
		for i, j := range l.o.Rand.Perm(len(dirs))[:l.o.Sample] {
			pick[i] = dirs[j]
		}
	}
	s.Prefixes, s.SampledPrefixes = len(dirs), len(pick)
	per := make([]Tally, 0, len(pick))
	var pages int64
	for _, d := range pick {
		var t Tally
		before := l.listed
		err := l.o.Src.List(ctx, d, "", func(o storage.ObjectInfo) error { return l.take(&t, o) })
		per = append(per, t)
		pages += Pages(l.listed-before, l.o.PageSize)
		if errors.Is(err, errEnough) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s prefix %q: %w", l.o.Src, d, err)
		}
	}
	ext := Extrapolate(per, len(dirs))
	s.Tally = top
	s.Merge(ext.Tally)
	s.ObjectsSpread, s.BytesSpread = ext.ObjectsSpread, ext.BytesSpread
	if l.o.Parallel {
		s.Req.List = levelPages + scale(pages, len(dirs), len(per))
	} else {
		s.Req.List = Pages(topListed+scale(l.listed-topListed, len(dirs), len(per)), l.o.PageSize)
	}
	if l.o.MaxList > 0 && l.listed >= l.o.MaxList {
		return s, errEnough
	}
	return s, nil
}

func scale(n int64, all, sampled int) int64 {
	if sampled == 0 {
		return 0
	}
	return int64(float64(n)*float64(all)/float64(sampled) + 0.5)
}
