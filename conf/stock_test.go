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

// OssImport's stock files load unchanged, with the values OssImport gives
// them.
func TestStockOssImportLocal(t *testing.T) {
	j, err := Load("testdata/ossimport/local_job.cfg")
	require.NoError(t, err)
	require.Equal(t, "local_test", j.Name)
	require.Equal(t, JobImport, j.Type)
	require.Equal(t, backends.Spec{Type: backends.Local, Root: "D:/work/oss/data"}, j.Src,
		"a Windows path is absolute: not joined to the config's directory")
	require.Equal(t, backends.Spec{
		Type: backends.OSS, Endpoint: "http://oss-cn-hangzhou-zmf.aliyuncs.com", Bucket: "mybucket", Prefix: "docs/",
		AccessKey: "LTAI5tExampleKeyId01", SecretKey: "ExampleSecret0123456789abcdef", ListPageSize: 1000,
	}, j.Dest, "destType inferred from the aliyuncs.com domain; http kept as written")
	require.True(t, j.ImportSince.IsZero())
	require.Equal(t, task.OverwriteAlways, j.Overwrite, "the stock file's isSkipExistFile=false overwrites, as in OssImport")
	require.False(t, j.Incremental)
	require.Equal(t, 24*time.Hour, j.IncrementalInterval)
	require.Equal(t, 10000, j.ShardObjects)
	require.Equal(t, int64(1000000000), j.ShardBytes)
	require.Equal(t, 1, j.ScanThreads)
	require.Equal(t, int64(150<<20), j.MultipartThreshold)
	require.Equal(t, int64(50<<20), j.PartSize)
	require.Equal(t, 3, j.PartsInFlight, "uploadThreadNumPerLargeFile")
	require.Equal(t, task.VerifyAuto, j.Verify, "auditMode=general")
	require.Empty(t, j.Notes, "stock values of ignored keys pass silently")
}

func TestStockOssImportS3(t *testing.T) {
	j, err := Load("testdata/ossimport/s3_job.cfg")
	require.NoError(t, err)
	require.Equal(t, backends.Spec{
		Type: backends.S3, Endpoint: "http://s3.us-east-1.amazonaws.com", Region: "us-east-1",
		Bucket: "mybucket", Prefix: "docs/",
		AccessKey: "AKIAIOSFODNN7EXAMPLE", SecretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ListPageSize: 1000,
	}, j.Src)
	require.Equal(t, backends.OSS, j.Dest.Type)
	require.Equal(t, "http://oss-cn-hangzhou-internal.aliyuncs.com", j.Dest.Endpoint)
	require.Equal(t, maxScanThreads, j.ScanThreads, "OssImport's stock scanThreadCount=10000 is lowered")
	require.Len(t, j.Notes, 1)
	require.Contains(t, j.Notes[0], "s3_job.cfg:86: scanThreadCount=10000 lowered to 64")
}

// The standalone zip's template leaves the destination blank: the one
// thing ferry cannot do without is the bucket (credentials may come from
// the environment).
func TestStockTemplateNeedsOnlyABucket(t *testing.T) {
	_, err := Load("testdata/ossimport/template_local_job.cfg")
	p := onlyProblem(t, err, "destBucket", ErrRequired, "required")
	require.Equal(t, 39, p.Line, "points at the blank destBucket= line")
}

func TestStockWithCRLFAndBOM(t *testing.T) {
	raw, err := os.ReadFile("testdata/ossimport/s3_job.cfg")
	require.NoError(t, err)
	dos := "\ufeff" + strings.ReplaceAll(string(raw), "\n", "\r\n")
	j, err := Parse(strings.NewReader(dos), "testdata/ossimport/s3_job.cfg")
	require.NoError(t, err)
	want, err := Load("testdata/ossimport/s3_job.cfg")
	require.NoError(t, err)
	require.Equal(t, want.Redacted(), j.Redacted())
}

