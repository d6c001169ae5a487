package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// remoteFlags are the flags of a command that can talk to a master.
type remoteFlags struct {
	master, ca, cert, key, serverName, tokenFile *string
	insecure                                     *bool
}

func addRemoteFlags(fs *flag.FlagSet, e *env) remoteFlags {
	return remoteFlags{
		master:     fs.String("master", e.getenv("FERRY_MASTER"), "master address host:port (env FERRY_MASTER); without it, the local --data-dir is used"),
		ca:         fs.String("tls-ca", e.getenv("FERRY_TLS_CA"), "CA certificate that signed the master's (env FERRY_TLS_CA; empty: system roots)"),
		cert:       fs.String("tls-cert", "", "client certificate, when the master requires one"),
		key:        fs.String("tls-key", "", "client certificate key"),
		serverName: fs.String("server-name", "", "name to verify in the master's certificate (default: the host in --master)"),
		tokenFile:  fs.String("token-file", e.getenv("FERRY_TOKEN_FILE"), "file holding the cluster token (else $FERRY_TOKEN)"),
		insecure:   fs.Bool("insecure", false, "talk to the master without TLS (throwaway test clusters only)"),
	}
}

func (r remoteFlags) set() bool { return *r.master != "" }

// admin dials the master's admin service.
func (r remoteFlags) admin(e *env) (pb.AdminServiceClient, func(), error) {
	tok, err := rpcauth.LoadToken(*r.tokenFile, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	opts, err := rpcauth.DialOptions(rpcauth.Config{CAFile: *r.ca, CertFile: *r.cert, KeyFile: *r.key,
		ServerName: *r.serverName, Token: tok, Insecure: *r.insecure})
	if err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(*r.master, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("master %s: %w", *r.master, err)
	}
	return pb.NewAdminServiceClient(conn), func() { conn.Close() }, nil
}

// adminCall dials the master and makes one admin call, bounded in time;
// a failure comes back in an operator's words (see rpcErr).
func adminCall[T any](ctx context.Context, e *env, rf remoteFlags, f func(context.Context, pb.AdminServiceClient) (T, error)) (T, error) {
	var zero T
	c, done, err := rf.admin(e)
	if err != nil {
		return zero, err
	}
	defer done()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := f(ctx, c)
	if err != nil {
		return zero, rpcErr(*rf.master, err)
	}
	return v, nil
}

// rpcErr turns a gRPC status into a message for an operator.
func rpcErr(master string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unauthenticated:
		return fmt.Errorf("master %s refused our cluster token (check --token-file / FERRY_TOKEN)", master)
	case codes.Unavailable:
		return fmt.Errorf("master %s unreachable: %s", master, st.Message())
	default:
		return fmt.Errorf("master %s: %s", master, st.Message())
	}
}
