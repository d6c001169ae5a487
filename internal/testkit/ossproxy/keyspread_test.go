package ossproxy

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The meter maps keys to ranges by rank and counts the distinct ranges of
// the requests in flight, sampled from minInFlight on.
func TestKeySpreadCountsRangesInFlight(t *testing.T) {
	var keys []string
	for i := range 16 {
		keys = append(keys, fmt.Sprintf("k%02d", 15-i)) // unsorted on purpose
	}
	p := &Proxy{}
	ks := p.MeasureSpread("b", keys, 4, 2, 0)
	for _, tc := range []struct {
		key  string
		want int
	}{{"k00", 0}, {"k03", 0}, {"k04", 1}, {"k15", 3}, {"zz", -1}} {
		assert.Equal(t, tc.want, ks.rangeOf(tc.key), tc.key)
	}

	r := httptest.NewRequest("GET", "/", nil)
	enter := func(key string) func() { return ks.enter(r, reqInfo{bucket: "b", key: key}) }
	a := enter("k00") // 1 in flight: not sampled
	b := enter("k01") // same range: 1 distinct
	c := enter("k15") // 2 distinct
	other := ks.enter(r, reqInfo{bucket: "other", key: "k05"})
	d := enter("k08") // 3 distinct
	for _, leave := range []func(){a, b, c, other, d} {
		leave()
	}
	got := ks.Stats()
	assert.Equal(t, SpreadStats{Samples: 3, MeanDistinct: 2, MinDistinct: 1, MaxDistinct: 3, MaxPerBucket: 2}, got)
	assert.Same(t, ks, p.spread.Load())
}
