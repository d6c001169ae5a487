package server

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
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
