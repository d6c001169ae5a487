package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/task"
)

func TestSyntax(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		check      func(t *testing.T, j *Job)
	}{
		{"CRLF", strings.ReplaceAll(with("srcPrefix=a/b/"), "\n", "\r\n"), func(t *testing.T, j *Job) {
			require.Equal(t, "a/b/", j.Src.Prefix)
			require.Equal(t, "dst", j.Dest.Bucket)
		}},
		{"BOM", "\ufeff" + with(), func(t *testing.T, j *Job) { require.Equal(t, "t1", j.Name) }},
		{"BOM before comment", "\ufeff# comment\n" + with(), func(t *testing.T, j *Job) { require.Equal(t, "t1", j.Name) }},
		{"comments and blank lines", "# a\n; b\n! c\n   # indented\n\n\t\n" + with(), func(t *testing.T, j *Job) {
			require.Equal(t, "t1", j.Name)
		}},
		{"spaces around key and value", with("  srcPrefix  =  logs/2024/  "), func(t *testing.T, j *Job) {
			require.Equal(t, "logs/2024/", j.Src.Prefix)
		}},
		{"hash inside values is data", with("srcPrefix=a#b/", "srcAccessKey=AKIDEXAMPLE12345", "srcSecretKey=se#cret=="), func(t *testing.T, j *Job) {
			require.Equal(t, "a#b/", j.Src.Prefix)
			require.Equal(t, "se#cret==", j.Src.SecretKey, "split at the first '=' only")
		}},
		{"blank value is unset", with("srcAccessKey=", "srcSecretKey=", "destPrefix="), func(t *testing.T, j *Job) {
			require.Empty(t, j.Src.AccessKey)
			require.Empty(t, j.Dest.Prefix)
		}},
		{"blank value takes the default", with("taskObjectCountLimit=", "verify="), func(t *testing.T, j *Job) {
			require.Equal(t, 10000, j.ShardObjects)
			require.Equal(t, task.VerifyAuto, j.Verify)
		}},
		{"UTF-8 values", with("srcPrefix=照片/2024/"), func(t *testing.T, j *Job) {
			require.Equal(t, "照片/2024/", j.Src.Prefix)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, mustParse(t, tc.text)) })
	}
}

func TestSyntaxErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		line       int
		key        string
		kind       error
		msg        string
	}{
		{"duplicate names both lines", with() + "destPrefix=src/\ndestPrefix=dest/\n", 8, "destPrefix", ErrDuplicate, "set twice, on line 7 and on line 8"},
		{"duplicate of a blank", with() + "srcAccessKey=\nsrcAccessKey=AKIDEXAMPLE12345\n", 8, "srcAccessKey", ErrDuplicate, "line 7"},
		{"typo", with("destBuckt=x"), 7, "destBuckt", ErrUnknownKey, `did you mean "destBucket"?`},
		{"typo in ferry key", with("partsInFlite=3"), 7, "partsInFlite", ErrUnknownKey, `did you mean "partsInFlight"?`},
		{"wrong case", with("SrcPrefix=x/"), 7, "SrcPrefix", ErrUnknownKey, `case-sensitive: did you mean "srcPrefix"?`},
		{"wrong case long", with("multipartuploadthreshold=1g"), 7, "multipartuploadthreshold", ErrUnknownKey, `"multipartUploadThreshold"`},
		{"nothing close", with("colour=blue"), 7, "colour", ErrUnknownKey, "docs/job-config.md"},
		{"sys.properties key", with("workerTaskThreadNum=60"), 7, "workerTaskThreadNum", ErrUnknownKey, "sys.properties"},
		{"no equals sign", with() + "srcSecretKey hunter2\n", 7, "", ErrSyntax, "expected key=value"},
		{"no key", with("=x"), 7, "", ErrSyntax, "nothing before '='"},
		{"invalid UTF-8", with("srcPrefix=\xc4\xe3/"), 7, "srcPrefix", ErrSyntax, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.text)
			p := onlyProblem(t, err, tc.key, tc.kind, tc.msg)
			require.Equal(t, tc.line, p.Line)
			require.True(t, strings.HasPrefix(p.Error(), "job.cfg:"), p.Error())
			require.NotContains(t, err.Error(), "hunter2", "a mangled line is never echoed")
		})
	}
}

func TestUTF16Refused(t *testing.T) {
	_, err := parse(t, "\xff\xfej\x00o\x00b\x00")
	onlyProblem(t, err, "", ErrSyntax, "UTF-16")
}

func TestLineTooLong(t *testing.T) {
	_, err := parse(t, with("srcPrefix="+strings.Repeat("a", maxLine+1)))
	require.ErrorContains(t, err, "job.cfg:7: reading the config")
}

func TestErrorFormat(t *testing.T) {
	_, err := parse(t, with("taskObjectCountLimit=0"))
	require.EqualError(t, err, "job.cfg:7: taskObjectCountLimit: 0 is too small: use 1 or more")
	_, err = parse(t, with("destBucket"))
	require.EqualError(t, err, "job.cfg: destBucket: required for destType=s3 or oss: the bucket name")
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.cfg")
	require.NoError(t, os.WriteFile(path, []byte(with("destBuckt=x")), 0o600))
	_, err := Load(path)
	require.ErrorContains(t, err, path+":7: destBuckt: unknown key")

	_, err = Load(filepath.Join(dir, "missing.cfg"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestSuggestions(t *testing.T) {
	for typo, want := range map[string]string{
		"srcAcessKey":             "srcAccessKey",
		"destSecertKey":           "destSecretKey",
		"isSkipExistFiles":        "isSkipExistFile",
		"importsince":             "importSince",
		"incrementalModeIntervel": "incrementalModeInterval",
		"maxBytesPerSec":          "maxBytesPerSecond",
	} {
		require.Contains(t, unknownKey(typo).Error(), `"`+want+`"`, typo)
	}
}
