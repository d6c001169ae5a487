package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// `ferry master --http-listen` serves health and metrics, ready once its
// jobs are restored, and stops with the master.
func TestMasterHTTPListen(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errOut syncBuf
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string {
		return map[string]string{"FERRY_TOKEN": goodToken}[k]
	}}
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, e, []string{"master", "--insecure", "--listen", "127.0.0.1:0",
			"--data-dir", filepath.Join(t.TempDir(), "data"), "--http-listen", "127.0.0.1:0", "--log-format", "json"})
	}()
	re := regexp.MustCompile(`metrics and health on http://(\S+) `)
	var addr string
	require.Eventually(t, func() bool {
		if m := re.FindStringSubmatch(errOut.String()); m != nil {
			addr = m[1]
			return true
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, errOut.String())

	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool { code, _ := get("/readyz"); return code == 200 }, 10*time.Second, 10*time.Millisecond)
	code, body := get("/healthz")
	assert.Equal(t, 200, code)
	assert.Equal(t, "ok\n", body)
	code, body = get("/metrics")
	assert.Equal(t, 200, code)
	assert.Contains(t, body, "ferry_workers 0")
	assert.Contains(t, body, "go_goroutines")

	cancel()
	assert.Equal(t, exitOK, <-done)
	_, err := http.Get("http://" + addr + "/healthz")
	assert.Error(t, err, "the HTTP side stops with the master")
	assert.NotContains(t, errOut.String(), goodToken)
}

// An address already in use is refused at start, naming the flag.
func TestHTTPListenInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	vars := map[string]string{"FERRY_TOKEN": goodToken}
	for _, args := range [][]string{
		{"master", "--insecure", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(t.TempDir(), "d"), "--http-listen", l.Addr().String()},
		{"worker", "--master", "127.0.0.1:1", "--insecure", "--http-listen", l.Addr().String()},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out, errOut syncBuf
			e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
			assert.Equal(t, exitError, dispatch(t.Context(), e, args))
			assert.Contains(t, errOut.String(), "--http-listen "+l.Addr().String())
		})
	}
}
