package plan

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExtrapolate(t *testing.T) {
	s := Shape{Threshold: 8 * mib, PartSize: 5 * mib, Multipart: true}
	tally := func(sizes ...int64) Tally {
		var t Tally
		for _, n := range sizes {
			t.Add(s, n)
		}
		return t
	}
	for _, tc := range []struct {
		name                  string
		sampled               []Tally
		all                   int
		objects, bytes        int64
		objSpread, byteSpread int64
	}{
		{"every prefix: exact", []Tally{tally(1, 2), tally(3)}, 2, 3, 6, 0, 0},
		{"uniform prefixes: no spread", []Tally{tally(10, 10), tally(10, 10)}, 10, 20, 200, 0, 0},
		// counts 1 and 3: mean 2, sd √2; 2 × 10 × √2/√2 × √(8/9) = 18.86.
		{"uneven prefixes", []Tally{tally(5), tally(5, 5, 5)}, 10, 20, 100, 19, 94},
		{"one prefix: spread unknown (0)", []Tally{tally(1, 1)}, 4, 8, 8, 0, 0},
		{"nothing sampled", nil, 4, 0, 0, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Extrapolate(tc.sampled, tc.all)
			assert.Equal(t, tc.objects, e.Objects)
			assert.Equal(t, tc.bytes, e.Bytes)
			assert.Equal(t, tc.objSpread, e.ObjectsSpread)
			assert.Equal(t, tc.byteSpread, e.BytesSpread)
		})
	}
}
