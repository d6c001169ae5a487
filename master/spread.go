package master

import "math/bits"

// Why spread: the scanner appends shards in key order, and handing them out
// in that order puts every worker on neighbouring keys at once. Object
// stores partition by key range, and sequential key prefixes land on one
// partition (the OSS book's performance chapter warns about exactly this),
// so a first-in-first-out broker turns a cluster into one hot partition.
//
// How: the n-th grant takes the queued shard at rank floor(frac(n/φ) * q)
// of the q queued shards in id (key) order: a Kronecker sequence with the
// golden ratio. By the three-distance theorem the first k points of that
// sequence split [0, 1) into gaps of at most three lengths, the smallest
// above 1/(φ²k) ≈ 0.38/k (measured: about 0.45/k up to k = 1,000), and any
// k consecutive grants are just as far apart, so the shards leased at one
// time sit in distant key ranges however long the pass runs. A bit-reversed
// (van der Corput) order spreads the first k a little better (1/(2k)) but
// visits the top of the key range last in every sweep, and the top is where
// the scan appends: a shard appended late would wait behind almost all the
// others. The golden sequence has no such favoured rank: a late shard waits
// about as long as any queued shard (its fair share), not for the queue to
// drain. Each grant costs O(log q) (shardQueue), and is deterministic.

// goldenFraction is 2^64/φ rounded to odd: successive multiples, mod 2^64,
// are the points of the sequence as fractions of 2^64.
const goldenFraction = 0x9e3779b97f4a7c15

// spreadRank is the rank, among q queued shards, that grant n takes.
func spreadRank(n uint64, q int) int {
	if q <= 0 {
		return 0
	}
	hi, _ := bits.Mul64(n*goldenFraction, uint64(q))
	return int(hi)
}
