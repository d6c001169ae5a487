package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/master"
	"github.com/ferry-migrate/ferry/task"
	"github.com/ferry-migrate/ferry/tracker"
)

// A real master with a job whose config holds keys: no page or API
// response, for an operator, carries the keys or the tokens.
func TestNoSecretInAnyResponse(t *testing.T) {
	const (
		accessKey = "AKIDdashboardTESTaccess"
		secretKey = "dashboard-secret-key-MUST-NOT-LEAK"
	)
	dir := t.TempDir()
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: dir, Heartbeat: time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, m.Start(ctx))
	t.Cleanup(func() {
		cancel()
		m.Close()
		assert.NoError(t, st.Close())
	})
	cfg := testmaster.LocalJob(t, "secretive", 8) + "srcAccessKey=" + accessKey + "\nsrcSecretKey=" + secretKey + "\n"
	_, _, err = m.Submit(ctx, cfg, "secretive.cfg")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ss, err := m.Stat("secretive")
		return err == nil && ss[0].ScanFinished
	}, 20*time.Second, 20*time.Millisecond)
	// One object fails, with its key in the error: the failed list shows it.
	testmaster.WorkOnce(t, m, func(r *task.Result) {
		if r.Key == "o03" {
			r.Status, r.Reason, r.Class = task.StatusFailed, "403 AccessDenied reading o03", "permanent"
		}
	})

	d := newTestDash(t, m)
	d.srv.Sample()
	c := d.client()
	d.login(c, opToken)
	paths := []string{"/", "/jobs/secretive", "/api/jobs", "/api/jobs/secretive", "/api/jobs/secretive/failed",
		"/api/workers", "/api/history", "/api/history?job=secretive", "/login", "/static/app.js", "/static/style.css"}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			for _, hdr := range []map[string]string{nil, bearer(viewToken)} {
				r := d.do(c, "GET", p, hdr, nil)
				require.Equal(t, http.StatusOK, r.code, r.body)
				for _, secret := range []string{secretKey, accessKey, opToken, viewToken} {
					assert.NotContains(t, r.body, secret)
				}
			}
		})
	}
	jp := d.do(c, "GET", "/jobs/secretive", nil, nil)
	assert.Contains(t, jp.body, "403 AccessDenied reading o03", "the failed object's error is listed")

	// The API's numbers are the stat's.
	var vs []JobView
	require.NoError(t, json.Unmarshal([]byte(d.do(c, "GET", "/api/jobs", nil, nil).body), &vs))
	ss, err := m.Stat("secretive")
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, ss[0].Counters.Verified, vs[0].Counters.Verified)
	assert.Equal(t, int64(7), vs[0].Counters.Verified)
	assert.Equal(t, int64(8), vs[0].ObjectsDone)
	assert.False(t, strings.Contains(jp.body, "srcSecretKey"))
}