// Every OssImport key in the stock express-tunnel file is known; the
// tunnel itself is refused, and its token never printed.
func TestExpressTunnel(t *testing.T) {
	_, err := parse(t, with(
		"isUseExpressTunnel=true", "expressTunnelProxyHost=http://100.100.100.100:80",
		"expressTunnelProxyType=data-migration", "expressTunnelProxyUser=user",
		"expressTunnelProxyDest=cn-shanghai", "expressTunnelAuthToken=tunnel-token-secret",
	))
	onlyProblem(t, err, "isUseExpressTunnel", ErrUnsupported, "express-tunnel")

	j := mustParse(t, with("isUseExpressTunnel=false", "expressTunnelAuthToken=tunnel-token-secret"))
	require.Len(t, j.Notes, 1)
	require.Contains(t, j.Notes[0], "expressTunnelAuthToken is ignored")
	require.NotContains(t, j.Notes[0], "tunnel-token-secret")
}

// allKeysConfig sets every known key, valid for the given sides.
func allKeysConfig(srcType, destType string) string {
	local := func(p string) []string { return []string{p + "Prefix=/data/" + p + "/"} }
	remote := func(p, domain string) []string {
		return []string{
			p + "Domain=" + domain, p + "Bucket=b-" + p, p + "Prefix=x/", p + "Region=r1",
			p + "AccessKey=AKIDEXAMPLE12345", p + "SecretKey=s", p + "SecurityToken=t", p + "Credentials=static",
			p + "PathStyle=false", p + "CABundle=ca.pem", p + "Checksums=when_required", p + "ListPageSize=500",
		}
	}
	var lines []string
	for _, side := range []struct{ p, typ, domain string }{
		{"src", srcType, "https://s3.eu-west-1.amazonaws.com"}, {"dest", destType, "https://oss-cn-beijing.aliyuncs.com"},
	} {
		lines = append(lines, side.p+"Type="+side.typ)
		if side.typ == "local" {
			lines = append(lines, local(side.p)...)
			for _, k := range remote(side.p, side.domain)[1:] { // set but ignored
				if !strings.HasPrefix(k, side.p+"Prefix") {
					lines = append(lines, k)
				}
			}
			lines = append(lines, side.p+"Domain=")
		} else {
			lines = append(lines, remote(side.p, side.domain)...)
		}
	}
	return strings.Join(append(lines,
		"jobName=all", "jobType=audit", "isIncremental=true", "incrementalModeInterval=3600",
		"importSince=1700000000", "lastModify=0", "isSkipExistFile=true",
		"taskObjectCountLimit=500", "taskObjectSizeLimit=10g", "scanThreadCount=4", "maxMultiThreadScanDepth=1",
		"uploadThreadNumPerLargeFile=3", "multipartUploadThreshold=64m", "multipartUploadPartSize=16m",
		"isServerSideEncryption=false", "isAllowSymbolicLink=true", "isAuditAfterImport=true", "auditMode=simple",
		"appId=0", "getObjectMetaMode=stat", "isDownloadFromCdn=false", "cdnDomain=",
		"httpListFilePath=", "httpPrefixColumn=1", "relativePathColumn=2",
		"srcReferer=", "srcUserAgent=", "srcHeaders=", "srcSignBucket=",
		"isUseExpressTunnel=false", "expressTunnelProxyHost=", "expressTunnelProxyType=", "expressTunnelProxyUser=",
		"expressTunnelProxyDest=", "expressTunnelAuthToken=",
		"verify=reread", "include=**/*.jpg", "exclude=tmp/**", "maxBytesPerSecond=1g", "maxObjectsPerSecond=500",
		"partsInFlight=8", "objectRetries=5", "shardRetries=2", "followSymlinks=true",
		"importUntil=1800000000", "deleteExtraneous=false", "deleteMaxCount=1000", "deleteMaxPercent=10", "deleteDryRun=false",
		"overwritePolicy=if-source-newer", "schedule=", "scheduleTimeZone=UTC",
		"backupKind=", "keepLast=0", "keepHourly=0", "keepDaily=0", "keepWeekly=0", "keepMonthly=0", "keepYearly=0",
		"retentionDryRun=false",
		// srcType=hdfs keys: with another srcType, noted as ignored.
		"hdfsNamenode=nn1:8020,nn2:8020", "hdfsUser=etl", "hdfsKerberosPrincipal=etl@EXAMPLE.COM",
		"hdfsKerberosKeytab=etl.keytab", "hdfsKerberosCCache=", "hdfsKerberosConfig=krb5.conf", "hdfsKerberosServicePrincipal=nn/_HOST",
	), "\n")
}

