// Package rpcauth secures the master's gRPC endpoint: TLS on every
// connection (client certificates optional) and a shared cluster token
// checked on every call. Master and worker edges both use it; nothing else
// in ferry knows about transport security.
package rpcauth

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// MinTokenLen keeps guessable tokens out: 16 bytes of anything.
const MinTokenLen = 16

// Config is one side's security settings.
type Config struct {
	// CertFile/KeyFile: the server's certificate (master), or the client's
	// certificate for mutual TLS (worker, optional).
	CertFile, KeyFile string
	// CAFile: on the master, CAs that sign client certificates (setting it
	// makes client certificates required); on a worker, CAs that sign the
	// master's certificate (empty: the system's).
	CAFile string
	// ServerName overrides the name a worker checks the master's
	// certificate against (default: the host of the address dialled).
	ServerName string
	// Token is the shared cluster token (see LoadToken).
	Token string
	// Insecure runs without TLS. It exists for throwaway test clusters;
	// the token then crosses the network in clear text.
	Insecure bool
}

// LoadToken reads the token from file (surrounding white space removed)
// or, when file is empty, from $FERRY_TOKEN.
func LoadToken(file string, getenv func(string) string) (string, error) {
	var tok string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("cluster token: %w", err)
		}
		tok = strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("cluster token file %s is empty", file)
		}
	default:
		tok = strings.TrimSpace(getenv("FERRY_TOKEN"))
		if tok == "" {
			return "", errors.New("no cluster token: give --token-file FILE or set FERRY_TOKEN (the same on master and workers)")
		}
	}
	if len(tok) < MinTokenLen {
		return "", fmt.Errorf("cluster token is %d characters; use at least %d (e.g. `openssl rand -hex 32`)", len(tok), MinTokenLen)
	}
	return tok, nil
}

// ServerOptions returns the gRPC server options: TLS credentials and the
// token check on every unary and streaming call. Refused calls are logged
// with the peer and method, never with what the peer sent.
func ServerOptions(c Config, log *slog.Logger) ([]grpc.ServerOption, error) {
	if c.Token == "" {
		return nil, errors.New("server: no cluster token")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	chk := &checker{want: []byte("Bearer " + c.Token), log: log}
	opts := []grpc.ServerOption{grpc.ChainUnaryInterceptor(chk.unary), grpc.ChainStreamInterceptor(chk.stream)}
	if c.Insecure {
		log.Warn("INSECURE: the master accepts plaintext connections; the cluster token and job credentials cross the network unencrypted")
		return opts, nil
	}
	if c.CertFile == "" || c.KeyFile == "" {
		return nil, errors.New("server: TLS needs --tls-cert and --tls-key (or --insecure for a throwaway test cluster)")
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.CAFile != "" {
		pool, err := loadPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		tc.ClientCAs, tc.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return append(opts, grpc.Creds(credentials.NewTLS(tc))), nil
}

// DialOptions returns the options a worker or admin client dials with:
// TLS (verifying the master) and the token on every call.
func DialOptions(c Config) ([]grpc.DialOption, error) {
	if c.Token == "" {
		return nil, errors.New("client: no cluster token")
	}
	tok := tokenCreds{token: c.Token, secure: !c.Insecure}
	if c.Insecure {
		return []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(tok)}, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if c.CAFile != "" {
		pool, err := loadPool(c.CAFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	if c.CertFile != "" || c.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(tc)), grpc.WithPerRPCCredentials(tok)}, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

type tokenCreds struct {
	token  string
	secure bool
}

func (t tokenCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + t.token}, nil
}

func (t tokenCreds) RequireTransportSecurity() bool { return t.secure }

type checker struct {
	want []byte
	log  *slog.Logger
}

func (c *checker) check(ctx context.Context, method string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(v), c.want) == 1 {
			return nil
		}
	}
	addr := "unknown"
	if p, ok := peer.FromContext(ctx); ok {
		addr = p.Addr.String()
	}
	reason := "no token"
	if len(md.Get("authorization")) > 0 {
		reason = "wrong token"
	}
	c.log.Warn("refused RPC", "peer", addr, "method", method, "reason", reason)
	return status.Error(codes.Unauthenticated, "missing or wrong cluster token")
}

func (c *checker) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := c.check(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return h(ctx, req)
}

func (c *checker) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := c.check(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return h(srv, ss)
}
