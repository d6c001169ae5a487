package conf

import (
	"regexp"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
)

// build turns entries into a Job: defaults applied, every value checked.
// Problems are recorded on r; the Job is meaningful only if there are none.
func (r *reader) build() *Job {
	j := &Job{
		Name: r.jobName(),
		Type: r.jobType(),
	}
	j.Src = r.source()
	j.Dest = r.dest()
	j.ImportSince = r.since()
	j.ImportUntil = r.until(j.ImportSince)
	j.Overwrite = r.overwrite()
	j.Incremental = r.boolean("isIncremental")
	j.IncrementalInterval = r.interval(j.Incremental)
	j.Schedule, j.ScheduleZone, j.Cron = r.schedule(j.Incremental)
	j.ShardObjects = r.integer("taskObjectCountLimit", 1)
	j.ShardBytes = r.size("taskObjectSizeLimit", 1)
	j.ScanThreads = r.scanThreads()
	j.MultipartThreshold, j.PartSize = r.multipart(j.Dest.Type)
	// OssImport's uploadThreadNumPerLargeFile is the same knob (it applies
	// it to local sources only; ferry to every source).
	j.PartsInFlight = r.integer(r.pick("partsInFlight", "uploadThreadNumPerLargeFile"), 1)
	j.Verify = r.verify()
	j.Include = r.globs("include")
	j.Exclude = r.globs("exclude")
	j.BytesPerSecond = r.size("maxBytesPerSecond", 0)
	j.ObjectsPerSecond = r.rate("maxObjectsPerSecond")
	j.Retries = r.integer("objectRetries", 1)
	j.ShardRetries = r.integer("shardRetries", 1)
	j.Deletes = r.deletes(j)
	r.backup(j)
	if j.Type == JobRestore {
		r.restoreJob(j)
	}
	r.compat(j)
	r.overlap(j)
	return j
}

// jobNameRE: letters, digits, '_', '-', '.', not starting with '.' or
// '-' (hidden file; looks like a flag). A superset of OssImport's
// [a-zA-Z0-9_-]{4,128}; the name becomes file names and database keys.
var jobNameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

func (r *reader) jobName() string {
	v, ok := r.value("jobName")
	switch {
	case !ok:
		r.fail("jobName", ErrRequired, "required: a unique name such as local_test (letters, digits, '-', '_', '.')")
	case len(v) > maxJobName:
		r.fail("jobName", ErrInvalid, "%d characters is too long: at most %d", len(v), maxJobName)
	case !jobNameRE.MatchString(v):
		r.fail("jobName", ErrInvalid, "%q: use only letters, digits, '-', '_' and '.', starting with a letter, digit or '_' (it names files and database keys)", v)
	}
	return v
}

func (r *reader) jobType() JobType {
	v := r.valueOrDefault("jobType")
	switch t := JobType(v); t {
	case JobImport, JobAudit, JobRestore:
		return t
	}
	r.fail("jobType", ErrInvalid, "%q: use import (copy), audit (compare only) or restore (copy a snapshot back)", v)
	return JobImport
}

func (r *reader) since() time.Time { return r.instant("importSince") }

