package conf

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1000000000": 1000000000, "500k": 500 << 10, "150m": 150 << 20, "5g": 5 << 30,
		"2t": 2 << 40, "150M": 150 << 20, "5G": 5 << 30, "64KiB": 64 << 10, "10mb": 10 << 20,
		"1GB": 1 << 30, "3gib": 3 << 30, "1TB": 1 << 40, "7b": 7, "50 m": 50 << 20,
		"8388607t": 8388607 << 40,
	} {
		got, err := parseSize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "m", "-5m", "1.5g", "5x", "5 gigs", "1e9", "0x10", "8388608t", "99999999999999999999"} {
		_, err := parseSize(in)
		require.Error(t, err, in)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 1000000000: "1000000000", 50 << 20: "50m", 1 << 30: "1g", 1536: "1536", 1 << 40: "1t", 3 << 10: "3k"} {
		require.Equal(t, want, formatSize(n))
		back, err := parseSize(want)
		require.NoError(t, err)
		require.Equal(t, n, back)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{
		"true": true, "TRUE": true, "True": true, "yes": true, "YES": true, "1": true,
		"false": false, "FALSE": false, "no": false, "No": false, "0": false,
	} {
		got, err := parseBool(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "t", "on", "2", "truee"} {
		_, err := parseBool(in)
		require.Error(t, err, in)
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Time{
		"0":                         {},
		"1700000000":                time.Unix(1700000000, 0).UTC(),
		"2024-05-01T00:00:00Z":      time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		"2024-05-01T08:00:00+08:00": time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: %v != %v", in, got, want)
	}
	_, err := parseSince("1700000000000")
	require.ErrorContains(t, err, "milliseconds")
	_, err = parseSince("-1")
	require.ErrorContains(t, err, "negative")
	_, err = parseSince("2024-05-01")
	require.ErrorContains(t, err, "RFC 3339")
}

func TestParseSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"86400": 24 * time.Hour, "900": 15 * time.Minute, "6h": 6 * time.Hour, "0": 0} {
		got, err := parseSeconds(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "1d", "99999999999999999"} {
		_, err := parseSeconds(in)
		require.Error(t, err, in)
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "100": 100, "0.5": 0.5} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "-1", "NaN", "Inf", "+Inf", "fast"} {
		_, err := parseRate(in)
		require.Error(t, err, in)
	}
}

// Every size and boolean key goes through these parsers.
func TestSizeAndBoolKeys(t *testing.T) {
	j := mustParse(t, with(
		"taskObjectSizeLimit=2G", "multipartUploadThreshold=1gb", "multipartUploadPartSize=64MiB",
		"maxBytesPerSecond=100m", "isSkipExistFile=YES", "isIncremental=1", "destPathStyle=no",
	))
	require.Equal(t, int64(2<<30), j.ShardBytes)
	require.Equal(t, int64(1<<30), j.MultipartThreshold)
	require.Equal(t, int64(64<<20), j.PartSize)
	require.Equal(t, int64(100<<20), j.BytesPerSecond)
	require.Equal(t, task.OverwriteIfSourceNewer, j.Overwrite, "isSkipExistFile=YES")
	require.True(t, j.Incremental)
	require.False(t, j.Dest.PathStyle)

	_, err := parse(t, with("isSkipExistFile=maybe"))
	onlyProblem(t, err, "isSkipExistFile", ErrInvalid, `"maybe" is not a boolean`)
	_, err = parse(t, with("taskObjectSizeLimit=1.5g"))
	onlyProblem(t, err, "taskObjectSizeLimit", ErrInvalid, "not a size")
}
