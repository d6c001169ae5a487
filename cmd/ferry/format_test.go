package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFormat(t *testing.T) {
	cases := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 30, "5.0 GiB"}, {3 << 40, "3.0 TiB"}}
	for _, tc := range cases {
		assert.Equal(t, tc.want, bytesIEC(tc.n))
	}
	assert.Equal(t, "1.0 MiB/s", rate(10<<20, 10*time.Second))
	assert.Equal(t, "-", rate(1, 0))
	assert.Equal(t, "10s", eta(50, 100, 10*time.Second))
	assert.Equal(t, "-", eta(0, 100, time.Second))
	assert.Equal(t, "-", eta(100, 100, time.Second))
}
