package textdist

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3},
		{"", "", 0},
		{"", "abcd", 4},
		{"abcd", "", 4},
		{"stat", "stat", 0},
		{"stats", "stat", 1},    // one insertion
		{"stta", "stat", 2},     // a swap is two edits in Levenshtein
		{"Stat", "stat", 1},     // case counts: callers lower-case first
		{"retyr", "retry", 2},   // swap at the end
		{"wrker", "workers", 2}, // two deletions
	} {
		assert.Equal(t, tc.want, Levenshtein(tc.a, tc.b), "%q %q", tc.a, tc.b)
		assert.Equal(t, tc.want, Levenshtein(tc.b, tc.a), "symmetric: %q %q", tc.b, tc.a)
	}
}
