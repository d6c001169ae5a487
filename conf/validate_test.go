package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/task"
)

func TestUnsupportedSources(t *testing.T) {
	for _, typ := range []string{"qiniu", "bos", "ks3", "youpai", "cos", "azure"} {
		_, err := parse(t, with("srcType="+typ))
		p := onlyProblem(t, err, "srcType", ErrUnsupported, "srcType="+typ+" is not supported yet (supported: local, s3, oss, hdfs, http)")
		require.Equal(t, 2, p.Line)
		require.Equal(t, s3Compatible[typ], strings.Contains(p.Error(), "S3-compatible"), typ)
	}
	_, err := parse(t, with("srcType=S3"))
	onlyProblem(t, err, "srcType", ErrInvalid, "case-sensitive, as in OssImport: did you mean s3?")
	_, err = parse(t, with("srcType=ftp"))
	onlyProblem(t, err, "srcType", ErrInvalid, `"ftp" is not a source type`)
	_, err = parse(t, with("srcType"))
	onlyProblem(t, err, "srcType", ErrRequired, "required")
	_, err = parse(t, with("destType=nas"))
	onlyProblem(t, err, "destType", ErrUnsupported, "destType=nas is not supported (supported: local, s3, oss)")
}

// One pass reports every problem, in file order, absent keys last.
func TestAllErrorsCollected(t *testing.T) {
	text := strings.Join([]string{
		"jobName=../etc",                // 1
		"jobType=copy",                  // 2
		"srcType=s3",                    // 3
		"srcPrefix=/data/",              // 4
		"srcAccessKey=AKIDEXAMPLE12345", // 5: secret missing
		"destDomain=oss-cn-hangzhou.aliyuncs.com/bucket", // 6
		"taskObjectCountLimit=-1",                        // 7
		"taskObjectSizeLimit=0",                          // 8
		"importSince=yesterday",                          // 9
		"isIncremental=true",                             // 10
		"incrementalModeInterval=60",                     // 11
		"multipartUploadPartSize=50k",                    // 12
		"verify=md5",                                     // 13
		"destBuckt=x",                                    // 14
		"objectRetries=0",                                // 15
		"maxObjectsPerSecond=-3",                         // 16
		"isServerSideEncryption=true",                    // 17
		"httpListFilePath=/data/urls.txt",                // 18: a note, not a problem
	}, "\n")
	_, err := parse(t, text)
	ps := problems(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, p.Key)
		require.True(t, strings.HasPrefix(p.Error(), "job.cfg:"), p.Error())
	}
	require.Equal(t, []string{
		"jobName", "jobType", "srcPrefix", "srcAccessKey", "destDomain", "taskObjectCountLimit",
		"taskObjectSizeLimit", "importSince", "incrementalModeInterval", "multipartUploadPartSize",
		"verify", "destBuckt", "objectRetries", "maxObjectsPerSecond", "isServerSideEncryption",
		"srcBucket", "destBucket",
	}, got, "%v", err)
	require.Len(t, strings.Split(err.Error(), "\n"), len(ps), "one line per problem")
	require.Contains(t, err.Error(), "job.cfg:1: jobName:")
	require.Contains(t, err.Error(), "job.cfg:11: incrementalModeInterval: 1m0s is too short: at least 900 seconds")
	require.Contains(t, err.Error(), "job.cfg: srcBucket: required")
}

func TestJobName(t *testing.T) {
	for _, ok := range []string{"local_test", "a", "2024-05.migration", "_x"} {
		require.Equal(t, ok, mustParse(t, with("jobName="+ok)).Name)
	}
	for _, bad := range []string{"../x", ".hidden", "-flag", "a b", "a/b", "名字", strings.Repeat("a", 129)} {
		_, err := parse(t, with("jobName="+bad))
		onlyProblem(t, err, "jobName", ErrInvalid, "")
	}
	_, err := parse(t, with("jobName"))
	onlyProblem(t, err, "jobName", ErrRequired, "required")
}

