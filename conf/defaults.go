package conf

import (
	"strconv"
	"time"

	"github.com/ferry-migrate/ferry/task"
)

// defaults holds the value every key takes when a config leaves it out or
// blank, written as config text so it goes through the same parser as the
// file and reads the same as docs/job-config.md (a test keeps the two in
// step). A key missing here defaults to empty / false / zero.
//
// Where OssImport documents a default it is the same here, except
// multipartUploadThreshold: OssImport's is 150m, ferry's 100m (stock
// OssImport files set 150m explicitly, so they keep it). The copy
// settings' defaults are task.CopySettings', which the worker applies too.
// isSkipExistFile has no default: unset, overwritePolicy decides alone
// (see overwrite).
var defaults = map[string]string{
	"jobType":                  string(JobImport),
	"isIncremental":            "false",
	"incrementalModeInterval":  "86400", // seconds: daily
	"scheduleTimeZone":         "UTC",
	"importSince":              "0", // everything
	"importUntil":              "0", // no upper bound
	"deleteExtraneous":         "false",
	"deleteMaxCount":           "1000",
	"deleteMaxPercent":         "10",
	"deleteDryRun":             "false",
	"overwritePolicy":          string(task.DefaultOverwrite),
	"keepLast":                 "0",
	"keepHourly":               "0",
	"keepDaily":                "0",
	"keepWeekly":               "0",
	"keepMonthly":              "0",
	"keepYearly":               "0",
	"retentionDryRun":          "false",
	"taskObjectCountLimit":     "10000",
	"taskObjectSizeLimit":      "1g",
	"scanThreadCount":          "1",
	"multipartUploadThreshold": formatSize(task.DefaultMultipartThreshold),
	"multipartUploadPartSize":  formatSize(task.DefaultPartSize),
	"partsInFlight":            strconv.Itoa(task.DefaultPartsInFlight),
	"verify":                   string(task.DefaultVerify),
	"objectRetries":            strconv.Itoa(task.DefaultRetries),
	"shardRetries":             "3",
	"maxBytesPerSecond":        "0", // unlimited
	"maxObjectsPerSecond":      "0", // unlimited
	"followSymlinks":           "false",
	"srcPathStyle":             "false",
	"destPathStyle":            "false",
	"srcListPageSize":          "1000",
	"httpPrefixColumn":         "1", // OssImport's stock values
	"relativePathColumn":       "2",
	"destListPageSize":         "1000",
}

// Bounds that are facts of the services or of OssImport, not tuning.
const (
	// minIncrementalInterval is OssImport's floor for
	// incrementalModeInterval: shorter re-lists the whole source so often
	// that the requests cost more than they save.
	minIncrementalInterval = 900 * time.Second

	// maxSinglePut is the largest object one PUT may carry (S3 and OSS):
	// objects below multipartUploadThreshold go in one PUT, so the
	// threshold may not exceed it.
	maxSinglePut = 5 << 30

	// maxScanThreads caps scanThreadCount. OssImport's own S3 example sets
	// 10000, which as concurrent listings of one bucket would only earn
	// throttling; ferry lowers it and says so in Job.Notes.
	maxScanThreads = 64

	// maxJobName bounds jobName, which names files and database keys.
	maxJobName = 128
)
