package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// TestDashboardStandalone: `ferry run --dashboard-listen` serves the
// dashboard of its in-process master over HTTPS: a stranger gets 401, the
// token reads the job, whose numbers after the pass are the report's. It
// refuses to serve one without TLS unless --insecure is given.
func TestDashboardStandalone(t *testing.T) {
	srcDir, dstDir := t.TempDir(), t.TempDir()
	var objs []object
	for i := range 12 {
		objs = append(objs, newObject(fmt.Sprintf("r/obj-%02d.bin", i), randomBytes(4000+i*97, uint64(400+i))))
	}
	writeLocal(t, srcDir, objs)
	job := "dash-run"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, "schedule=@every 1h"),
		localSide(srcDir).lines("src")...), localSide(dstDir).lines("dest")...)...)
	cert := testserver.NewCert(t)
	tokenFile := filepath.Join(t.TempDir(), "token")
	const token = "e2e-standalone-dashboard-0123456789"
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	addSecret(token)

	refused := runFerry(t, "run", "--data-dir", dataDir(t), "--progress", "none", "--dashboard-listen", freeAddr(t),
		"--token-file", tokenFile, cfg)
	wantExit(t, refused, 2)
	assert.Contains(t, refused.stderr, "--tls-cert")

	addr := freeAddr(t)
	p := startFerry(t, "run", "--data-dir", dataDir(t), "--progress", "none", "--json", "--dashboard-listen", addr,
		"--tls-cert", cert.CertFile, "--tls-key", cert.KeyFile, "--token-file", tokenFile, cfg)
	rep := waitReport(t, p, 1, 2*time.Minute)
	require.Equal(t, int64(len(objs)), rep.Counters.Verified, "%+v", rep)

	api := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}}
	base := "https://" + addr
	code, body := apiGet(t, api, base+"/api/jobs", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.NotContains(t, body, job)
	code, body = apiGet(t, api, base+"/api/jobs", token)
	require.Equal(t, http.StatusOK, code, body)
	var jobs []struct {
		JobName  string   `json:"job_name"`
		Counters counters `json:"counters"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &jobs))
	require.Len(t, jobs, 1)
	assert.Equal(t, job, jobs[0].JobName)
	assert.Equal(t, rep.Counters.Verified, jobs[0].Counters.Verified)
	assert.Equal(t, totalSize(objs), jobs[0].Counters.VerifiedBytes)
	checkNoSecrets(t, "GET /api/jobs", body)
	p.Kill()
}
