package master

import (
	"cmp"
	"math"
	"math/big"
	"slices"
)

// segment: about n keys between ranks x0 and x1 of the keyspace; gap
// when n is a guess (no page seen there). Ranks, not float fractions: a
// hot spot can be 10^-30 of the space, below float64's resolution near 1.
type segment struct {
	x0, x1 *big.Int
	n      float64
	gap    bool
	// The densities at the gap's ends: probes crowd toward the denser
	// one (see probePoints).
	dl, dr float64
}

type distribution []segment

// edgeKeys is how many keys at a page's end measure the density there.
const edgeKeys = 100

// width is b-a as a float64 (exact enough: relative error 2^-53).
func width(a, b *big.Int) float64 {
	f, _ := new(big.Float).SetInt(new(big.Int).Sub(b, a)).Float64()
	return f
}

func maxInt(a, b *big.Int) *big.Int {
	if a.Cmp(b) >= 0 {
		return a
	}
	return b
}

// estimate spreads the keys over the keyspace: the pages' keys where they
// are, nothing between a probe's start and its first key, and in a gap
// between two pages, its width times the mean of the densities at the
// pages' facing ends (the ends, not the whole pages: a page running into a
// dense cluster says so at its end).
func (s *splitter) estimate(ks *keyspace) distribution {
	rs := s.merged()
	density := func(keys []string) float64 {
		w := width(ks.rank(keys[0]), ks.rank(keys[len(keys)-1]))
		if len(keys) < 2 || w <= 0 {
			return -1
		}
		return float64(len(keys)-1) / w
	}
	overall, n, w := 0.0, 0.0, 0.0
	for _, r := range rs {
		if d := density(r.keys); d > 0 {
			n += float64(len(r.keys) - 1)
			w += float64(len(r.keys)-1) / d
		}
	}
	if w > 0 {
		overall = n / w
	}
	// The keys a gap holds: its width times the larger of the densities
	// at its ends. Between a hot spot's edge and a sparse page the truth
	// can be anywhere from one to the other; guessing high costs probes,
	// which resolve it, guessing low costs balance, which nothing repairs.
	guess := func(w, a, b float64) float64 {
		if a > 0 || b > 0 {
			return w * max(a, b)
		}
		return w * overall
	}
	head := func(k []string) []string { return k[:min(len(k), edgeKeys)] }
	tail := func(k []string) []string { return k[max(0, len(k)-edgeKeys):] }
	var d distribution
	x := ks.lo
	for i, r := range rs {
		from := maxInt(ks.rank(r.from), x)
		a, b := maxInt(ks.rank(r.keys[0]), x), maxInt(ks.rank(r.keys[len(r.keys)-1]), x)
		if i > 0 && from.Cmp(x) > 0 {
			dl, dr := density(tail(rs[i-1].keys)), density(head(r.keys))
			d = append(d, segment{x0: x, x1: from, n: guess(width(x, from), dl, dr), gap: true, dl: dl, dr: dr})
		}
		d = append(d, segment{x0: a, x1: b, n: float64(len(r.keys))})
		x = b
	}
	if len(rs) > 0 && x.Cmp(ks.hi) < 0 {
		last := rs[len(rs)-1]
		if len(last.keys) >= s.page { // not the short last page: more beyond
			dl := density(tail(last.keys))
			d = append(d, segment{x0: x, x1: ks.hi, n: guess(width(x, ks.hi), dl, -1), gap: true, dl: dl, dr: -1})
		}
	}
	return d
}

func (d distribution) total() float64 {
	t := 0.0
	for _, s := range d {
		t += s.n
	}
	return t
}

// probePoints spreads probes over the gaps that may hold more than unit
// keys, about one per unit, the largest gaps first, at most limit.
func (d distribution) probePoints(ks *keyspace, unit, page float64, limit int) []*big.Int {
	gaps := slices.Clone(d)
	slices.SortFunc(gaps, func(a, b segment) int { return cmp.Compare(b.n, a.n) })
	var out []*big.Int
	for _, g := range gaps {
		if !g.gap || g.n <= unit || len(out) >= limit {
			break
		}
		k := int(min(g.n/unit, float64(limit-len(out))))
		for j := 1; j <= k; j++ {
			out = append(out, ks.between(g.x0, g.x1, g.spot(j, k, page)))
		}
	}
	slices.SortFunc(out, (*big.Int).Cmp)
	return out
}

// spot is where, as a fraction of the gap, the j-th of k probes goes:
// evenly when the densities at its ends are alike; else at geometrically
// shrinking distances from the denser end, down to the width's share the
// sparser density gives one key of the denser, so that a hot spot's end is
// bracketed whatever its extent.
func (g segment) spot(j, k int, page float64) float64 {
	even := float64(j) / float64(k+1)
	lo, hi := min(g.dl, g.dr), max(g.dl, g.dr)
	if lo > 0 && hi < 16*lo && g.n > 16*page && j%2 == 1 {
		// Alike ends, but many pages between: the keys may run on from
		// the left end or stop short of it (a counter's unused digits
		// leave such holes). Every other probe goes at geometrically
		// growing distances from the left end, from one page's width to
		// the whole gap, to find where the left end's keys stop.
		return math.Pow(page/g.n, 1-even)
	}
	if lo <= 0 || hi < 16*lo {
		return even
	}
	f := math.Pow(lo/hi, even)
	if g.dr > g.dl {
		return 1 - f
	}
	return f
}

// quantile is the rank below which a share q of the keys lies.
func (d distribution) quantile(ks *keyspace, q float64) *big.Int {
	want := q * d.total()
	for _, s := range d {
		if want <= s.n && s.n > 0 {
			return ks.between(s.x0, s.x1, want/s.n)
		}
		want -= s.n
	}
	if len(d) == 0 {
		return ks.between(ks.lo, ks.hi, q)
	}
	return d[len(d)-1].x1
}
