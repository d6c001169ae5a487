package main

import (
	"time"

	"github.com/ferry-migrate/ferry/admin/statjson"
)

// bytesIEC formats n as a human size (1.5 GiB).
func bytesIEC(n int64) string { return statjson.IEC(n) }

// rate formats bytes over d as a speed.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return bytesIEC(int64(float64(n)/d.Seconds())) + "/s"
}

// eta estimates the time left from progress so far.
func eta(done, total int64, elapsed time.Duration) string {
	if done <= 0 || total <= done || elapsed <= 0 {
		return "-"
	}
	left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
	return left.Round(time.Second).String()
}
