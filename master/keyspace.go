package master

import (
	"math/big"
	"slices"
	"strings"
)

// keyspace maps keys to numbers so that split points can be interpolated
// between known keys. A key is read as a number whose digits are its bytes
// after a common prefix, each byte replaced by its rank in the alphabet of
// bytes seen in the sampled keys (digit 0 is "end of key", so a key sorts
// before its extensions). Ranks, unlike raw bytes, make the keys people
// use dense: sequential decimal keys become consecutive numbers, hex names
// are uniform, whereas raw bytes would leave most
// of the space between '9' and the next '0' empty and put every
// interpolated point in such a hole. The mapping is monotone (a <= b gives
// rank(a) <= rank(b)), which is all the split needs: a split point is any
// string, and a poor estimate only costs balance, never correctness.
type keyspace struct {
	prefix string
	alpha  []byte // sorted; byte alpha[i] is digit i+1
	width  int    // digits: the longest sampled key after prefix, plus one
	base   *big.Int
	lo, hi *big.Int // the ranks that fractions 0 and 1 stand for
}

const maxDigits = 100

// newKeyspace builds the space of the sampled keys (at least one), with
// fractions running from the smallest to the largest of them.
func newKeyspace(keys []string) *keyspace {
	first, last := slices.Min(keys), slices.Max(keys)
	n := 0
	for n < len(first) && n < len(last) && first[n] == last[n] {
		n++
	}
	k := &keyspace{prefix: first[:n]}
	for _, key := range keys {
		k.width = max(k.width, len(key)-n)
	}
	// Room for one digit beyond the longest key; at most maxDigits, so
	// that widths fit a float64 (keys differing only further on rank the
	// same, which costs balance at worst).
	k.width = min(k.width+1, maxDigits)
	// One alphabet for all positions, not one per position: a position
	// seen with few values in the samples would make the others
	// unreachable for the probes that look for the rest of the listing.
	var seen [256]bool
	for _, key := range keys {
		rest := key[min(n, len(key)):]
		for i := 0; i < len(rest) && i < k.width; i++ {
			seen[rest[i]] = true
		}
	}
	for b, ok := range seen {
		if ok {
			k.alpha = append(k.alpha, byte(b))
		}
	}
	k.base = big.NewInt(int64(len(k.alpha) + 1))
	k.lo, k.hi = k.rank(first), k.rank(last)
	return k
}

// digit is the rank of byte c, and whether c is in the alphabet. A byte
// never seen sorts between its neighbours: rank reads it as its lower
// neighbour followed by the largest digits (the ceiling of the neighbour's
// subtree), which keeps the mapping monotone.
func (k *keyspace) digit(c byte) (int64, bool) {
	i, found := slices.BinarySearch(k.alpha, c)
	if found {
		return int64(i + 1), true
	}
	return int64(i), false
}

func (k *keyspace) rank(key string) *big.Int {
	r := new(big.Int)
	rest, ok := strings.CutPrefix(key, k.prefix)
	if !ok {
		if key < k.prefix {
			return r
		}
		return k.top()
	}
	d := new(big.Int)
	ceiling := false
	for i := 0; i < k.width; i++ {
		r.Mul(r, k.base)
		switch {
		case ceiling:
			r.Add(r, d.SetInt64(int64(len(k.alpha))))
		case i < len(rest):
			v, seen := k.digit(rest[i])
			r.Add(r, d.SetInt64(v))
			ceiling = !seen
		}
	}
	return r
}

// top is the highest rank: every digit the largest.
func (k *keyspace) top() *big.Int {
	r := new(big.Int).Exp(k.base, big.NewInt(int64(k.width)), nil)
	return r.Sub(r, big.NewInt(1))
}

// key is the string of rank r (the smallest key of that rank).
func (k *keyspace) key(r *big.Int) string {
	digits := make([]int64, k.width)
	q, m := new(big.Int).Set(r), new(big.Int)
	for i := k.width - 1; i >= 0; i-- {
		q.QuoRem(q, k.base, m)
		digits[i] = m.Int64()
	}
	var b strings.Builder
	b.WriteString(k.prefix)
	for _, d := range digits {
		if d == 0 {
			break
		}
		b.WriteByte(k.alpha[d-1])
	}
	return b.String()
}

// frac is where key lies between lo (0) and hi (1); outside, it is below 0
// or above 1.
func (k *keyspace) frac(key string) float64 {
	span := new(big.Int).Sub(k.hi, k.lo)
	if span.Sign() <= 0 {
		return 0
	}
	d := new(big.Int).Sub(k.rank(key), k.lo)
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(d), new(big.Float).SetInt(span)).Float64()
	return f
}

// at is the key at fraction x between lo and hi.
func (k *keyspace) at(x float64) string {
	return k.key(k.between(k.lo, k.hi, x))
}

// between is the rank at fraction x from a to b.
func (k *keyspace) between(a, b *big.Int, x float64) *big.Int {
	span := new(big.Int).Sub(b, a)
	prec := uint(span.BitLen() + 64)
	f := new(big.Float).SetPrec(prec).SetInt(span)
	f.Mul(f, new(big.Float).SetPrec(prec).SetFloat64(x))
	r, _ := f.Int(nil)
	return r.Add(r, a)
}
