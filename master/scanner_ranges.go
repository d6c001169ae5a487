package master

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/tracker"
)

// Range streams: a flat prefix (keys without "/" after it, so one level
// holding everything) is split into key ranges listed concurrently, each a
// stream with its own checkpoint. A range is (lo, hi]: the keys after lo
// up to and including hi, which is exactly what storage.Backend.List's
// exclusive startAfter gives: List(prefix, lo) and stop past hi. The first
// range has lo "" (from the start), the last hi "" (to the end). The name
// carries both ends, hex-encoded ("range:<lo>:<hi>"), and the whole layout
// is recorded in one transaction before any range is listed, so a resumed
// scan lists the same ranges, whatever the thread count is now.
const streamRange = "range:"

// keyRange is (lo, hi]; hi "" is unbounded.
type keyRange struct{ lo, hi string }

func (r keyRange) name() string {
	return streamRange + hex.EncodeToString([]byte(r.lo)) + ":" + hex.EncodeToString([]byte(r.hi))
}

func parseRange(name string) (keyRange, bool) {
	rest, ok := strings.CutPrefix(name, streamRange)
	if !ok {
		return keyRange{}, false
	}
	l, h, ok := strings.Cut(rest, ":")
	if !ok {
		return keyRange{}, false
	}
	lo, err1 := hex.DecodeString(l)
	hi, err2 := hex.DecodeString(h)
	if err1 != nil || err2 != nil {
		return keyRange{}, false
	}
	return keyRange{string(lo), string(hi)}, true
}

// rangesOf turns split points into the ranges they bound.
func rangesOf(splits []string) []keyRange {
	out := make([]keyRange, 0, len(splits)+1)
	lo := ""
	for _, s := range splits {
		out = append(out, keyRange{lo, s})
		lo = s
	}
	return append(out, keyRange{lo, ""})
}

// recordedRanges returns the range layout recorded in cps, in key order,
// or nil if the scan has none. The ranges must chain from the start to the
// end; should one be missing (it cannot, being recorded with the others),
// the gap gets a range of its own rather than going unlisted.
func recordedRanges(cps map[string]tracker.ScanCheckpoint) ([]keyRange, error) {
	var rs []keyRange
	for name := range cps {
		if r, ok := parseRange(name); ok {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil, nil
	}
	slices.SortFunc(rs, func(a, b keyRange) int { return strings.Compare(a.lo, b.lo) })
	var out []keyRange
	lo := ""
	for _, r := range rs {
		if r.lo < lo || (r.hi != "" && r.hi <= r.lo) {
			return nil, fmt.Errorf("scan ranges overlap at %q", r.lo)
		}
		if r.lo > lo {
			out = append(out, keyRange{lo, r.lo})
		}
		out = append(out, r)
		if r.hi == "" {
			return out, nil
		}
		lo = r.hi
	}
	return append(out, keyRange{lo, ""}), nil
}

// streamStarter records several empty stream checkpoints at once
// (tracker.Store.StartScanStreams).
type streamStarter interface {
	StartScanStreams(job string, n uint64, streams []string) error
}

// planRanges decides whether to split a fresh scan into key ranges, and
// records the layout. It returns nil when the prefix is not worth
// splitting: its first page is not full (a few pages at most), or the
// first page shows a hierarchy that the level listing can split for free.
func (s *Scanner) planRanges(ctx context.Context, canLevel bool) ([]keyRange, error) {
	page := s.cfg.ProbePage
	start := time.Now()
	probe := func(ctx context.Context, after string) ([]string, error) {
		return s.probe(ctx, after, page)
	}
	first, err := probe(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("sampling %s: %w", s.cfg.Src, err)
	}
	if canLevel && slices.ContainsFunc(first, func(k string) bool {
		return strings.Contains(strings.TrimPrefix(k, s.cfg.SrcPrefix), "/")
	}) {
		return nil, nil
	}
	sp := &splitter{page: page, parallel: s.cfg.Threads, probe: probe}
	splits, err := sp.plan(ctx, first, 4*s.cfg.Threads)
	if err != nil {
		return nil, fmt.Errorf("sampling %s: %w", s.cfg.Src, err)
	}
	if len(splits) == 0 {
		return nil, nil
	}
	rs := rangesOf(splits)
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name()
	}
	if st, ok := s.store.(streamStarter); ok {
		err = st.StartScanStreams(s.cfg.Job, s.cfg.Pass, names)
	} else {
		// One at a time: a crash in between leaves a gap that
		// recordedRanges fills with a range of its own.
		for _, n := range names {
			if _, err = s.store.AppendShards(s.cfg.Job, s.cfg.Pass, nil, nil, tracker.ScanCheckpoint{Stream: n}); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	s.log.Info("scan: flat prefix split into key ranges", "ranges", len(rs), "probes", sp.probes+1, "waves", sp.waves+1,
		"took", time.Since(start).Round(time.Millisecond))
	return rs, nil
}

// errProbePage stops a probe's listing after one page.
var errProbePage = errors.New("page full")

// probe returns up to page keys after startAfter: one LIST request.
func (s *Scanner) probe(ctx context.Context, startAfter string, page int) ([]string, error) {
	var keys []string
	err := s.cfg.Src.List(ctx, s.cfg.SrcPrefix, startAfter, func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		if len(keys) >= page {
			return errProbePage
		}
		return nil
	})
	if err != nil && !errors.Is(err, errProbePage) {
		return nil, err
	}
	return keys, nil
}

// errRangeEnd stops a range's listing at the first key past its end.
var errRangeEnd = errors.New("end of range")

// scanRanges lists the ranges not done yet, Threads at a time.
func (s *Scanner) scanRanges(ctx context.Context, rs []keyRange, cps map[string]tracker.ScanCheckpoint) error {
	streams := make([]listStream, len(rs))
	for i, r := range rs {
		streams[i] = listStream{name: r.name(), list: func(ctx context.Context, after string, fn storage.ListFunc) error {
			err := s.cfg.Src.List(ctx, s.cfg.SrcPrefix, max(after, r.lo), func(o storage.ObjectInfo) error {
				if r.hi != "" && o.Key > r.hi {
					return errRangeEnd
				}
				return fn(o)
			})
			if errors.Is(err, errRangeEnd) {
				return nil
			}
			return err
		}}
	}
	return s.runStreams(ctx, streams, cps)
}
