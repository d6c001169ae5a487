package plan

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/conf"
	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
)

// A plan that writes probes the destination's conditional writes once:
// the copier of its copy probe takes the answer the plan's shape already
// holds. Each probe uses a scratch key of its own, so the proxy's log
// tells how many ran.
func TestPlanProbesTheDestinationOnce(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	proxy := ossproxy.Start(t, srv)
	srv.CreateBucket(t, "plan")
	src := tree(t, map[string]int{"a/1": 100, "a/2": 5000})
	job, err := conf.Parse(strings.NewReader(strings.Join([]string{"jobName=p", "srcType=local", "srcPrefix=" + src,
		"destType=oss", "destDomain=" + proxy.Endpoint, "destBucket=plan", "destAccessKey=" + srv.AccessKey,
		"destSecretKey=" + srv.SecretKey, "destCABundle=" + srv.Cert.CertFile}, "\n")), "p.cfg")
	require.NoError(t, err)
	r, err := Plan(t.Context(), job, Options{Probe: 200 * time.Millisecond, Concurrency: 2, Utilization: 0.8, Deadline: time.Hour, Seed: 3})
	require.NoError(t, err)
	require.NotNil(t, r.Probe)
	assert.Positive(t, r.Probe.Small.Objects, "the probe copied")
	assert.Equal(t, int64(0), r.Requests.HeadDest, "the destination enforces create-only writes")

	probes := proxy.Keys(storage.IsProbeKey)
	assert.Len(t, probes, 1, "one probe of the destination: %v", probes)
}
