package conf

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/creds"
)

// Redacted renders the job as a config file with its effective values,
// defaults included, and every secret masked: secret keys and security
// tokens as "****", access key ids as their first four characters and
// "****". It is the way to print a config (logs, status, reports).
// Parsing it again yields the same job apart from the masked secrets.
func (j *Job) Redacted() string { return j.encode(true) }

// String is a one-line summary without secrets.
func (j Job) String() string {
	return fmt.Sprintf("job %q (%s): %s -> %s", j.Name, j.Type, j.Src, j.Dest)
}

// Format makes every fmt verb safe: %v and %s print String, %+v and %#v
// the fields with secrets masked, so a stray Printf("%+v", job) in a log
// line cannot leak a key. (A value receiver, so Job and *Job both get it.)
func (j Job) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		s := fmt.Sprintf("%#v", plainJob(j.masked()))
		_, _ = io.WriteString(f, strings.Replace(s, "conf.plainJob{", "conf.Job{", 1))
	case verb == 'v' && f.Flag('+'):
		_, _ = fmt.Fprintf(f, "%+v", plainJob(j.masked()))
	case verb == 'v' || verb == 's':
		_, _ = io.WriteString(f, j.String())
	case verb == 'q':
		_, _ = fmt.Fprintf(f, "%q", j.String())
	default:
		_, _ = fmt.Fprintf(f, "%%!%c(conf.Job=%s)", verb, j.String())
	}
}

// plainJob has Job's fields and none of its methods, so Format can print
// a masked copy with fmt's own struct printing without recursing.
type plainJob Job

func (j Job) masked() Job {
	for _, s := range []*backends.Spec{&j.Src, &j.Dest} {
		s.AccessKey = maskID(s.AccessKey)
		s.SecretKey = maskSecret(s.SecretKey)
		s.SessionToken = maskSecret(s.SessionToken)
		s.Header = maskHeaders(s.Header)
	}
	return j
}

