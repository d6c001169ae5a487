package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/backends"
	"github.com/ferry-migrate/ferry/storage/hdfs"
)

// withHDFS is minimal with an HDFS source instead of S3.
func withHDFS(lines ...string) string {
	base := []string{"srcType=hdfs", "srcDomain", "srcBucket", "hdfsNamenode=nn1:8020", "srcPrefix=/user/etl/export/"}
	return with(append(base, lines...)...)
}

func TestHDFSSource(t *testing.T) {
	j := mustParse(t, withHDFS("hdfsUser=etl"))
	assert.Equal(t, backends.Spec{Type: backends.HDFS, Root: "/user/etl/export", HDFSNamenodes: []string{"nn1:8020"}, HDFSUser: "etl"}, j.Src)
	assert.Empty(t, j.Notes)

	j = mustParse(t, withHDFS("hdfsNamenode=nn1.example.com:8020, nn2.example.com:8020", "srcPrefix=/"))
	assert.Equal(t, []string{"nn1.example.com:8020", "nn2.example.com:8020"}, j.Src.HDFSNamenodes, "an HA pair")
	assert.Equal(t, "/", j.Src.Root)

	j = mustParse(t, withHDFS("srcBucket=b", "srcAccessKey=AKID1234", "srcSecretKey=s"))
	assert.Len(t, j.Notes, 3, "object-store keys are noted as ignored: %q", j.Notes)
	assert.Contains(t, j.Notes[0], "srcType is hdfs")
}

func TestHDFSKerberos(t *testing.T) {
	j := mustParse(t, withHDFS("hdfsKerberosKeytab=etl.keytab", "hdfsKerberosPrincipal=etl@EXAMPLE.COM",
		"hdfsKerberosConfig=/etc/krb5.conf", "hdfsKerberosServicePrincipal=nn/_HOST@EXAMPLE.COM"))
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.Equal(t, hdfs.Kerberos{Principal: "etl@EXAMPLE.COM", Keytab: filepath.Join(wd, "etl.keytab"),
		Config: "/etc/krb5.conf", ServicePrincipal: "nn/_HOST@EXAMPLE.COM"}, j.Src.HDFSKerberos,
		"a relative keytab is resolved against the config's directory")

	j = mustParse(t, withHDFS("hdfsKerberosCCache=/tmp/krb5cc_1000", "hdfsUser=etl"))
	assert.Equal(t, "/tmp/krb5cc_1000", j.Src.HDFSKerberos.CCache)
	require.Len(t, j.Notes, 1)
	assert.Contains(t, j.Notes[0], "hdfsUser is ignored with Kerberos")
}

func TestHDFSInvalid(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		key   string
		kind  error
		msg   string
	}{
		{"no namenode", []string{"hdfsNamenode"}, "hdfsNamenode", ErrRequired, "host:port, e.g. namenode.example.com:8020"},
		{"namenode as URL", []string{"hdfsNamenode=hdfs://nn1:8020/"}, "hdfsNamenode", ErrInvalid, "without hdfs://, e.g. nn1:8020"},
		{"namenode without port", []string{"hdfsNamenode=nn1"}, "hdfsNamenode", ErrInvalid, `"nn1" is not host:port`},
		{"bad port", []string{"hdfsNamenode=nn1:8020,nn2:http"}, "hdfsNamenode", ErrInvalid, `"nn2:http" is not host:port`},
		{"no directory", []string{"srcPrefix"}, "srcPrefix", ErrRequired, "an absolute path such as /user/etl/export/"},
		{"relative directory", []string{"srcPrefix=user/etl"}, "srcPrefix", ErrInvalid, `give an absolute HDFS path, e.g. "/user/etl"`},
		{"directory as URL", []string{"srcPrefix=hdfs://nn1:8020/data"}, "srcPrefix", ErrInvalid, "the namenode goes in hdfsNamenode"},
		{"keytab without principal", []string{"hdfsKerberosKeytab=/k"}, "hdfsKerberosKeytab", ErrInvalid, "user@REALM"},
		{"principal without realm", []string{"hdfsKerberosKeytab=/k", "hdfsKerberosPrincipal=etl"}, "hdfsKerberosPrincipal", ErrInvalid, "give user@REALM"},
		{"principal without keytab", []string{"hdfsKerberosPrincipal=etl@EXAMPLE.COM"}, "hdfsKerberosPrincipal", ErrInvalid, "applies with hdfsKerberosKeytab only"},
		{"keytab and cache", []string{"hdfsKerberosKeytab=/k", "hdfsKerberosPrincipal=a@B", "hdfsKerberosCCache=/c"}, "hdfsKerberosCCache", ErrInvalid, "one of them"},
		{"config without kerberos", []string{"hdfsKerberosConfig=/etc/krb5.conf"}, "hdfsKerberosConfig", ErrInvalid, "Kerberos is off"},
		{"spn without kerberos", []string{"hdfsKerberosServicePrincipal=nn/_HOST"}, "hdfsKerberosServicePrincipal", ErrInvalid, "Kerberos is off"},
		{"spn without host", []string{"hdfsKerberosCCache=/c", "hdfsKerberosServicePrincipal=nn"}, "hdfsKerberosServicePrincipal", ErrInvalid, "service/host, e.g. nn/_HOST"},
		{"restore from hdfs", []string{"jobType=restore", "srcPrefix=/backups/2026/"}, "srcType", ErrInvalid, "ferry never writes HDFS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := withHDFS(tc.lines...)
			_, err := parse(t, text)
			if tc.key == "srcType" { // restore also fails its own checks
				require.ErrorContains(t, err, tc.msg)
				return
			}
			onlyProblem(t, err, tc.key, tc.kind, tc.msg)
		})
	}
}