func TestCredentials(t *testing.T) {
	// Empty keys: left empty, the s3 backend reads the environment.
	j := mustParse(t, with("srcAccessKey=", "srcSecretKey="))
	require.Empty(t, j.Src.AccessKey)
	require.Empty(t, j.Src.SecretKey)
	require.Empty(t, j.Dest.AccessKey)
	require.Empty(t, j.Dest.SessionToken)

	j = mustParse(t, with("destAccessKey=STS.NUexample1234", "destSecretKey=sk", "destSecurityToken=tok"))
	require.Equal(t, "STS.NUexample1234", j.Dest.AccessKey)
	require.Equal(t, "sk", j.Dest.SecretKey)
	require.Equal(t, "tok", j.Dest.SessionToken)

	_, err := parse(t, with("destAccessKey=LTAIexample1234"))
	onlyProblem(t, err, "destAccessKey", ErrInvalid, "destSecretKey is empty: set both, or leave both empty to use the environment (OSS_ACCESS_KEY_ID")
	_, err = parse(t, with("srcSecretKey=verysecret"))
	p := onlyProblem(t, err, "srcSecretKey", ErrInvalid, "AWS_ACCESS_KEY_ID")
	require.NotContains(t, p.Error(), "verysecret")
	_, err = parse(t, with("srcSecurityToken=tok"))
	onlyProblem(t, err, "srcSecurityToken", ErrInvalid, "all three")
}

func TestLocalPaths(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "jobs")
	require.NoError(t, os.Mkdir(sub, 0o755))
	path := filepath.Join(sub, "job.cfg")
	text := "jobName=l\nsrcType=local\nsrcPrefix=../export/\ndestType=local\ndestPrefix=/abs/out/\n" +
		"destCABundle=x\nfollowSymlinks=yes\n"
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))

	// Started from elsewhere: the config's directory is the base.
	t.Chdir(t.TempDir())
	j, err := Load(path)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "export"), j.Src.Root)
	require.Empty(t, j.Src.Prefix)
	require.True(t, j.Src.FollowSymlinks)
	require.Equal(t, "/abs/out", j.Dest.Root)
	require.Len(t, j.Notes, 1)
	require.Contains(t, j.Notes[0], "job.cfg:6: destCABundle is ignored: destType is local")

	_, err = parse(t, "jobName=l\nsrcType=local\nsrcPrefix=~/data\ndestType=local\ndestPrefix=/out\n")
	onlyProblem(t, err, "srcPrefix", ErrInvalid, "'~' is not expanded")
	_, err = parse(t, "jobName=l\nsrcType=local\ndestType=local\ndestPrefix=/out\n")
	onlyProblem(t, err, "srcPrefix", ErrRequired, "required for srcType=local")

	// isAllowSymbolicLink is OssImport's name for it; followSymlinks wins.
	j = mustParse(t, "jobName=l\nsrcType=local\nsrcPrefix=/in\ndestType=local\ndestPrefix=/out\nisAllowSymbolicLink=true\n")
	require.True(t, j.Src.FollowSymlinks)
	j = mustParse(t, "jobName=l\nsrcType=local\nsrcPrefix=/in\ndestType=local\ndestPrefix=/out\nisAllowSymbolicLink=true\nfollowSymlinks=false\n")
	require.False(t, j.Src.FollowSymlinks)
	require.Contains(t, strings.Join(j.Notes, "\n"), "isAllowSymbolicLink=true is overridden by followSymlinks=false")
}