// maskID keeps the first four characters of an access key id, enough to
// tell keys apart; short ids (not real ones) are masked entirely.
func maskID(id string) string {
	if len(id) < 8 {
		return maskSecret(id)
	}
	return id[:4] + "****"
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// encode writes the job as key=value lines; redact masks secrets.
func (j *Job) encode(redact bool) string {
	var b strings.Builder
	kv := func(k, v string) {
		if v != "" {
			b.WriteString(k + "=" + v + "\n")
		}
	}
	if redact {
		b.WriteString("# effective settings, defaults included; secrets masked\n")
	}
	kv("jobName", j.Name)
	kv("jobType", string(j.Type))

	src, dest := j.Src, j.Dest
	if redact {
		m := j.masked()
		src, dest = m.Src, m.Dest
	}
	encodeSide(&b, kv, "src", src)
	encodeSide(&b, kv, "dest", dest)

	kv("importSince", formatInstant(j.ImportSince))
	kv("importUntil", formatInstant(j.ImportUntil))
	if w := j.Window(); w != "" {
		b.WriteString("# time window: " + w + "\n")
	}
	kv("overwritePolicy", string(j.Overwrite))
	kv("isIncremental", strconv.FormatBool(j.Incremental))
	if j.IncrementalInterval%time.Second == 0 {
		kv("incrementalModeInterval", strconv.FormatInt(int64(j.IncrementalInterval/time.Second), 10))
	} else {
		kv("incrementalModeInterval", j.IncrementalInterval.String())
	}
	kv("schedule", j.Schedule)
	kv("scheduleTimeZone", j.ScheduleZone)
	kv("taskObjectCountLimit", strconv.Itoa(j.ShardObjects))
	kv("taskObjectSizeLimit", formatSize(j.ShardBytes))
	kv("scanThreadCount", strconv.Itoa(j.ScanThreads))
	kv("multipartUploadThreshold", formatSize(j.MultipartThreshold))
	kv("multipartUploadPartSize", formatSize(j.PartSize))
	kv("partsInFlight", strconv.Itoa(j.PartsInFlight))
	kv("verify", string(j.Verify))
	kv("include", strings.Join(j.Include, ","))
	kv("exclude", strings.Join(j.Exclude, ","))
	kv("maxBytesPerSecond", formatSize(j.BytesPerSecond))
	kv("maxObjectsPerSecond", strconv.FormatFloat(j.ObjectsPerSecond, 'g', -1, 64))
	kv("objectRetries", strconv.Itoa(j.Retries))
	kv("shardRetries", strconv.Itoa(j.ShardRetries))
	kv("deleteExtraneous", strconv.FormatBool(j.Deletes.Enabled))
	kv("deleteMaxCount", strconv.Itoa(j.Deletes.MaxCount))
	kv("deleteMaxPercent", strconv.FormatFloat(j.Deletes.MaxPercent, 'g', -1, 64))
	kv("deleteDryRun", strconv.FormatBool(j.Deletes.DryRun))
	kv("backupKind", string(j.Backup))
	if j.Backup == BackupSnapshot {
		r := j.Retention
		for i, n := range []int{r.Last, r.Hourly, r.Daily, r.Weekly, r.Monthly, r.Yearly} {
			kv(retentionKeys[i], strconv.Itoa(n))
		}
		kv("retentionDryRun", strconv.FormatBool(j.RetentionDryRun))
	}
	for _, n := range j.Notes {
		b.WriteString("# note: " + n + "\n")
	}
	return b.String()
}

func encodeSide(b *strings.Builder, kv func(k, v string), p string, s backends.Spec) {
	if s.Type == "" {
		return
	}
	kv(p+"Type", string(s.Type))
	if s.Type == backends.HTTP {
		encodeHTTP(b, kv, s)
		return
	}
	if s.Type == backends.Local {
		kv(p+"Prefix", s.LocalPath())
		if p == "src" {
			kv("followSymlinks", strconv.FormatBool(s.FollowSymlinks))
		}
		return
	}
	if s.Type == backends.HDFS {
		encodeHDFS(kv, s)
		return
	}
	kv(p+"Domain", s.Endpoint)
	kv(p+"Region", s.Region)
	kv(p+"Bucket", s.Bucket)
	kv(p+"Prefix", s.Prefix)
	if s.AccessKey == "" && (s.Credentials.Kind == "" || s.Credentials.Kind == creds.KindEnv) {
		b.WriteString("# " + p + " credentials: from the environment\n")
	}
	kv(p+"Credentials", s.Credentials.String())
	kv(p+"AccessKey", s.AccessKey)
	kv(p+"SecretKey", s.SecretKey)
	kv(p+"SecurityToken", s.SessionToken)
	if s.PathStyle {
		kv(p+"PathStyle", "true")
	}
	kv(p+"CABundle", s.CABundle)
	kv(p+"Checksums", s.ChecksumMode)
	kv(p+"ListPageSize", strconv.Itoa(int(s.ListPageSize)))
}

// formatInstant writes a time as importSince/importUntil read it: Unix
// seconds when whole, "0" for none.
func formatInstant(t time.Time) string {
	switch {
	case t.IsZero():
		return "0"
	case t.Nanosecond() == 0:
		return strconv.FormatInt(t.Unix(), 10)
	}
	return t.Format(time.RFC3339Nano)
}

// Window describes the job's time window for headers and reports, ""
// when there is none: "modified in [2024-05-01T00:00:00Z, 2024-05-08T00:00:00Z)".
func (j *Job) Window() string {
	f := func(t time.Time, none string) string {
		if t.IsZero() {
			return none
		}
		return t.UTC().Format(time.RFC3339)
	}
	if j.ImportSince.IsZero() && j.ImportUntil.IsZero() {
		return ""
	}
	return "modified in [" + f(j.ImportSince, "-inf") + ", " + f(j.ImportUntil, "+inf") + ")"
}
