package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

// syncBuf is a bytes.Buffer safe for the worker's log goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func runWorker(ctx context.Context, vars map[string]string, args ...string) (int, string) {
	var out, errOut syncBuf
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }}
	code := dispatch(ctx, e, append([]string{"worker"}, args...))
	return code, errOut.String()
}

const goodToken = "0123456789abcdef-cmd-worker-test"

func TestWorkerBadFlags(t *testing.T) {
	tok := map[string]string{"FERRY_TOKEN": goodToken}
	cases := []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"no master", tok, nil, "--master HOST:PORT is required"},
		{"no token", nil, []string{"--master", "127.0.0.1:1"}, "FERRY_TOKEN"},
		{"concurrency", tok, []string{"--master", "127.0.0.1:1", "--concurrency", "0"}, "--concurrency 0"},
		{"half a client cert", tok, []string{"--master", "127.0.0.1:1", "--tls-cert", "c.pem"}, "go together"},
		{"insecure with a CA", tok, []string{"--master", "127.0.0.1:1", "--insecure", "--tls-ca", "ca.pem"}, "--insecure turns TLS off"},
		{"argument", tok, []string{"--master", "127.0.0.1:1", "job.cfg"}, "takes no arguments"},
		{"unknown flag", tok, []string{"--mastr", "x"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := runWorker(t.Context(), tc.vars, tc.args...)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

// A master that refuses the token: exit 2 at once, saying why, without
// the token.
func TestWorkerTokenRefused(t *testing.T) {
	cert := testserver.NewCert(t)
	addr := testmaster.Start(t, "", rpcauth.Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: "the-masters-own-token-0123"}).Addr
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(goodToken+"\n"), 0o600))

	start := time.Now()
	code, stderr := runWorker(t.Context(), nil, "--master", addr, "--tls-ca", cert.CertFile,
		"--server-name", "localhost", "--token-file", tokenFile, "--name", "w1")
	assert.Equal(t, exitError, code)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Contains(t, stderr, "the master refused our cluster token")
	assert.NotContains(t, stderr, goodToken)
}

// SIGINT while the master is away: a clean stop, exit 0.
func TestWorkerStopsOnSignal(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(500*time.Millisecond, cancel) // what SIGINT does (signal.NotifyContext)
	code, stderr := runWorker(ctx, map[string]string{"FERRY_TOKEN": goodToken}, "--master", addr, "--insecure")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stderr, "INSECURE")
	assert.Contains(t, stderr, "master unreachable, retrying")
	assert.True(t, strings.HasSuffix(strings.TrimSpace(stderr), "ferry worker: stopped"), stderr)
}
