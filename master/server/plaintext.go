package server

import (
	"context"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/conf"
)

// overTLS reports whether the call came over a TLS connection. It is asked
// per call, not from the server's settings, so the rule holds whatever a
// future listener looks like.
func overTLS(ctx context.Context) bool {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return false
	}
	_, ok = p.AuthInfo.(credentials.TLSInfo)
	return ok
}

// refuseSecretsInClear enforces that job credentials travel only over TLS:
// on a plaintext connection (a master run with --insecure) a config that
// carries credentials is neither accepted nor handed out. Such clusters
// take credentials from the workers' environment instead.
func refuseSecretsInClear(ctx context.Context, text, name string) error {
	if overTLS(ctx) {
		return nil
	}
	j, err := conf.Parse(strings.NewReader(text), name)
	if err != nil || !j.HasCredentials() {
		return nil // parse errors are reported by the caller; no secrets, nothing to protect
	}
	return status.Error(codes.FailedPrecondition, "this connection is not TLS (master run with --insecure): job credentials "+
		"are not sent in clear text; remove the access keys from the job and give the master and workers "+
		"OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET or AWS_* environment variables instead")
}