// Every key in the lists is interpreted somewhere: a key added to the
// lists but forgotten in the code would be accepted and silently dropped.
func TestEveryKeyIsInterpreted(t *testing.T) {
	for _, types := range [][2]string{{"s3", "oss"}, {"local", "s3"}, {"oss", "local"}} {
		text := allKeysConfig(types[0], types[1])
		ents, errs, whole := scan(strings.NewReader(text), "job.cfg")
		require.True(t, whole)
		require.Empty(t, errs)
		require.Len(t, ents, len(knownKeys), "the config sets every key: %v", types)
		rd := &reader{file: "job.cfg", dir: "/cfg", entries: ents, used: map[string]bool{}}
		j := rd.build()
		require.Empty(t, rd.errs, "%v", types)
		require.Empty(t, rd.unused(), "%v", types)
		require.Equal(t, task.VerifyReread, j.Verify)
		require.Equal(t, 8, j.PartsInFlight)
	}
}

func TestDefaults(t *testing.T) {
	j := mustParse(t, with())
	require.Equal(t, JobImport, j.Type)
	require.Equal(t, 10000, j.ShardObjects)
	require.Equal(t, int64(1<<30), j.ShardBytes)
	require.Equal(t, 1, j.ScanThreads)
	require.Equal(t, int64(100<<20), j.MultipartThreshold)
	require.Equal(t, int64(50<<20), j.PartSize)
	require.Equal(t, 4, j.PartsInFlight)
	require.Equal(t, task.VerifyAuto, j.Verify)
	require.Equal(t, 3, j.Retries)
	require.Equal(t, 3, j.ShardRetries)
	require.Equal(t, 86400*time.Second, j.IncrementalInterval)
	require.False(t, j.Incremental)
	require.Equal(t, task.OverwriteIfSourceNewer, j.Overwrite, "neither key set: the safe default")
	require.True(t, j.ImportSince.IsZero())
	require.Zero(t, j.BytesPerSecond)
	require.Zero(t, j.ObjectsPerSecond)
	require.Nil(t, j.Include)
	require.Nil(t, j.Exclude)
	require.Empty(t, j.Notes)
	require.Equal(t, "us-west-2", j.Src.Region, "from the AWS endpoint")
	require.Empty(t, j.Dest.Region, "the s3 backend derives OSS regions itself")

	// Every default parses with its key's parser.
	for k := range defaults {
		require.True(t, knownKeys[k], k)
	}
	for k, v := range defaults {
		_, err := parse(t, with(k+"="+v))
		require.NoError(t, err, "%s=%s", k, v)
	}
}

// docs/job-config.md documents every key and every default.
func TestDocsCoverEveryKey(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "job-config.md"))
	require.NoError(t, err)
	for k := range knownKeys {
		require.Contains(t, string(doc), "| `"+k+"` |", "docs/job-config.md has no table row for %s", k)
	}
	for k, v := range defaults {
		require.Regexp(t, "\\| `"+k+"` \\| `"+v+"` \\|", string(doc), "docs/job-config.md: default of %s", k)
	}
}

// The examples in docs/job-config.md are valid configs.
func TestDocsExamplesParse(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "job-config.md"))
	require.NoError(t, err)
	_, examples, ok := strings.Cut(string(doc), "## Examples")
	require.True(t, ok)
	blocks := strings.Split(examples, "```")
	n := 0
	for i := 1; i < len(blocks); i += 2 {
		j, err := Parse(strings.NewReader(blocks[i]), "example.cfg")
		require.NoError(t, err, blocks[i])
		require.Empty(t, j.Notes, blocks[i])
		n++
	}
	require.Equal(t, 3, n)
}
