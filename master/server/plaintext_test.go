package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/master"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
	"github.com/ferry-migrate/ferry/tracker"
)

const withKeys = "jobName=k\nsrcType=s3\nsrcDomain=https://127.0.0.1:1\nsrcBucket=b\nsrcAccessKey=AKIDEXAMPLE\n" +
	"srcSecretKey=secret-that-must-not-travel\ndestType=local\ndestPrefix=/tmp/ferry-never-created/\n"

const withoutKeys = "jobName=k\nsrcType=local\nsrcPrefix=/tmp/\ndestType=local\ndestPrefix=/tmp/x/\n"

func TestSecretsOnlyOverTLS(t *testing.T) {
	tlsCtx := peer.NewContext(context.Background(), &peer.Peer{AuthInfo: credentials.TLSInfo{}})
	plain := peer.NewContext(context.Background(), &peer.Peer{})
	cases := []struct {
		name    string
		ctx     context.Context
		text    string
		refused bool
	}{
		{"credentials over TLS", tlsCtx, withKeys, false},
		{"credentials in clear", plain, withKeys, true},
		{"credentials, no peer info", context.Background(), withKeys, true},
		{"no credentials in clear", plain, withoutKeys, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := refuseSecretsInClear(tc.ctx, tc.text, "job.cfg")
			if !tc.refused {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, codes.FailedPrecondition, status.Code(err))
			assert.Contains(t, err.Error(), "not sent in clear text")
			assert.NotContains(t, err.Error(), "secret-that-must-not-travel")
		})
	}
}

// TestInsecureMasterRefusesCredentials: a master run with --insecure will
// not take a job that carries credentials.
func TestInsecureMasterRefusesCredentials(t *testing.T) {
	dir := t.TempDir()
	st, err := tracker.Open(dir, tracker.Options{})
	require.NoError(t, err)
	m, err := master.NewManager(master.ManagerConfig{Store: st, DataDir: dir, Heartbeat: time.Second})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, m.Start(ctx))
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- New(m, nil).Serve(ctx, lis, rpcauth.Config{Token: token, Insecure: true}) }()
	t.Cleanup(func() { cancel(); <-served; m.Close(); st.Close() })

	opts, err := rpcauth.DialOptions(rpcauth.Config{Token: token, Insecure: true})
	require.NoError(t, err)
	conn, err := grpc.NewClient(lis.Addr().String(), opts...)
	require.NoError(t, err)
	defer conn.Close()
	_, err = pb.NewAdminServiceClient(conn).Submit(t.Context(), &pb.SubmitRequest{Config: withKeys, ConfigName: "job.cfg"})
	require.Error(t, err)
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	stats, err := m.Stat("")
	require.NoError(t, err)
	assert.Empty(t, stats, "nothing was stored")
}
