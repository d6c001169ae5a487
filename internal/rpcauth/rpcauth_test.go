package rpcauth

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

const token = "0123456789abcdef-cluster-token"

// serve starts a gRPC server (the health service stands in for ferry's)
// with the given security and returns its address and log.
func serve(t *testing.T, c Config) (string, *bytes.Buffer) {
	t.Helper()
	var logBuf bytes.Buffer
	opts, err := ServerOptions(c, slog.New(slog.NewTextHandler(&logBuf, nil)))
	require.NoError(t, err)
	s := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = s.Serve(l) }()
	t.Cleanup(s.Stop)
	return l.Addr().String(), &logBuf
}

func call(t *testing.T, addr string, opts ...grpc.DialOption) error {
	t.Helper()
	conn, err := grpc.NewClient(addr, opts...)
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	return err
}

func TestTokenAndTLS(t *testing.T) {
	cert := testserver.NewCert(t)
	addr, log := serve(t, Config{CertFile: cert.CertFile, KeyFile: cert.KeyFile, Token: token})
	good := Config{CAFile: cert.CertFile, Token: token, ServerName: "localhost"}
	opts, err := DialOptions(good)
	require.NoError(t, err)
	require.NoError(t, call(t, addr, opts...), "right token over TLS")

	cases := []struct {
		name string
		opts func() []grpc.DialOption
		code codes.Code
	}{
		{"wrong token", func() []grpc.DialOption {
			c := good
			c.Token = "not-the-cluster-token-at-all"
			o, _ := DialOptions(c)
			return o
		}, codes.Unauthenticated},
		{"no token", func() []grpc.DialOption {
			o, _ := DialOptions(good)
			return o[:1] // TLS only
		}, codes.Unauthenticated},
		{"plaintext to a TLS master", func() []grpc.DialOption {
			return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
		}, codes.Unavailable},
		{"untrusted master certificate", func() []grpc.DialOption {
			c := good
			c.CAFile = ""
			o, _ := DialOptions(c)
			return o
		}, codes.Unavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := call(t, addr, tc.opts()...)
			require.Error(t, err)
			assert.Equal(t, tc.code, status.Code(err), "%v", err)
		})
	}
	assert.Contains(t, log.String(), "wrong token")
	assert.Contains(t, log.String(), "no token")
	assert.NotContains(t, log.String(), "not-the-cluster-token-at-all", "a refused token is never logged")
	assert.NotContains(t, log.String(), token)
}

func TestMutualTLS(t *testing.T) {
	srv, client := testserver.NewCert(t), testserver.NewCert(t)
	addr, _ := serve(t, Config{CertFile: srv.CertFile, KeyFile: srv.KeyFile, CAFile: client.CertFile, Token: token})
	base := Config{CAFile: srv.CertFile, Token: token, ServerName: "localhost"}
	opts, err := DialOptions(base)
	require.NoError(t, err)
	assert.Error(t, call(t, addr, opts...), "no client certificate: refused")
	withCert := base
	withCert.CertFile, withCert.KeyFile = client.CertFile, client.KeyFile
	opts, err = DialOptions(withCert)
	require.NoError(t, err)
	assert.NoError(t, call(t, addr, opts...))
}

func TestInsecureNeedsSayingSo(t *testing.T) {
	_, err := ServerOptions(Config{Token: token}, nil)
	assert.ErrorContains(t, err, "--insecure")
	var logBuf bytes.Buffer
	_, err = ServerOptions(Config{Token: token, Insecure: true}, slog.New(slog.NewTextHandler(&logBuf, nil)))
	require.NoError(t, err)
	assert.Contains(t, logBuf.String(), "INSECURE")
	addr, _ := serve(t, Config{Token: token, Insecure: true})
	opts, err := DialOptions(Config{Token: token, Insecure: true})
	require.NoError(t, err)
	assert.NoError(t, call(t, addr, opts...))
}

func TestLoadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	env := func(v string) func(string) string { return func(string) string { return v } }
	cases := []struct {
		name, file, env, want, err string
	}{
		{name: "file", file: write("ok", "  "+token+"\n"), want: token},
		{name: "env", env: token, want: token},
		{name: "file wins", file: write("ok2", token), env: "other-token-from-env", want: token},
		{name: "nothing", err: "FERRY_TOKEN"},
		{name: "short", env: "short", err: "at least 16"},
		{name: "empty file", file: write("empty", "\n"), err: "is empty"},
		{name: "missing file", file: filepath.Join(dir, "nope"), err: "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadToken(tc.file, env(tc.env))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
