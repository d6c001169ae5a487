// Package conf reads job configs: OssImport-compatible .cfg key=value files
// (an OssImport job.cfg or local_job.cfg works unchanged) plus ferry's own
// keys for what OssImport lacks. Parse, apply defaults and validate here;
// nothing else interprets config keys.
package conf

import (
	"time"

	"github.com/ferry-migrate/ferry/snapshot"
	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
)

// JobType is what a job does.
type JobType string

const (
	JobImport JobType = "import" // copy source to destination (OssImport's only type)
	JobAudit  JobType = "audit"  // compare source and destination, copy nothing
	// JobRestore copies one snapshot (srcPrefix) of a backupKind=snapshot
	// job to the destination, listing it from the snapshot's manifest and
	// checking every object read against it.
	JobRestore JobType = "restore"
)

// Deletes is delete propagation: after a pass copied everything with no
// failure, destination objects under destPrefix with no source object
// in that pass are deleted, unless more than MaxCount of them, or more
// than MaxPercent of the destination's objects, would go (then nothing
// is deleted and the job fails saying so). DryRun records what would go
// and deletes nothing.
type Deletes struct {
	Enabled    bool    // deleteExtraneous
	MaxCount   int     // deleteMaxCount
	MaxPercent float64 // deleteMaxPercent
	DryRun     bool    // deleteDryRun
}

// Job is one parsed, defaulted and validated job config.
type Job struct {
	Name string  // jobName
	Type JobType // jobType

	Src  backends.Spec // srcType, srcDomain, srcBucket, srcPrefix, srcAccessKey, ...
	Dest backends.Spec // destType, destDomain, destBucket, destPrefix, destAccessKey, ...

	// ImportSince: only objects modified at or after it (importSince, Unix
	// seconds; 0 = everything).
	ImportSince time.Time
	// ImportUntil: only objects modified before it (importUntil, same
	// formats; zero = no upper bound), so a pass takes the window
	// [ImportSince, ImportUntil).
	ImportUntil time.Time
	// Incremental (isIncremental) re-runs the job every IncrementalInterval
	// (incrementalModeInterval, seconds), copying only what changed.
	Incremental         bool
	IncrementalInterval time.Duration
	// Schedule (schedule, a cron expression, in ScheduleZone:
	// scheduleTimeZone, default UTC) re-runs the job at the times it names;
	// Cron is it parsed (nil without one). Exclusive with Incremental.
	Schedule     string
	ScheduleZone string
	Cron         interface{ Next(time.Time) time.Time }

	ShardObjects int   // taskObjectCountLimit
	ShardBytes   int64 // taskObjectSizeLimit
	ScanThreads  int   // scanThreadCount: top-level prefixes listed in parallel

	// CopySettings are what the worker's copier acts on, from
	// overwritePolicy or isSkipExistFile (Overwrite), multipartUploadThreshold
	// (MultipartThreshold), multipartUploadPartSize (PartSize),
	// partsInFlight or uploadThreadNumPerLargeFile (PartsInFlight), verify
	// or auditMode (Verify) and objectRetries (Retries), all set: defaults
	// applied, verify mode checked.
	task.CopySettings

	// Include/Exclude: glob patterns (path.Match syntax, plus "**" for any
	// depth) on the key relative to the source prefix. An object is copied
	// when it matches some Include (or Include is empty) and no Exclude.
	Include []string // include (comma-separated)
	Exclude []string // exclude (comma-separated)

	// Throttles for the whole job; 0 = unlimited.
	BytesPerSecond   int64   // maxBytesPerSecond (size suffixes allowed: 100m)
	ObjectsPerSecond float64 // maxObjectsPerSecond

	// Delete propagation (sync-style import jobs): see Deletes.
	Deletes Deletes

	// Backup is the backup kind (backupKind); a mirror has Deletes on.
	Backup BackupKind
	// Snapshot is destPrefix as a template, for Backup == BackupSnapshot:
	// each pass writes under the prefix it resolves to.
	Snapshot snapshot.Template
	// Retention prunes complete snapshots after each new one (keepLast,
	// keepHourly, keepDaily, keepWeekly, keepMonthly, keepYearly; zero:
	// keep all); RetentionDryRun (retentionDryRun) only logs and records
	// what it would remove.
	Retention       snapshot.Policy
	RetentionDryRun bool

	// ShardRetries is how many times a shard is leased before its
	// remaining objects are failed (shardRetries).
	ShardRetries int

	// Notes are what the config set that ferry accepts but does not act on
	// (OssImport keys for sources ferry lacks, an OssImport key overridden
	// by a ferry key, a value lowered to a limit), one line each as
	// "file:line: ...", for the operator to read when submitting. They
	// never contain secrets.
	Notes []string
}

// WritesConditionally says whether the job's copies write under a
// condition (create-only, if-match), which is what makes its destination's
// conditional writes worth probing: an audit writes nothing, and a policy
// of always replaces whatever is there.
func (j *Job) WritesConditionally() bool {
	return j.Type != JobAudit && j.Overwrite.Conditional()
}
