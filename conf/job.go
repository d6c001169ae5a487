// Package conf reads job configs: OssImport-compatible .cfg key=value files
// (an OssImport job.cfg or local_job.cfg works unchanged) plus ferry's own
// keys for what OssImport lacks. Parse, apply defaults and validate here;
// nothing else interprets config keys.
package conf

import (
	"time"

	"github.com/ferry-migrate/ferry/storage/backends"
)

// JobType is what a job does.
type JobType string

const (
	JobImport JobType = "import" // copy source to destination (OssImport's only type)
	JobAudit  JobType = "audit"  // compare source and destination, copy nothing
)

// Verify selects how copies are verified (DESIGN §6).
type Verify string

const (
	// VerifyAuto: CRC64 computed while streaming, compared with what the
	// destination reports (OSS CRC64, single-part MD5 ETag, multipart ETag),
	// else size. The default.
	VerifyAuto Verify = "auto"
	// VerifyReread additionally reads every copied object back.
	VerifyReread Verify = "reread"
	// VerifySize checks sizes only (for stores whose ETags are opaque).
	VerifySize Verify = "size"
	// VerifyOff hashes nothing and checks sizes only; the manifest keeps no
	// CRC64. For measuring what verification costs, or for stores verified
	// by other means.
	VerifyOff Verify = "off"
)

// Job is one parsed, defaulted and validated job config.
type Job struct {
	Name string  // jobName
	Type JobType // jobType

	Src  backends.Spec // srcType, srcDomain, srcBucket, srcPrefix, srcAccessKey, ...
	Dest backends.Spec // destType, destDomain, destBucket, destPrefix, destAccessKey, ...

	// ImportSince: only objects modified at or after it (importSince, Unix
	// seconds; 0 = everything).
	ImportSince time.Time
	// SkipExisting (isSkipExistFile): skip an object whose destination has
	// the same size and either the same CRC64 or a newer-or-equal mtime.
	SkipExisting bool
	// Incremental (isIncremental) re-runs the job every IncrementalInterval
	// (incrementalModeInterval, seconds), copying only what changed.
	Incremental         bool
	IncrementalInterval time.Duration

	ShardObjects int   // taskObjectCountLimit
	ShardBytes   int64 // taskObjectSizeLimit
	ScanThreads  int   // scanThreadCount: top-level prefixes listed in parallel

	MultipartThreshold int64 // multipartUploadThreshold: at or above it, multipart
	PartSize           int64 // multipartUploadPartSize
	PartsInFlight      int   // partsInFlight: parts of one object uploaded at once

	Verify Verify // verify

	// Include/Exclude: glob patterns (path.Match syntax, plus "**" for any
	// depth) on the key relative to the source prefix. An object is copied
	// when it matches some Include (or Include is empty) and no Exclude.
	Include []string // include (comma-separated)
	Exclude []string // exclude (comma-separated)

	// Throttles for the whole job; 0 = unlimited.
	BytesPerSecond   int64   // maxBytesPerSecond (size suffixes allowed: 100m)
	ObjectsPerSecond float64 // maxObjectsPerSecond

	// Retries is how many times one object is attempted before it is
	// reported failed (objectRetries); ShardRetries how many times a shard
	// is leased before its remaining objects are failed (shardRetries).
	Retries      int
	ShardRetries int

	// Notes are what the config set that ferry accepts but does not act on
	// (OssImport keys for sources ferry lacks, an OssImport key overridden
	// by a ferry key, a value lowered to a limit), one line each as
	// "file:line: ...", for the operator to read when submitting. They
	// never contain secrets.
	Notes []string
}
