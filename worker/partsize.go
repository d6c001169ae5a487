package worker

import (
	"fmt"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/task"
)

// partUnit: a part size raised to fit the part count is a whole MiB.
const partUnit = 1 << 20

// PartSize is the part size for uploading an object of size bytes in parts
// to a store with limits lim (storage.LimitsOf the destination):
//
//   - the configured s.PartSize (task.DefaultPartSize when unset), as is:
//     256 KiB parts to OSS stay 256 KiB;
//   - raised, if the object would need more than lim.MaxParts parts, to
//     size/MaxParts rounded up to a whole MiB (a 5 TB object goes in
//     477 MiB parts, 9,997 of them);
//   - then held within [lim.MinPart, lim.MaxPart].
//
// An object larger than lim.MaxObject, or that no allowed part size fits
// in MaxParts parts, gets an error wrapping storage.ErrTooLarge that names
// the limit (permanent: retrying cannot help). `ferry plan` and the copier
// both call it, so a plan shows the part size a copy will use.
func PartSize(s task.CopySettings, size int64, lim storage.PartLimits) (int64, error) {
	if lim.MaxObject > 0 && size > lim.MaxObject {
		return 0, fmt.Errorf("%s is larger than the destination's largest object, %s: %w",
			formatBytes(size), formatBytes(lim.MaxObject), storage.ErrTooLarge)
	}
	ps := s.PartSize
	if ps <= 0 {
		ps = task.DefaultPartSize
	}
	n := lim.PartCount()
	if (size+ps-1)/ps > n {
		need := (size + n - 1) / n
		ps = (need + partUnit - 1) / partUnit * partUnit
	}
	ps = min(max(ps, lim.MinPart, 1), lim.MaxPartOrInf())
	if (size+ps-1)/ps > n {
		return 0, fmt.Errorf("%s does not fit in %d parts of at most %s: %w",
			formatBytes(size), n, formatBytes(lim.MaxPartOrInf()), storage.ErrTooLarge)
	}
	return ps, nil
}

// partSize is PartSize for want bytes configured and a destination whose
// only stated limit is minPart (S3's others assumed); an object too large
// for any part size gets S3's largest part. Kept for callers that predate
// PartLimits.
func partSize(want, size, minPart int64) int64 {
	lim := storage.S3PartLimits()
	lim.MinPart, lim.MaxObject = minPart, 0
	ps, err := PartSize(task.CopySettings{PartSize: want}, size, lim)
	if err != nil {
		return lim.MaxPart
	}
	return ps
}

// partSizeFits reports whether an upload recorded with part size ps can go
// on under lim: a resumed upload keeps its part size (its parts are sent
// already) as long as the store accepts it for this object, even if the
// configuration or the chooser would now pick another.
func partSizeFits(ps, size int64, lim storage.PartLimits) bool {
	if ps <= 0 || ps > lim.MaxPartOrInf() || (size+ps-1)/ps > lim.PartCount() {
		return false
	}
	return ps >= lim.MinPart || size <= ps // a single part may be small
}

// formatBytes is n in the largest binary unit that keeps it readable.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, u := float64(n), 0
	for v >= unit && u < 6 {
		v /= unit
		u++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", v, " KMGTPE"[u], n)
}