func TestEndpoints(t *testing.T) {
	j := mustParse(t, with("srcDomain=s3.ap-northeast-1.amazonaws.com", "destDomain=http://oss-cn-shanghai-internal.aliyuncs.com/"))
	require.Equal(t, "https://s3.ap-northeast-1.amazonaws.com", j.Src.Endpoint, "https assumed")
	require.Equal(t, "ap-northeast-1", j.Src.Region)
	require.Equal(t, "http://oss-cn-shanghai-internal.aliyuncs.com", j.Dest.Endpoint)
	require.Equal(t, backends.OSS, j.Dest.Type)

	j = mustParse(t, with("destDomain=https://minio.example.com:9000", "destRegion=eu-1", "destPathStyle=true"))
	require.Equal(t, backends.S3, j.Dest.Type, "not aliyuncs.com: s3")
	require.Equal(t, "eu-1", j.Dest.Region)
	require.True(t, j.Dest.PathStyle)

	j = mustParse(t, with("srcDomain", "srcRegion=eu-central-1"))
	require.Empty(t, j.Src.Endpoint, "no domain: AWS")
	require.Equal(t, "eu-central-1", j.Src.Region)

	for _, tc := range []struct{ line, key, msg string }{
		{"destDomain=https://oss-cn-hangzhou.aliyuncs.com/dst", "destDomain", "has a path"},
		{"srcDomain=https://s3.amazonaws.com?X-Amz-Signature=secretpw", "srcDomain", "has a query"},
		{"destDomain=ftp://oss-cn-hangzhou.aliyuncs.com", "destDomain", "http or https"},
		{"destDomain=https://dst.oss-cn-hangzhou.aliyuncs.com", "destDomain", "includes the bucket"},
		{"srcDomain=https://AKID:secretpw@s3.amazonaws.com", "srcDomain", "credentials in the URL"},
		{"destPathStyle=true", "destPathStyle", "SecondLevelDomainForbidden"},
		{"destChecksums=when_supported", "destChecksums", "aws-chunked"},
		{"srcChecksums=always", "srcChecksums", "auto, when_required or when_supported"},
		{"destBucket=oss://dst", "destBucket", "bare bucket name"},
		{"srcBucket=src/logs", "srcBucket", "srcPrefix"},
	} {
		_, err := parse(t, with(tc.line))
		p := onlyProblem(t, err, tc.key, ErrInvalid, tc.msg)
		require.NotContains(t, p.Error(), "secretpw")
	}
	_, err := parse(t, with("destDomain"))
	onlyProblem(t, err, "destType", ErrRequired, "required when destDomain is empty")
	_, err = parse(t, with("destDomain", "destType=oss"))
	onlyProblem(t, err, "destDomain", ErrRequired, "required for OSS")
	_, err = parse(t, with("srcPrefix=/logs/"))
	onlyProblem(t, err, "srcPrefix", ErrInvalid, `write "logs/"`)
}

func TestMultipartBounds(t *testing.T) {
	for _, tc := range []struct{ lines, key, msg string }{
		// minimal's destination is OSS: parts from 100k.
		{"multipartUploadPartSize=99k", "multipartUploadPartSize", "99k is too small for a destType=oss destination: at least 100k"},
		{"multipartUploadPartSize=6g", "multipartUploadPartSize", "6g is too large for a destType=oss destination: at most 5g"},
		{"multipartUploadThreshold=6g", "multipartUploadThreshold", "at most 5g"},
		{"multipartUploadThreshold=0", "multipartUploadThreshold", "too small"},
		{"partsInFlight=0", "partsInFlight", "too small"},
	} {
		_, err := parse(t, with(tc.lines))
		onlyProblem(t, err, tc.key, ErrInvalid, tc.msg)
	}
	// An S3 destination wants 5m.
	s3dest := []string{"destType=s3", "destDomain=https://s3.us-west-2.amazonaws.com"}
	_, err := parse(t, with(append(s3dest, "multipartUploadPartSize=4m")...))
	onlyProblem(t, err, "multipartUploadPartSize", ErrInvalid, "4m is too small for a destType=s3 destination: at least 5m")
	j := mustParse(t, with(append(s3dest, "multipartUploadPartSize=5m")...))
	require.Equal(t, int64(5<<20), j.PartSize)
	// OSS takes small parts.
	j = mustParse(t, with("multipartUploadThreshold=1m", "multipartUploadPartSize=256k"))
	require.Equal(t, int64(256<<10), j.PartSize)
	require.Equal(t, int64(1<<20), j.MultipartThreshold)
	// A threshold below the part size is fine; so are small parts locally.
	j = mustParse(t, with("multipartUploadThreshold=50m", "multipartUploadPartSize=150m"))
	require.Equal(t, int64(150<<20), j.PartSize)
	j = mustParse(t, "jobName=l\nsrcType=local\nsrcPrefix=/in\ndestType=local\ndestPrefix=/out\nmultipartUploadPartSize=100k\n")
	require.Equal(t, int64(100<<10), j.PartSize)
}

