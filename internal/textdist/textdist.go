// Package textdist measures how far apart two short words are, for "did
// you mean" hints: conf suggests the nearest job-config key, cmd/ferry the
// nearest command. One measure keeps the two kinds of hint consistent.
package textdist

// Levenshtein is the edit distance between a and b counted in bytes: the
// words it serves (config keys, command names) are ASCII, and bytes avoid
// a rune conversion per comparison. A swap of two neighbours costs 2.
func Levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
