package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/admin"
	"github.com/ferry-migrate/ferry/admin/remote"
	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/master"
)

// work is a worker made of Manager calls: it leases and reports every
// object verified until the cutover's pass has ended.
func work(t *testing.T, ctx context.Context, m *master.Manager, c admin.Client, job string) master.CutoverRun {
	t.Helper()
	require.NoError(t, m.Register(ctx, master.Registration{Worker: "w", Concurrency: 4}))
	var r master.CutoverRun
	require.Eventually(t, func() bool {
		testmaster.WorkOnce(t, m, nil)
		var err error
		r, err = c.CutoverStatus(ctx, job)
		require.NoError(t, err)
		return !r.Running
	}, 10*time.Second, 5*time.Millisecond)
	return r
}

// The guided cutover through a master over gRPC: start (T1, the full copy
// runs in the background), status until it ends, switch --at T2, status
// until that pass ends, finish. (The master's own test checks the report
// says "still running" meanwhile.)
func TestCutoverThroughAMaster(t *testing.T) {
	ctx := t.Context()
	cert := testserver.NewCert(t)
	m := testmaster.Start(t, "", rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: token})
	c, err := remote.Dial(m.Addr, rpcauth.Config{CAFile: cert.CertFile, Token: token}, 10*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	cfg := testmaster.LocalJob(t, "cut", 6)
	// The source objects date from before T1, as in a real cutover.
	src := strings.TrimPrefix(regexp.MustCompile(`srcPrefix=(.*)`).FindString(cfg), "srcPrefix=")
	hourAgo := time.Now().Add(-time.Hour)
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		require.NoError(t, os.Chtimes(filepath.Join(src, e.Name()), hourAgo, hourAgo))
	}

	_, err = c.CutoverStatus(ctx, "cut")
	assert.ErrorIs(t, err, master.ErrUnknownJob)
	_, _, err = c.CutoverStart(ctx, cfg+"overwritePolicy=always\n", "cut.cfg")
	assert.ErrorContains(t, err, "overwritePolicy=always can replace")

	r, notes, err := c.CutoverStart(ctx, cfg, "cut.cfg")
	require.NoError(t, err)
	assert.Contains(t, notes, "started pass 1")
	assert.True(t, r.Running)
	assert.Equal(t, cutover.PhaseCopying, r.Phase)
	_, err = os.Stat(cutover.Path(m.DataDir, "cut"))
	require.NoError(t, err, "the state lives with the master")
	_, err = c.CutoverReport(ctx, "cut", 0)
	assert.ErrorContains(t, err, "no pass up to T2 has run")

	r = work(t, ctx, m.Manager, c, "cut")
	assert.Equal(t, cutover.PhaseCopied, r.Phase)

	// T2 must be after T1 (whole seconds) and not in the future: wait
	// for the clock to pass it.
	at := strconv.FormatInt(r.T1.Unix()+1, 10)
	require.Eventually(t, func() bool { return !time.Now().Before(r.T1.Add(time.Second)) }, 3*time.Second, 10*time.Millisecond)
	_, _, err = c.CutoverSwitch(ctx, "cut", "")
	assert.ErrorContains(t, err, "give T2")
	r, _, err = c.CutoverSwitch(ctx, "cut", at)
	require.NoError(t, err)
	assert.Equal(t, cutover.PhaseSwitching, r.Phase)
	assert.Equal(t, uint64(2), r.SwitchPass)

	r = work(t, ctx, m.Manager, c, "cut")
	assert.Equal(t, cutover.PhaseSwitched, r.Phase)
	rep, err := c.CutoverReport(ctx, "cut", 0)
	require.NoError(t, err)
	assert.True(t, rep.OK, "%+v", rep)
	assert.Equal(t, int64(6), rep.Copied)
	assert.Equal(t, uint64(2), rep.Pass)
	assert.True(t, rep.T2.Equal(r.T1.Add(time.Second)))

	_, _, err = c.CutoverSwitch(ctx, "cut", strconv.FormatInt(r.T1.Unix()+2, 10))
	assert.Error(t, err, "T2 is recorded once")
}

// Locally, a pass runs in `ferry cutover`'s own process, not through a
// Client; status and report read the data dir.
func TestLocalCutover(t *testing.T) {
	ctx := t.Context()
	l := admin.NewLocal(t.TempDir())
	_, _, err := l.CutoverStart(ctx, "", "j.cfg")
	assert.ErrorIs(t, err, admin.ErrNeedsMaster)
	_, _, err = l.CutoverSwitch(ctx, "j", "")
	assert.ErrorIs(t, err, admin.ErrNeedsMaster)
	_, err = l.CutoverStatus(ctx, "j")
	assert.ErrorIs(t, err, master.ErrUnknownJob)
	assert.ErrorContains(t, err, "ferry cutover start")
	_, err = l.CutoverReport(ctx, "j", 0)
	assert.ErrorIs(t, err, master.ErrUnknownJob)

	require.NoError(t, cutover.Save(l.DataDir, &cutover.State{Job: "j", Phase: cutover.PhaseCopied, FullPass: 1}))
	r, err := l.CutoverStatus(ctx, "j")
	require.NoError(t, err)
	assert.Equal(t, cutover.PhaseCopied, r.Phase)
	assert.False(t, r.Running)
	_, err = l.CutoverReport(ctx, "j", 0)
	assert.ErrorIs(t, err, cutover.ErrPhase, "no pass up to T2 yet")
}