func TestIncrementalAndSince(t *testing.T) {
	j := mustParse(t, with("isIncremental=true", "incrementalModeInterval=900", "importSince=2024-05-01T00:00:00+08:00"))
	require.Equal(t, 15*time.Minute, j.IncrementalInterval)
	require.Equal(t, time.Date(2024, 4, 30, 16, 0, 0, 0, time.UTC), j.ImportSince.UTC())
	// Not incremental: the interval is not used, so not held to 900 s.
	mustParse(t, with("incrementalModeInterval=60"))
	_, err := parse(t, with("importSince=1714521600000"))
	onlyProblem(t, err, "importSince", ErrInvalid, "milliseconds")
}

func TestVerifyAndAuditMode(t *testing.T) {
	require.Equal(t, task.VerifySize, mustParse(t, with("auditMode=simple")).Verify)
	require.Equal(t, task.VerifyAuto, mustParse(t, with("auditMode=detailed")).Verify)
	j := mustParse(t, with("auditMode=simple", "verify=reread"))
	require.Equal(t, task.VerifyReread, j.Verify)
	require.Contains(t, j.Notes[0], "auditMode=simple is overridden by verify=reread")
	_, err := parse(t, with("auditMode=full"))
	onlyProblem(t, err, "auditMode", ErrInvalid, "simple, general or detailed")
	require.Equal(t, JobAudit, mustParse(t, with("jobType=audit")).Type)
	_, err = parse(t, with("jobType=Import"))
	onlyProblem(t, err, "jobType", ErrInvalid, "use import")
}

func TestFilters(t *testing.T) {
	j := mustParse(t, with("include= **/*.jpg , photos/[!.]*,, ", "exclude=tmp/**"))
	require.Equal(t, []string{"**/*.jpg", "photos/[!.]*"}, j.Include)
	require.Equal(t, []string{"tmp/**"}, j.Exclude)
	for _, bad := range []string{"/abs/*", "a[bc", "a[]", "a[z-a]"} {
		_, err := parse(t, with("exclude="+bad))
		onlyProblem(t, err, "exclude", ErrInvalid, "pattern")
	}
}

func TestCompatNotesAndRefusals(t *testing.T) {
	j := mustParse(t, with("maxMultiThreadScanDepth=3", "lastModify=1700000000", "isAuditAfterImport=FALSE",
		"getObjectMetaMode=head", "uploadThreadNumPerLargeFile=5", "partsInFlight=2",
		"httpListFilePath=c:/example/http.list", "followSymlinks=true"))
	notes := strings.Join(j.Notes, "\n")
	for _, want := range []string{
		"job.cfg:7: maxMultiThreadScanDepth=3 is ignored",
		"job.cfg:8: lastModify=1700000000 is ignored",
		"isAuditAfterImport=FALSE is ignored",
		"getObjectMetaMode=head is ignored: it applies to srcType=qiniu only",
		"uploadThreadNumPerLargeFile=5 is overridden by partsInFlight=2",
		"followSymlinks is ignored: it applies to srcType=local only",
	} {
		require.Contains(t, notes, want)
	}
	require.Regexp(t, `^job.cfg:7: .*\n.*:8: .*\n.*:9: .*\n.*:10: .*\n.*:11: .*\n.*:14: `, notes, "in file order")
	require.Equal(t, 2, j.PartsInFlight)
	require.NotContains(t, notes, "httpListFilePath", "the stock placeholder passes silently")

	require.Equal(t, 5, mustParse(t, with("uploadThreadNumPerLargeFile=5")).PartsInFlight)
	// Keys of other source types are noted, never refused: configs are
	// copied from earlier jobs.
	j = mustParse(t, with("httpListFilePath=/data/urls.list", "httpPrefixColumn=3", "relativePathColumn=2",
		"srcReferer=https://www.example.com/", "srcHeaders=Cookie: session=secretcookie", "appId=1250000000", "cdnDomain=cdn.example.com"))
	notes = strings.Join(j.Notes, "\n")
	for _, want := range []string{
		"httpListFilePath=/data/urls.list is ignored: it applies to srcType=http only",
		"httpPrefixColumn=3 is ignored: it applies to srcType=http only",
		"srcReferer=https://www.example.com/ is ignored: it applies to srcType=http only",
		"srcHeaders is ignored: it applies to srcType=http only",
		"appId=1250000000 is ignored",
		"cdnDomain=cdn.example.com is ignored",
	} {
		require.Contains(t, notes, want)
	}
	require.NotContains(t, notes, "relativePathColumn", "the stock value passes silently")
	require.NotContains(t, notes, "secretcookie", "srcHeaders may hold cookies: named, not echoed")
	_, err := parse(t, with("isServerSideEncryption=true"))
	onlyProblem(t, err, "isServerSideEncryption", ErrUnsupported, "default encryption")
	_, err = parse(t, with("isDownloadFromCdn=perhaps"))
	onlyProblem(t, err, "isDownloadFromCdn", ErrInvalid, "not a boolean")
}

