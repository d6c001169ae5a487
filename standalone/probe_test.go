package standalone

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
)

// ferry run probes its destination's conditional writes once: the master
// does when the job is submitted, and the in-process worker takes its
// answer instead of probing the same store again. Each probe uses a
// scratch key of its own, so the proxy's log tells how many ran; the
// copies still go create-only without a HEAD first (the OSS look-alike
// enforces x-oss-forbid-overwrite).
func TestRunProbesTheDestinationOnce(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	srv.CreateBucket(t, "once")
	src := t.TempDir()
	const objects = 4
	for i := range objects {
		require.NoError(t, os.WriteFile(filepath.Join(src, fmt.Sprintf("o%d", i)), []byte("data"), 0o644))
	}
	cfg := strings.Join([]string{"jobName=once", "srcType=local", "srcPrefix=" + src + "/",
		"destType=oss", "destDomain=" + proxy.Endpoint, "destBucket=once", "destAccessKey=" + srv.AccessKey,
		"destSecretKey=" + srv.SecretKey, "destCABundle=" + srv.Cert.CertFile}, "\n") + "\n"

	rep, err := Run(t.Context(), cfg, "once.cfg", Options{DataDir: t.TempDir(), Workers: 2})
	require.NoError(t, err)
	require.Equal(t, int64(objects), rep.Counters.Verified, "%+v", rep)

	probes := proxy.Keys(storage.IsProbeKey)
	assert.Len(t, probes, 1, "the master's probe and no other: %v", probes)
	heads := 0
	for _, s := range proxy.Requests() {
		if s.Kind == ossproxy.KindHead && !storage.IsProbeKey(s.Key) {
			heads++
		}
	}
	assert.Zero(t, heads, "objects written create-only without a look first")
}