// until reads importUntil, the window's exclusive upper bound; it must
// lie after importSince or the window is empty.
func (r *reader) until(since time.Time) time.Time {
	t := r.instant("importUntil")
	if !t.IsZero() && !t.After(since) {
		r.fail("importUntil", ErrInvalid, "%s is not after importSince (%s): the window [importSince, importUntil) would be empty; give a later importUntil or 0 for no upper bound",
			t.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	return t
}

func (r *reader) instant(key string) time.Time {
	t, err := parseSince(r.valueOrDefault(key))
	if err != nil {
		r.fail(key, ErrInvalid, "%w", err)
	}
	return t
}

func (r *reader) interval(incremental bool) time.Duration {
	d, err := parseSeconds(r.valueOrDefault("incrementalModeInterval"))
	switch {
	case err != nil:
		r.fail("incrementalModeInterval", ErrInvalid, "%w", err)
	case incremental && d < minIncrementalInterval:
		r.fail("incrementalModeInterval", ErrInvalid, "%v is too short: at least %d seconds, as in OssImport (each run lists the whole source)", d, int(minIncrementalInterval.Seconds()))
	}
	return d
}

func (r *reader) scanThreads() int {
	n := r.integer("scanThreadCount", 1)
	if n > maxScanThreads {
		r.note("scanThreadCount", "scanThreadCount=%d lowered to %d: more concurrent listings of one source only earn throttling", n, maxScanThreads)
		n = maxScanThreads
	}
	return n
}

// multipart reads the threshold and part size and checks them against
// what the destination accepts (storage.S3PartLimits, OSSPartLimits): OSS
// takes parts from 100k, S3 from 5m, both up to 5g. Objects over
// partSize*10000 bytes cannot be uploaded with this part size; the copier
// raises it for such objects (worker.PartSize), so it is not an error here
// (object sizes are not known yet).
func (r *reader) multipart(dest backends.Type) (threshold, partSize int64) {
	threshold = r.size("multipartUploadThreshold", 1)
	partSize = r.size("multipartUploadPartSize", 1)
	var lim storage.PartLimits
	switch dest {
	case backends.S3:
		lim = storage.S3PartLimits()
	case backends.OSS:
		lim = storage.OSSPartLimits()
	default:
		return threshold, partSize
	}
	if threshold > maxSinglePut {
		r.fail("multipartUploadThreshold", ErrInvalid, "%s is too large: at most 5g, the largest object S3 and OSS accept in one PUT", formatSize(threshold))
	}
	switch {
	case partSize > 0 && partSize < lim.MinPart:
		r.fail("multipartUploadPartSize", ErrInvalid, "%s is too small for a destType=%s destination: at least %s, its smallest part",
			formatSize(partSize), dest, formatSize(lim.MinPart))
	case partSize > lim.MaxPart:
		r.fail("multipartUploadPartSize", ErrInvalid, "%s is too large for a destType=%s destination: at most %s, its largest part",
			formatSize(partSize), dest, formatSize(lim.MaxPart))
	}
	return threshold, partSize
}

// verify reads ferry's verify key, else maps OssImport's auditMode:
// simple (size only) -> size; general (size, mtime, headers) and detailed
// (CRC or MD5) -> auto, which already compares CRC64/MD5 where the
// destination reports one.
func (r *reader) verify() task.VerifyMode {
	mode, modeSet := r.value("auditMode")
	if modeSet {
		switch mode {
		case "simple", "general", "detailed":
		default:
			r.fail("auditMode", ErrInvalid, "%q: use simple, general or detailed (or ferry's verify key)", mode)
		}
	}
	if v, ok := r.value("verify"); ok {
		t := task.VerifyMode(v)
		if err := t.Check(); err != nil {
			r.fail("verify", ErrInvalid, "%w", err)
			return task.DefaultVerify
		}
		if modeSet && mode != "general" {
			r.note("auditMode", "auditMode=%s is overridden by verify=%s", mode, v)
		}
		return t
	}
	if mode == "simple" {
		return task.VerifySize
	}
	return task.DefaultVerify
}

// globs reads a comma-separated pattern list and catches the mistakes the
// scanner's filter would otherwise report without a line number. The
// syntax (master.Filter): '*' and '?' within a path segment, "**" across
// segments, [abc] / [!abc] classes; keys are relative to srcPrefix.
func (r *reader) globs(key string) []string {
	v, ok := r.value(key)
	if !ok {
		return nil
	}
	var out []string
	for _, g := range strings.Split(v, ",") {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if strings.HasPrefix(g, "/") {
			r.fail(key, ErrInvalid, "pattern %q starts with '/': patterns match keys relative to srcPrefix, which never start with '/'", g)
			continue
		}
		if err := checkGlob(g); err != "" {
			r.fail(key, ErrInvalid, "pattern %q: %s", g, err)
			continue
		}
		out = append(out, g)
	}
	return out
}

// checkGlob validates the bracket classes, the only part of the syntax
// that can be malformed.
func checkGlob(g string) string {
	for i := 0; i < len(g); i++ {
		if g[i] != '[' {
			continue
		}
		j := strings.IndexByte(g[i:], ']')
		if j < 0 {
			return "unclosed '['"
		}
		class := strings.TrimPrefix(g[i+1:i+j], "!")
		if class == "" {
			return "empty [] class"
		}
		if _, err := regexp.Compile("[" + class + "]"); err != nil {
			return "bad [] class " + g[i:i+j+1]
		}
		i += j
	}
	return ""
}

// Typed getters: value or default, parsed, range-checked. On a bad value
// they record the problem and return the default so checks that depend
// on it do not pile on.

func (r *reader) integer(key string, min int) int {
	n, err := parseInt(r.valueOrDefault(key))
	if err != nil {
		r.fail(key, ErrInvalid, "%w", err)
		n, _ = parseInt(defaults[key])
	} else if n < min {
		r.fail(key, ErrInvalid, "%d is too small: use %d or more", n, min)
	}
	return n
}

func (r *reader) size(key string, min int64) int64 {
	n, err := parseSize(r.valueOrDefault(key))
	if err != nil {
		r.fail(key, ErrInvalid, "%w", err)
		n, _ = parseSize(defaults[key])
	} else if n < min {
		r.fail(key, ErrInvalid, "%d is too small: use %d or more", n, min)
	}
	return n
}

func (r *reader) boolean(key string) bool {
	v := r.valueOrDefault(key)
	if v == "" {
		return false
	}
	b, err := parseBool(v)
	if err != nil {
		r.fail(key, ErrInvalid, "%w", err)
	}
	return b
}

func (r *reader) rate(key string) float64 {
	f, err := parseRate(r.valueOrDefault(key))
	if err != nil {
		r.fail(key, ErrInvalid, "%w", err)
	}
	return f
}

// ParseInstant reads a time as importSince and importUntil are read:
// Unix seconds ("0" is the zero time) or RFC 3339.
func ParseInstant(s string) (time.Time, error) { return parseSince(s) }
