package conf

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/backends"
)

func httpJob(lines ...string) string {
	return with(append([]string{"srcType=http", "srcDomain", "srcBucket", "httpListFilePath=/data/urls.list"}, lines...)...)
}

func TestHTTPSource(t *testing.T) {
	j := mustParse(t, httpJob("httpPrefixColumn=3", "relativePathColumn=1",
		"srcReferer=https://www.example.com/", "srcUserAgent=ferry/1.0",
		"srcHeaders=Cookie: a=1; b=2; X-Token: tok"))
	assert.Equal(t, backends.Spec{Type: backends.HTTP, ListFile: "/data/urls.list", PrefixColumn: 3, RelativeColumn: 1,
		Header: http.Header{"Referer": {"https://www.example.com/"}, "User-Agent": {"ferry/1.0"},
			"Cookie": {"a=1; b=2"}, "X-Token": {"tok"}}}, j.Src)
	assert.Empty(t, j.Notes)
	assert.Equal(t, "http list /data/urls.list", j.Src.String())
	assert.NotContains(t, j.Redacted(), "X-Token: tok", "srcHeaders may carry tokens")

	j = mustParse(t, httpJob())
	assert.Equal(t, 1, j.Src.PrefixColumn, "OssImport's stock columns by default")
	assert.Equal(t, 2, j.Src.RelativeColumn)
	assert.Nil(t, j.Src.Header)

	j = mustParse(t, httpJob("srcAccessKey=LTAIEXAMPLE", "srcSecretKey=s", "srcSecurityToken=tok", "srcSignBucket=bkt"))
	assert.Equal(t, "LTAIEXAMPLE", j.Src.AccessKey)
	assert.Equal(t, "tok", j.Src.SessionToken)
	assert.Equal(t, "bkt", j.Src.SignBucket)

	j = mustParse(t, httpJob("srcDomain=https://example.com", "srcPrefix=x/"))
	notes := strings.Join(j.Notes, "\n")
	assert.Contains(t, notes, "srcDomain is ignored: srcType=http reads the URLs of httpListFilePath")
	assert.Contains(t, notes, "srcPrefix is ignored")
}

func TestHTTPSourceListPathResolvedAgainstTheConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "job.cfg")
	require.NoError(t, os.WriteFile(cfg, []byte(httpJob("httpListFilePath=lists/urls.list")), 0o644))
	j, err := Load(cfg)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "lists", "urls.list"), j.Src.ListFile)
}

func TestHTTPSourceProblems(t *testing.T) {
	cases := []struct {
		lines []string
		key   string
		kind  error
		msg   string
	}{
		{[]string{"httpListFilePath"}, "httpListFilePath", ErrRequired, "required for srcType=http"},
		{[]string{"httpListFilePath=c:/example/http.list"}, "httpListFilePath", ErrRequired, "required"},
		{[]string{"httpListFilePath=https://example.com/urls.list"}, "httpListFilePath", ErrInvalid, "a URL"},
		{[]string{"httpPrefixColumn=0"}, "httpPrefixColumn", ErrInvalid, "too small"},
		{[]string{"relativePathColumn=x"}, "relativePathColumn", ErrInvalid, ""},
		{[]string{"relativePathColumn=1"}, "relativePathColumn", ErrInvalid, "the same column as httpPrefixColumn (1)"},
		{[]string{"srcHeaders=no colon"}, "srcHeaders", ErrInvalid, "Name: value; Name2: value2"},
		{[]string{"srcHeaders=Host: evil"}, "srcHeaders", ErrInvalid, "set by ferry itself"},
		{[]string{"srcHeaders=Referer: a", "srcReferer=b"}, "srcReferer", ErrInvalid, "also set in srcHeaders"},
		{[]string{"srcSignBucket=b"}, "srcSignBucket", ErrInvalid, "srcAccessKey and srcSecretKey are empty"},
		{[]string{"srcAccessKey=LTAIEXAMPLE"}, "srcAccessKey", ErrInvalid, "requests are then unsigned"},
	}
	for _, tc := range cases {
		_, err := parse(t, httpJob(tc.lines...))
		onlyProblem(t, err, tc.key, tc.kind, tc.msg)
	}
	_, err := parse(t, with("destType=http"))
	onlyProblem(t, err, "destType", ErrUnsupported, "a source only")
}

func TestHTTPSourceEncodes(t *testing.T) {
	text := httpJob("httpPrefixColumn=2", "relativePathColumn=4", "srcReferer=https://www.example.com/",
		"srcHeaders=X-B: 2; Cookie: sid=secretcookie; a=1; X-B: 3", "srcAccessKey=LTAIEXAMPLE1", "srcSecretKey=topsecret",
		"srcSignBucket=bkt", "srcCABundle=/etc/ca.pem")
	j := mustParse(t, text)
	j.Notes = nil
	back := mustParse(t, j.encode(false))
	require.Equal(t, j, back, "encoded:\n%s", j.encode(false))

	red := j.Redacted()
	for _, want := range []string{"srcType=http\n", "httpListFilePath=/data/urls.list\n", "httpPrefixColumn=2\n",
		"relativePathColumn=4\n", "srcReferer=https://www.example.com/\n", "srcHeaders=Cookie: ****; X-B: ****; X-B: ****\n",
		"srcAccessKey=LTAI****\n", "srcSecretKey=****\n", "srcSignBucket=bkt\n"} {
		assert.Contains(t, red, want)
	}
	assert.NotContains(t, red, "secretcookie")
	assert.NotContains(t, red, "topsecret")
	assert.NotContains(t, fmt.Sprintf("%+v %#v", j, j), "secretcookie")
	_, err := parse(t, red)
	require.NoError(t, err, "the redacted text is itself a valid config")
}
