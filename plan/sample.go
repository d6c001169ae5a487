package plan

import "math"

// Estimate is a sample's tally extrapolated to the whole, with the ± of
// its object and byte counts.
type Estimate struct {
	Tally
	ObjectsSpread, BytesSpread int64
}

// Extrapolate scales the tallies of n sampled prefixes to all of them
// (prefixes in all): each count times all/n. When every prefix was
// listed (n == all) the result is exact and the spread 0.
//
// Otherwise the spread is twice the standard error of the estimated total
// (about a 95% interval if prefixes are not wildly skewed): all × s / √n
// × √((all−n)/(all−1)), s being the standard deviation of the per-prefix
// counts and the last factor the correction for sampling without
// replacement from a finite set of prefixes. It measures how uniform the
// prefixes are: date- or hash-named prefixes of similar size give a small
// one; a source with one huge prefix among many small ones a large one
// (and a sample that missed the huge prefix underestimates with a small
// spread: list more prefixes, or all of them, when sizes are skewed).
func Extrapolate(sampled []Tally, all int) Estimate {
	n := len(sampled)
	var sum Tally
	for _, t := range sampled {
		sum.Merge(t)
	}
	if n == 0 || n >= all {
		return Estimate{Tally: sum}
	}
	e := Estimate{Tally: sum.Scaled(float64(all) / float64(n))}
	objs := make([]float64, n)
	bytes := make([]float64, n)
	for i, t := range sampled {
		objs[i], bytes[i] = float64(t.Objects), float64(t.Bytes)
	}
	e.ObjectsSpread = spread(objs, all)
	e.BytesSpread = spread(bytes, all)
	return e
}

// spread is twice the standard error of all × mean(xs).
func spread(xs []float64, all int) int64 {
	n := float64(len(xs))
	if n < 2 {
		return 0 // one prefix says nothing of the others: see Sizing
	}
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	N := float64(all)
	fpc := math.Sqrt((N - n) / (N - 1))
	return int64(math.Round(2 * N * sd / math.Sqrt(n) * fpc))
}
