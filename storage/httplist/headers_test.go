package httplist

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHeaders(t *testing.T) {
	cases := []struct {
		in   string
		want http.Header
	}{
		{"", http.Header{}},
		{"Referer: https://www.example.com/", http.Header{"Referer": {"https://www.example.com/"}}},
		{"X-A: 1, 2, 3; user-agent: ferry/1.0 (compatible; x)", http.Header{"X-A": {"1, 2, 3"}, "User-Agent": {"ferry/1.0 (compatible; x)"}}},
		{"Cookie: a=1; b=2; X-Token: t", http.Header{"Cookie": {"a=1; b=2"}, "X-Token": {"t"}}},
		{"X-Empty:", http.Header{"X-Empty": {""}}},
		{"X-A: 1; X-A: 2", http.Header{"X-A": {"1", "2"}}},
	}
	for _, tc := range cases {
		got, err := ParseHeaders(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"no colon here", "=x: y", "Host: other", "range: bytes=0-1", ": value"} {
		_, err := ParseHeaders(bad)
		assert.Error(t, err, bad)
	}
}
