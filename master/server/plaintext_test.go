package server_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ferry-migrate/ferry/internal/rpcauth"
	"github.com/ferry-migrate/ferry/internal/testkit/testmaster"
	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// TestInsecureMasterRefusesCredentials: a master run with --insecure will
// not take a job that carries credentials.
func TestInsecureMasterRefusesCredentials(t *testing.T) {
	tm := testmaster.Start(t, "", rpcauth.Config{Token: token, Insecure: true})

	opts, err := rpcauth.DialOptions(rpcauth.Config{Token: token, Insecure: true})
	require.NoError(t, err)
	conn, err := grpc.NewClient(tm.Addr, opts...)
	require.NoError(t, err)
	defer conn.Close()
	_, err = pb.NewAdminServiceClient(conn).Submit(t.Context(), &pb.SubmitRequest{Config: "jobName=k\nsrcType=s3\nsrcDomain=https://127.0.0.1:1\nsrcBucket=b\nsrcAccessKey=AKIDEXAMPLE\n" +
		"srcSecretKey=secret\ndestType=local\ndestPrefix=/tmp/ferry-never-created/\n", ConfigName: "job.cfg"})
	require.Error(t, err)
	assert.Equal(t, codes.FailedPrecondition, status.Code(err))
	stats, err := tm.Manager.Stat("")
	require.NoError(t, err)
	assert.Empty(t, stats, "nothing was stored")
}
