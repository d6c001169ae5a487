package conf

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	ak     = "AKIAIOSFODNN7EXAMPLE"
	sk     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	token  = "FwoGZXIvYXdzEXAMPLETOKEN"
	ossAK  = "LTAI5tExampleKeyId01"
	ossSK  = "ExampleSecret0123456789abcdef"
	ossTok = "CAIS8gF1q6Ft5B2yfSjIr5bEXAMPLE"
)

func secretJob(t *testing.T) *Job {
	return mustParse(t, with(
		"srcAccessKey="+ak, "srcSecretKey="+sk, "srcSecurityToken="+token,
		"destAccessKey="+ossAK, "destSecretKey="+ossSK, "destSecurityToken="+ossTok,
		"maxMultiThreadScanDepth=2",
	))
}

func requireNoSecrets(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{sk, token, ossSK, ossTok, ak, ossAK, "IOSFODNN", "ExampleKeyId"} {
		require.NotContains(t, s, secret)
	}
}

func TestRedacted(t *testing.T) {
	j := secretJob(t)
	out := j.Redacted()
	requireNoSecrets(t, out)
	for _, want := range []string{
		"srcAccessKey=AKIA****\n", "srcSecretKey=****\n", "srcSecurityToken=****\n",
		"destAccessKey=LTAI****\n", "destSecretKey=****\n", "destSecurityToken=****\n",
		"srcType=s3\n", "srcRegion=us-west-2\n", "destType=oss\n",
		"multipartUploadPartSize=50m\n", "taskObjectSizeLimit=1g\n", "verify=auto\n",
		"# note: job.cfg:13: maxMultiThreadScanDepth=2 is ignored",
	} {
		require.Contains(t, out, want)
	}
	// The redacted text is itself a valid config (secrets aside).
	back := mustParse(t, out)
	require.Equal(t, "AKIA****", back.Src.AccessKey)

	env := mustParse(t, with()).Redacted()
	require.Contains(t, env, "# src credentials: from the environment\n")
	require.NotContains(t, env, "AccessKey=")

	require.Equal(t, "****", maskID("short"), "a short id is masked whole")
	require.Equal(t, "", maskSecret(""))
}

// The unredacted encoding round-trips: parse(encode(j)) == j.
func TestEncodeRoundTrip(t *testing.T) {
	for _, text := range []string{
		with(),
		secretJob(t).encode(false),
		allKeysConfig("s3", "oss"),
		allKeysConfig("local", "s3"),
		with("importSince=2024-05-01T00:00:00.5Z", "incrementalModeInterval=90m", "maxBytesPerSecond=1500",
			"maxObjectsPerSecond=0.25", "include=a/*,b/**", "destPathStyle=false", "srcPathStyle=true"),
	} {
		j := mustParse(t, text)
		j.Notes = nil
		back := mustParse(t, j.encode(false))
		require.Equal(t, j, back, "from:\n%s\nencoded:\n%s", text, j.encode(false))
	}
}

func TestFmtNeverLeaks(t *testing.T) {
	j := secretJob(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		for _, arg := range []any{j, *j, []*Job{j}, map[string]Job{"k": *j}, struct{ J *Job }{j}} {
			out := fmt.Sprintf(verb, arg)
			requireNoSecrets(t, out)
		}
	}
	require.Equal(t, `job "t1" (import): s3 bucket "src" prefix "" at https://s3.us-west-2.amazonaws.com -> `+
		`oss bucket "dst" prefix "" at https://oss-cn-hangzhou.aliyuncs.com`, fmt.Sprint(j))
	require.Equal(t, fmt.Sprint(j), j.String())

	plus := fmt.Sprintf("%+v", j)
	require.Contains(t, plus, "Name:t1")
	require.Contains(t, plus, "ShardObjects:10000")

	gosyntax := fmt.Sprintf("%#v", j)
	require.True(t, strings.HasPrefix(gosyntax, "conf.Job{"), gosyntax)
	// backends.Spec prints as its description, credentials left out.
	require.Contains(t, gosyntax, `Src:s3 bucket "src"`)
	require.NotContains(t, gosyntax, "AccessKey")

	// Masking works on a copy: the job itself keeps its secrets.
	require.Equal(t, sk, j.Src.SecretKey)
}
