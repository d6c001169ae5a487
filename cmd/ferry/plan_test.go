package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDeadline(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"7d", 7 * 24 * time.Hour, ""},
		{"36h", 36 * time.Hour, ""},
		{"90m", 90 * time.Minute, ""},
		{"2026-12-01T12:00:00Z", 24 * time.Hour, ""},
		{"2026-11-29T00:00:00Z", 0, "has passed"},
		{"0d", 0, `--deadline "0d"`},
		{"-5h", 0, "above 0"},
		{"soon", 0, `--deadline "soon": give whole days`},
	} {
		got, err := parseDeadline(tc.in, now)
		if tc.err != "" {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), tc.err)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

// TestPlanFlagErrors: every bad flag is named with its value, before the
// job file is even read.
func TestPlanFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sample", "-1"}, "--sample -1"},
		{[]string{"--max-list", "-2"}, "--max-list -2"},
		{[]string{"--concurrency", "0"}, "--concurrency 0"},
		{[]string{"--utilization", "120"}, "--utilization 120"},
		{[]string{"--rate-bytes", "fast"}, `--rate-bytes "fast"`},
		{[]string{"--rate-objects", "-3"}, `--rate-objects "-3"`},
		{[]string{"--probe", "0"}, "--probe 0: with no probe, give the rate"},
		{[]string{"--deadline", "tomorrow"}, `--deadline "tomorrow"`},
	} {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		code := dispatch(t.Context(), e, append(append([]string{"plan"}, tc.args...), "/nonexistent/job.cfg"))
		assert.Equal(t, exitError, code, "%v", tc.args)
		assert.Contains(t, errb.String(), tc.want, "%v", tc.args)
	}
}

func TestHuman(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{1234 * time.Millisecond, "1.2s"},
		{41234 * time.Microsecond, "41ms"},
		{90 * time.Second, "1m30s"},
		{5*time.Hour + 30*time.Minute, "5h30m"},
		{7 * 24 * time.Hour, "7d"},
		{3*24*time.Hour + 5*time.Hour, "3d5h"},
	} {
		assert.Equal(t, tc.want, human(tc.d))
	}
}