func TestOverlap(t *testing.T) {
	for _, tc := range []string{
		with("destDomain=https://s3.us-west-2.amazonaws.com", "destBucket=src", "srcPrefix=a/", "destPrefix=a/b/"),
		with("destDomain=https://s3.us-west-2.amazonaws.com", "destBucket=src"),
		with("srcType=oss", "srcDomain=http://oss-cn-hangzhou-internal.aliyuncs.com", "srcBucket=dst"),
		"jobName=l\nsrcType=local\nsrcPrefix=/data\ndestType=local\ndestPrefix=/data/copy/\n",
	} {
		_, err := parse(t, tc)
		onlyProblem(t, err, "destPrefix", ErrInvalid, "overlaps the source")
	}
	// OssImport's own OSS-to-OSS example: one bucket, src/ to dest/.
	mustParse(t, with("srcType=oss", "srcDomain=http://oss-cn-hangzhou-internal.aliyuncs.com", "srcBucket=dst",
		"srcPrefix=src/", "destPrefix=dest/"))
	mustParse(t, "jobName=l\nsrcType=local\nsrcPrefix=/data\ndestType=local\ndestPrefix=/data2\n")
}

func TestRatesAndRetries(t *testing.T) {
	j := mustParse(t, with("maxObjectsPerSecond=250.5", "objectRetries=10", "shardRetries=1", "scanThreadCount=8"))
	require.Equal(t, 250.5, j.ObjectsPerSecond)
	require.Equal(t, 10, j.Retries)
	require.Equal(t, 1, j.ShardRetries)
	require.Equal(t, 8, j.ScanThreads)
	require.Empty(t, j.Notes)
}

func TestRegionFromAWSHost(t *testing.T) {
	for host, want := range map[string]string{
		"s3.eu-west-1.amazonaws.com":           "eu-west-1",
		"s3-ap-southeast-2.amazonaws.com":      "ap-southeast-2",
		"s3.dualstack.us-east-2.amazonaws.com": "us-east-2",
		"s3.cn-north-1.amazonaws.com.cn":       "cn-north-1",
		"s3.us-gov-west-1.amazonaws.com":       "us-gov-west-1",
		"s3.amazonaws.com":                     "",
		"s3-external-1.amazonaws.com":          "",
		"oss-cn-hangzhou.aliyuncs.com":         "",
		"minio.example.com":                    "",
	} {
		j := mustParse(t, with("srcDomain=https://"+host))
		require.Equal(t, want, j.Src.Region, host)
	}
	// Agreeing keys need no note.
	require.Empty(t, mustParse(t, with("partsInFlight=3", "uploadThreadNumPerLargeFile=3")).Notes)
}
