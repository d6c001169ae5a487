package conf

import (
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/internal/textdist"
	"github.com/ferry-migrate/ferry/storage/backends"
)

// ossImportKeys is every key in OssImport's job.cfg / local_job.cfg (all
// the stock files in github.com/aliyun/ossimport/conf/*, including the
// express-tunnel one), so an OssImport user's file loads unchanged. What
// ferry does with each is in docs/job-config.md; the ones it does not act
// on are handled in compat.go.
var ossImportKeys = []string{
	"jobName", "jobType", "isIncremental", "incrementalModeInterval", "schedule", "scheduleTimeZone",
	"importSince", "lastModify", "isSkipExistFile",
	"srcType", "srcAccessKey", "srcSecretKey", "srcDomain", "srcBucket", "srcPrefix",
	"destAccessKey", "destSecretKey", "destDomain", "destBucket", "destPrefix",
	"taskObjectCountLimit", "taskObjectSizeLimit", "scanThreadCount", "maxMultiThreadScanDepth",
	"uploadThreadNumPerLargeFile", "multipartUploadThreshold", "multipartUploadPartSize",
	"isServerSideEncryption", "isAllowSymbolicLink", "isAuditAfterImport", "auditMode",
	"appId",                          // srcType=cos
	"getObjectMetaMode",              // srcType=qiniu
	"isDownloadFromCdn", "cdnDomain", // srcType=youpai
	"httpListFilePath", "httpPrefixColumn", "relativePathColumn", // srcType=http
	"isUseExpressTunnel", "expressTunnelProxyHost", "expressTunnelProxyType",
	"expressTunnelProxyUser", "expressTunnelProxyDest", "expressTunnelAuthToken",
}

// ferryKeys are ferry's additions for what OssImport lacks.
var ferryKeys = []string{
	"destType",
	"srcRegion", "destRegion",
	"srcSecurityToken", "destSecurityToken",
	"srcReferer", "srcUserAgent", "srcHeaders", "srcSignBucket",
	"srcCredentials", "destCredentials",
	"srcPathStyle", "destPathStyle",
	"srcCABundle", "destCABundle",
	"srcChecksums", "destChecksums",
	"srcListPageSize", "destListPageSize",
	"verify", "include", "exclude",
	"maxBytesPerSecond", "maxObjectsPerSecond",
	"partsInFlight", "objectRetries", "shardRetries",
	"followSymlinks",
	"importUntil",
	"deleteExtraneous", "deleteMaxCount", "deleteMaxPercent", "deleteDryRun",
	"overwritePolicy",
	"backupKind", "keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly", "retentionDryRun",
}

// secretKeys are never printed, not even in error messages or notes.
// Access key ids are not secret on their own but are masked too (first
// four characters kept, so an operator can tell which key is in use).
var secretKeys = map[string]bool{
	"srcSecretKey": true, "destSecretKey": true,
	"srcSecurityToken": true, "destSecurityToken": true,
	"expressTunnelAuthToken": true,
	// Request headers may carry cookies or tokens for a protected origin.
	"srcHeaders": true,
}

var knownKeys = func() map[string]bool {
	m := make(map[string]bool, len(ossImportKeys)+len(ferryKeys)+len(hdfsKeys))
	for _, k := range append(append(append([]string(nil), ossImportKeys...), ferryKeys...), hdfsKeys...) {
		if m[k] {
			panic("conf: key listed twice: " + k)
		}
		m[k] = true
	}
	return m
}()

// sysPropertiesKeys are OssImport's sys.properties settings: people paste
// them into job.cfg. Each says where ferry takes the setting instead.
var sysPropertiesKeys = map[string]string{
	"workingDir":                        "ferry's state directory is a command-line flag",
	"workerUserName":                    "ferry does not deploy workers over SSH",
	"workerUser":                        "ferry does not deploy workers over SSH",
	"workerPassword":                    "ferry does not deploy workers over SSH",
	"privateKeyFile":                    "ferry does not deploy workers over SSH",
	"sshPort":                           "ferry does not deploy workers over SSH",
	"workerTaskThreadNum":               "worker concurrency is a `ferry worker` flag",
	"workerMaxThroughput(KB/s)":         "use maxBytesPerSecond (per job, with size suffixes)",
	"dispatcherThreadNum":               "ferry's master needs no dispatcher threads",
	"workerAbortWhenUncatchedException": "ferry classifies errors itself: fatal ones stop the job, others fail the object",
	"workerRecordMd5":                   "ferry records each object's CRC64 in its manifest",
	"javaHeapMaxSize":                   "ferry is not a Java program",
}

// unknownKey explains a key that is not ours: an OssImport sys.properties
// setting, a case slip (keys are case-sensitive, as in OssImport), or a
// typo with the nearest known key.
func unknownKey(key string) error {
	if hint, ok := sysPropertiesKeys[key]; ok {
		return newProblem(ErrUnknownKey, "unknown key: this is an OssImport sys.properties setting, not a job setting (%s)", hint)
	}
	best, bestDist := "", -1
	lk := strings.ToLower(key)
	for _, list := range [][]string{ossImportKeys, ferryKeys, hdfsKeys} {
		for _, k := range list {
			lc := strings.ToLower(k)
			if lc == lk {
				return newProblem(ErrUnknownKey, "unknown key; keys are case-sensitive: did you mean %q?", k)
			}
			if d := textdist.Levenshtein(lk, lc); bestDist < 0 || d < bestDist {
				best, bestDist = k, d
			}
		}
	}
	// A suggestion further away than a third of the word is noise.
	if bestDist <= max(2, len(key)/3) {
		return newProblem(ErrUnknownKey, "unknown key; did you mean %q?", best)
	}
	return newProblem(ErrUnknownKey, "unknown key (docs/job-config.md lists every key)")
}

// supportedTypes is for messages about sources: "local, s3, oss, hdfs".
func supportedTypes() string { return typeNames(backends.Supported) }

// destinationTypes is for messages about destinations: "local, s3, oss".
func destinationTypes() string { return typeNames(backends.Destinations) }

func typeNames(ts []backends.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// ossImportSources are the srcType values OssImport knows; the ones ferry
// lacks get "not supported yet" rather than "unknown".
var ossImportSources = map[string]bool{
	"local": true, "oss": true, "s3": true, "qiniu": true, "bos": true,
	"ks3": true, "youpai": true, "http": true, "cos": true, "azure": true,
}

// s3Compatible names OssImport sources that also offer an S3-compatible
// API, where srcType=s3 pointed at that endpoint may serve instead.
var s3Compatible = map[string]bool{"qiniu": true, "bos": true, "ks3": true, "cos": true}

func unsupportedSource(t string) error {
	msg := fmt.Sprintf("srcType=%s is not supported yet (supported: %s)", t, supportedTypes())
	if s3Compatible[t] {
		msg += "; if this store offers an S3-compatible endpoint, srcType=s3 with srcDomain set to it may work"
	}
	return newProblem(ErrUnsupported, "%s", msg)
}
