package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestParseInterleavedFlags(t *testing.T) {
	cases := []struct {
		args  []string
		bytes string
		pos   []string
	}{
		{[]string{"--bytes", "9m", "job"}, "9m", []string{"job"}},
		{[]string{"job", "--bytes", "9m"}, "9m", []string{"job"}},
		{[]string{"job", "--bytes=1g", "more"}, "1g", []string{"job", "more"}},
		{[]string{"--", "-odd-name", "--bytes"}, "0", []string{"-odd-name", "--bytes"}},
		{[]string{"job", "--", "--bytes"}, "0", []string{"job", "--bytes"}},
	}
	for _, tc := range cases {
		e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
		fs, _ := flags(e, "t", "JOB")
		b := fs.String("bytes", "0", "")
		require.NoError(t, parse(fs, tc.args, 0, 5), "%q", tc.args)
		assert.Equal(t, tc.bytes, *b, "%q", tc.args)
		assert.Equal(t, tc.pos, fs.Args(), "%q", tc.args)
	}
}
