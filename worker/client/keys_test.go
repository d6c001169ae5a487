package client

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	pb "github.com/ferry-migrate/ferry/proto/ferrypb"
)

// s3JobConfig is a job between two S3 buckets signing with the given key
// pair (no server is contacted: building a copier does not).
func s3JobConfig(job, id, secret string) string {
	return fmt.Sprintf("jobName=%s\nsrcType=s3\nsrcDomain=https://s3.example.test\nsrcBucket=a\nsrcAccessKey=%s\nsrcSecretKey=%s\n"+
		"destType=s3\ndestDomain=https://s3.example.test\ndestBucket=b\ndestAccessKey=%s\ndestSecretKey=%s\n", job, id, secret, id, secret)
}

// A heartbeat naming another keys generation makes the worker fetch the
// job's config again and sign with its keys from then on; the same
// generation fetches nothing.
func TestNewKeysReachTheCopier(t *testing.T) {
	f, c, lb := setup(t)
	f.do(func() { f.configs["j"] = s3JobConfig("j", "AKIDOLD000001", "oldsecret") })
	_, err := c.CopierFor(t.Context(), "j")
	require.NoError(t, err)
	e := c.entry("j")
	require.NotNil(t, e.srcKeys)
	require.NotNil(t, e.dstKeys)
	creds, err := e.srcKeys.Provider().Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "AKIDOLD000001", creds.AccessKeyID)

	f.do(func() {
		f.configs["j"] = s3JobConfig("j", "AKIDNEW000002", "newsecret")
		f.keysGens["j"] = 1
		f.throttles = []*pb.Throttle{{Job: "j", KeysGeneration: 1}}
	})
	var before int
	f.do(func() { before = f.getJobs })
	_, err = c.Renew(t.Context(), "w1", nil)
	require.NoError(t, err)
	for _, h := range []struct {
		name string
		get  func() (string, error)
	}{
		{"src", func() (string, error) {
			c, err := e.srcKeys.Provider().Retrieve(t.Context())
			return c.AccessKeyID, err
		}},
		{"dest", func() (string, error) {
			c, err := e.dstKeys.Provider().Retrieve(t.Context())
			return c.AccessKeyID, err
		}},
	} {
		id, err := h.get()
		require.NoError(t, err)
		assert.Equal(t, "AKIDNEW000002", id, h.name)
	}
	_, err = c.Renew(t.Context(), "w1", nil)
	require.NoError(t, err)
	f.do(func() { assert.Equal(t, before+1, f.getJobs, "fetched once per generation") })
	assert.Contains(t, lb.String(), "job keys replaced")
	assert.NotContains(t, lb.String(), "newsecret")
}
