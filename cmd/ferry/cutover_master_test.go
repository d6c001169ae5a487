package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/cutover"
	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/master"
)

// `ferry cutover --master`: start submits the full copy and returns;
// while it runs (no worker here) status says so, switch waits for it and
// finish has no pass up to T2 to report on.
func TestCutoverOnAMaster(t *testing.T) {
	cert := testserver.NewCert(t)
	m := testmaster.Start(t, "", rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: goodToken})
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "a"), []byte("a"), 0o600))
	cfg := filepath.Join(t.TempDir(), "cut.cfg")
	writeCfg := func(extra string) {
		require.NoError(t, os.WriteFile(cfg, []byte(strings.Join([]string{"jobName=cut", "srcType=local", "srcPrefix=" + src + "/",
			"destType=local", "destPrefix=" + t.TempDir() + "/", extra}, "\n")+"\n"), 0o600))
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
			return map[string]string{"FERRY_TOKEN": goodToken, "FERRY_MASTER": m.Addr, "FERRY_TLS_CA": cert.CertFile}[k]
		}}
		code := dispatch(context.Background(), e, append([]string{"cutover"}, args...))
		return code, out.String(), errOut.String()
	}

	writeCfg("overwritePolicy=always")
	code, _, stderr := run("start", cfg)
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "overwritePolicy=always can replace", "refused before the config leaves this machine")
	_, err := os.Stat(cutover.Path(m.DataDir, "cut"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	writeCfg("")
	code, stdout, stderr := run("start", cfg)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "note: started pass 1")
	assert.Contains(t, stdout, "Cutover of job cut on master "+m.Addr+": phase copying")
	assert.Contains(t, stdout, "NEXT: wait: pass 1 still runs on the master; ferry cutover status --master "+m.Addr+" cut")
	_, err = os.Stat(cutover.Path(m.DataDir, "cut"))
	require.NoError(t, err, "the state is the master's")

	code, stdout, _ = run("status", "cut")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "Cutover of job cut: phase copying")
	assert.Contains(t, stdout, "pass 1 still runs on the master")

	code, _, stderr = run("switch", "cut", "--at", "1714525200")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "pass 1 is still running")
	code, _, stderr = run("finish", "cut")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "no pass up to T2 has run")
	code, _, stderr = run("status", "nosuch")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, `no cutover for job "nosuch"`)

	// The full copy ends on the master while nobody watches: status then
	// shows the operator's switch steps, naming the master.
	require.NoError(t, m.Manager.Register(context.Background(), master.Registration{Worker: "w", Concurrency: 4}))
	require.Eventually(t, func() bool {
		testmaster.WorkOnce(t, m.Manager, nil)
		_, stdout, _ := run("status", "cut")
		return strings.Contains(stdout, "phase copied")
	}, 10*time.Second, 5*time.Millisecond)
	code, stdout, _ = run("status", "cut")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "Enable mirroring back-to-origin on the destination bucket")
	assert.Contains(t, stdout, "4. Run: ferry cutover switch --master "+m.Addr+" cut --at T2")
}
