package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Value syntaxes shared by many keys. Each parser takes the trimmed text
// and returns an error that names what would be right, without the key
// (the caller adds file, line and key).

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
}

// parseSize reads a byte count: plain bytes ("1000000000") or a whole
// number with a 1024-based unit, case-insensitive ("150m", "5G", "64KiB").
// OssImport writes sizes both ways (taskObjectSizeLimit in bytes,
// multipartUploadPartSize as 50m). Fractions are refused rather than
// rounded: "1.5g" would hide a rounding choice in a limit.
func parseSize(s string) (int64, error) {
	l := strings.ToLower(s)
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	unit := strings.TrimSpace(l[i:])
	mult, ok := sizeUnits[unit]
	if i == 0 || !ok {
		return 0, fmt.Errorf("%q is not a size: give bytes, or a whole number with k, m, g or t (1024-based), e.g. 150m", s)
	}
	n, err := strconv.ParseInt(l[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

// formatSize is parseSize's inverse, choosing the largest exact unit so
// printed configs read as people write them (52428800 -> "50m").
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// parseBool accepts what operators type: true/false, yes/no, 1/0, in any
// case. OssImport's files use true/false.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "1":
		return true, nil
	case "false", "no", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean: use true or false", s)
}

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return n, nil
}

// parseSince reads importSince: Unix seconds as OssImport documents it
// (0 = everything), or RFC 3339 as an extension. A 13-digit number is
// almost certainly milliseconds (`date +%s%3N`, JavaScript): taken as
// seconds it would be tens of thousands of years ahead and silently copy
// nothing, so it is refused.
func parseSince(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n < 0:
			return time.Time{}, fmt.Errorf("%d is negative: give Unix seconds (date +%%s), or 0 for everything", n)
		case n == 0:
			return time.Time{}, nil
		case n >= 1e11:
			return time.Time{}, fmt.Errorf("%d looks like milliseconds: give Unix seconds (%d), or RFC 3339 such as 2024-05-01T00:00:00Z", n, n/1000)
		}
		return time.Unix(n, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither Unix seconds nor RFC 3339 (2024-05-01T00:00:00+08:00)", s)
	}
	return t, nil
}

// parseSeconds reads a duration in whole seconds (OssImport's
// incrementalModeInterval), or a Go duration such as "6h" as an extension.
func parseSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n < 0 || n > math.MaxInt64/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is out of range", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds (86400) or a duration (24h)", s)
	}
	return d, nil
}

// parseRate reads a non-negative, finite per-second rate; 0 = unlimited.
func parseRate(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, fmt.Errorf("%q is not a rate: give a number >= 0 (0 = unlimited)", s)
	}
	return f, nil
}

// ParseSize parses a size as configs write it: bytes, or with a k/m/g/t
// suffix (1024-based), as for maxBytesPerSecond. The CLI's throttle flag
// takes the same syntax.
func ParseSize(s string) (int64, error) { return parseSize(s) }
