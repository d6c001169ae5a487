package e2e

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

const viewerToken = "e2e-dashboard-read-only-0123456789"

// TestDashboard drives the master's dashboard in headless Chromium during
// a real cluster job (S3 to S3 over TLS, throttled to run about half a
// minute): a stranger gets the login page and no job data; after logging
// in with the cluster token the page's numbers are those of `ferry stat
// --json` and move as the job goes; pause and resume work from the page;
// a read-only token sees the numbers but no controls, and a forged POST
// with it is refused. With FERRY_DASHBOARD_SCREENSHOT=PATH (relative to
// the module root) it saves a screenshot of the page for the docs.
func TestDashboard(t *testing.T) {
	env := newS3Env(t)
	src, dst := env.s3Side(t, "dash-src"), env.s3Side(t, "dash-dst")
	var objs []object
	for i := range 48 {
		objs = append(objs, newObject(fmt.Sprintf("d/obj-%02d.bin", i), randomBytes(MiB, uint64(300+i))))
	}
	putObjects(t, src.direct(), src.bucket, objs)
	job := "dash-job"
	cfg := writeJob(t, t.TempDir(), "job.cfg", append(append(jobLines(job, "maxBytesPerSecond=1m"),
		src.lines("src")...), dst.lines("dest")...)...)

	viewFile := filepath.Join(t.TempDir(), "viewer-token")
	require.NoError(t, os.WriteFile(viewFile, []byte(viewerToken+"\n"), 0o600))
	addSecret(viewerToken)
	daddr := freeAddr(t)
	c := newCluster(t, "--dashboard-listen", daddr, "--dashboard-token-file", viewFile)
	base := "https://" + daddr
	api := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.cert.Pool}}}
	c.startWorker()
	wantExit(t, c.admin("submit", cfg), 0)
	require.Eventually(t, func() bool {
		s, ok := c.stat(job)
		return ok && s.JobState == "running" && s.Counters.Verified > 0
	}, time.Minute, 200*time.Millisecond, "the job did not start copying")

	// (a) A stranger: the login page, nothing about the job.
	stranger := newBrowser(t, c.cert.CertFile)
	stranger.do("opening the dashboard", 30*time.Second, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("token")))
	assert.Equal(t, base+"/login", evalJS[string](stranger, `location.href`))
	html := evalJS[string](stranger, `document.documentElement.outerHTML`)
	assert.NotContains(t, html, job)
	assert.Equal(t, 401, evalJS[int](stranger, `fetch("/api/jobs").then(r => r.status)`))
	for _, p := range []string{"/api/jobs", "/api/jobs/" + job, "/api/workers", "/api/jobs/" + job + "/failed"} {
		code, body := apiGet(t, api, base+p, "")
		assert.Equal(t, http.StatusUnauthorized, code, p)
		assert.NotContains(t, body, job, p)
	}

	// (b) The operator logs in; the page says what `ferry stat --json`
	// says. The page is rendered between two stat reads, so its value lies
	// between theirs.
	op := newBrowser(t, c.cert.CertFile)
	login(op, base, clusterToken)
	row := fmt.Sprintf(`tr.job[data-name=%q]`, job)
	field := func(b *browser, k string) int64 {
		t.Helper()
		v := evalJS[string](b, fmt.Sprintf(`document.querySelector('[data-job=%q][data-k=%q]').dataset.v`, job, k))
		n, err := strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "data-k=%s: %q", k, v)
		return n
	}
	before, ok := c.stat(job)
	require.True(t, ok)
	op.do("reloading", 30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row)))
	verified, verifiedBytes := field(op, "verified"), field(op, "verified_bytes")
	after, ok := c.stat(job)
	require.True(t, ok)
	t.Logf("stat verified %d..%d, page %d; bytes %d..%d, page %d", before.Counters.Verified, after.Counters.Verified, verified,
		before.Counters.VerifiedBytes, after.Counters.VerifiedBytes, verifiedBytes)
	assert.True(t, before.Counters.Verified <= verified && verified <= after.Counters.Verified, "objects verified")
	assert.True(t, before.Counters.VerifiedBytes <= verifiedBytes && verifiedBytes <= after.Counters.VerifiedBytes, "bytes verified")
	assert.Equal(t, after.Counters.Scanned, field(op, "scanned"), "listed (the scan is done by now)")
	// The page updates itself from the API: the numbers move while it is
	// open, without a reload.
	moved := fmt.Sprintf(`Number(document.querySelector('[data-job=%q][data-k="verified"]').dataset.v) > %d`, job, verified)
	op.do("waiting for the page's numbers to move", 30*time.Second,
		chromedp.Poll[chromedp.Void](moved, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second)))
	checkNoSecrets(t, "the dashboard page", evalJS[string](op, `document.documentElement.outerHTML`))
	for _, p := range []string{"/api/jobs", "/api/jobs/" + job, "/api/workers", "/api/jobs/" + job + "/failed", "/jobs/" + job, "/"} {
		code, body := apiGet(t, api, base+p, clusterToken)
		assert.Equal(t, http.StatusOK, code, p)
		checkNoSecrets(t, "GET "+p, body)
	}
	if shot := os.Getenv("FERRY_DASHBOARD_SCREENSHOT"); shot != "" {
		screenshot(t, op, shot)
	}

	// (c) Pause from the page; the master says paused; resume again.
	op.do("clicking pause", 30*time.Second, chromedp.Click(chromedp.CSS(row+` button[data-action="pause"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+` button[data-action="resume"]`)))
	require.Eventually(t, func() bool { s, ok := c.stat(job); return ok && s.JobState == "paused" }, 20*time.Second, 200*time.Millisecond)
	op.do("clicking resume", 30*time.Second, chromedp.Click(chromedp.CSS(row+` button[data-action="resume"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+` button[data-action="pause"]`)))
	require.Eventually(t, func() bool { s, ok := c.stat(job); return ok && s.JobState == "running" }, 20*time.Second, 200*time.Millisecond)
	// Throttle from the job's page: the master's limit follows.
	const slower = 512 << 10
	op.do("throttling", 30*time.Second, chromedp.Navigate(base+"/jobs/"+job), chromedp.WaitVisible(chromedp.ID("throttle")),
		chromedp.SetValue(chromedp.CSS(`#throttle input[name="bytes_per_second"]`), strconv.Itoa(slower)),
		chromedp.Click(chromedp.CSS(`#throttle button[type="submit"]`)))
	require.Eventually(t, func() bool { return statLimit(t, c, job) == slower }, 20*time.Second, 200*time.Millisecond,
		"ferry stat does not show the throttle set on the page")

	// (d) Read-only: the numbers, no controls; a forged POST is refused.
	ro := newBrowser(t, c.cert.CertFile)
	login(ro, base, viewerToken)
	assert.GreaterOrEqual(t, field(ro, "verified"), verified)
	assert.Equal(t, 0, evalJS[int](ro, `document.querySelectorAll("button.act, form#throttle").length`))
	forged := fmt.Sprintf(`fetch("/api/jobs/%s/pause", {method: "POST", headers: {"X-CSRF-Token": document.body.dataset.csrf}}).then(r => r.status)`, job)
	assert.Equal(t, http.StatusForbidden, evalJS[int](ro, forged))
	req, err := http.NewRequest("POST", base+"/api/jobs/"+job+"/pause", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := api.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	s, ok := c.stat(job)
	require.True(t, ok)
	assert.Equal(t, "running", s.JobState, "the read-only attempts paused nothing")
}

// statLimit is the job's bytes_per_second_limit in `ferry stat --json`.
func statLimit(t *testing.T, c *cluster, job string) int64 {
	r := c.admin("stat", "--json", job)
	var s []struct {
		Limit int64 `json:"bytes_per_second_limit"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &s) != nil || len(s) != 1 {
		return -1
	}
	return s[0].Limit
}

// login logs b in with token on the login page, as a person would.
func login(b *browser, base, token string) {
	b.t.Helper()
	b.do("logging in", 30*time.Second, chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("jobs")))
}

func apiGet(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// screenshot saves the whole page as PNG to path (relative to the module
// root), once the chart has a few samples to draw.
func screenshot(t *testing.T, b *browser, path string) {
	t.Helper()
	require.Eventually(t, func() bool {
		return evalJS[int](b, `fetch("/api/history").then(r => r.json()).then(h => Math.max(0, ...Object.values(h.jobs).map(p => p.length)))`) >= 4
	}, time.Minute, time.Second, "the chart has too few samples for a screenshot")
	b.do("reloading for the screenshot", 30*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("jobs")))
	// The chart is drawn after the first poll: wait for its axis labels.
	require.Eventually(t, func() bool {
		return evalJS[bool](b, `(() => { const c = document.getElementById("chart"); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; })()`)
	}, 20*time.Second, 200*time.Millisecond)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	if !filepath.IsAbs(path) {
		root, err := testserver.ModuleRoot()
		require.NoError(t, err)
		path = filepath.Join(root, path)
	}
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
