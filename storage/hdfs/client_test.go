package hdfs

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// What of the Kerberos set-up can be checked without a KDC: each bad
// setting fails with an error naming it, classed so that the job stops
// (Fatal) instead of retrying a login that cannot work.
func TestKerberosSettings(t *testing.T) {
	dir := t.TempDir()
	krb5 := filepath.Join(dir, "krb5.conf")
	require.NoError(t, os.WriteFile(krb5, []byte("[libdefaults]\n default_realm = EXAMPLE.COM\n"), 0o644))
	cases := []struct {
		name     string
		k        Kerberos
		sentinel error
		mentions string
	}{
		{"missing krb5.conf", Kerberos{Keytab: "/x.keytab", Principal: "a@B", Config: filepath.Join(dir, "nope.conf")}, storage.ErrConfig, "nope.conf"},
		{"principal without realm", Kerberos{Keytab: "/x.keytab", Principal: "ferry", Config: krb5}, storage.ErrConfig, "user@REALM"},
		{"missing keytab", Kerberos{Keytab: filepath.Join(dir, "no.keytab"), Principal: "ferry@EXAMPLE.COM", Config: krb5}, storage.ErrConfig, "no.keytab"},
		{"missing ccache", Kerberos{CCache: filepath.Join(dir, "krb5cc"), Config: krb5}, storage.ErrAuth, "kinit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.True(t, tc.k.Enabled())
			_, err := kerberosClient(tc.k)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Contains(t, err.Error(), tc.mentions)
			assert.Equal(t, storage.Fatal, storage.Classify(err))

			b, err := New(Config{Namenodes: []string{"127.0.0.1:1"}, Root: "/", Kerberos: tc.k}, Options{})
			require.NoError(t, err)
			_, err = b.Stat(t.Context(), "k")
			assert.ErrorIs(t, err, tc.sentinel, "the adapter reports it on first use")
		})
	}
	assert.False(t, Kerberos{Config: krb5, ServicePrincipal: "nn/_HOST"}.Enabled(), "paths alone do not turn Kerberos on")
}