func TestHDFSIsNoDestination(t *testing.T) {
	_, err := parse(t, with("destType=hdfs", "destDomain"))
	onlyProblem(t, err, "destType", ErrUnsupported, "hdfs is supported as a source only: ferry reads HDFS but does not write it (destinations: local, s3, oss)")
	_, err = parse(t, with("destType=nas"))
	onlyProblem(t, err, "destType", ErrUnsupported, "(supported: local, s3, oss)")
}

// hdfs* keys left in a job of another source type are noted, not refused.
func TestHDFSKeysElsewhereAreNoted(t *testing.T) {
	j := mustParse(t, with("hdfsNamenode=nn1:8020", "hdfsKerberosKeytab=/k"))
	require.Len(t, j.Notes, 2)
	assert.Contains(t, j.Notes[0], "hdfsNamenode is ignored: it applies to srcType=hdfs only")
}

func TestHDFSEncodeRoundTrip(t *testing.T) {
	for _, text := range []string{
		withHDFS("hdfsUser=etl"),
		withHDFS("hdfsKerberosKeytab=/k/etl.keytab", "hdfsKerberosPrincipal=etl@EXAMPLE.COM", "hdfsKerberosConfig=/etc/krb5.conf", "hdfsKerberosServicePrincipal=nn/_HOST"),
	} {
		j := mustParse(t, text)
		back := mustParse(t, j.encode(false))
		require.Equal(t, j, back, "encoded:\n%s", j.encode(false))
		assert.Contains(t, j.Redacted(), "hdfsNamenode=nn1:8020")
	}
}

func TestHDFSEveryKeyIsInterpreted(t *testing.T) {
	text := withHDFS("hdfsUser=etl", "hdfsKerberosKeytab=/k", "hdfsKerberosPrincipal=a@B", "hdfsKerberosCCache=",
		"hdfsKerberosConfig=/etc/krb5.conf", "hdfsKerberosServicePrincipal=nn/_HOST")
	ents, errs, whole := scan(strings.NewReader(text), "job.cfg")
	require.True(t, whole)
	require.Empty(t, errs)
	rd := &reader{file: "job.cfg", dir: "/cfg", entries: ents, used: map[string]bool{}}
	rd.build()
	require.Empty(t, rd.errs)
	require.Empty(t, rd.unused())
}

// The example in docs/job-config.md's HDFS section is a valid config.
func TestHDFSDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "job-config.md"))
	require.NoError(t, err)
	_, sec, ok := strings.Cut(string(doc), "### HDFS source")
	require.True(t, ok)
	blocks := strings.Split(sec, "```")
	require.Greater(t, len(blocks), 2)
	j, err := Parse(strings.NewReader(blocks[1]), "example.cfg")
	require.NoError(t, err, blocks[1])
	assert.Empty(t, j.Notes)
	assert.Equal(t, backends.HDFS, j.Src.Type)
}
