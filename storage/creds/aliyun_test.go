package creds

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/credentials-go/credentials/providers"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// fakeAliyun is a provider of Alibaba's library: its interface is what
// the adapter depends on.
type fakeAliyun struct {
	creds *providers.Credentials
	err   error
	calls int
}

func (f *fakeAliyun) GetCredentials() (*providers.Credentials, error) {
	f.calls++
	return f.creds, f.err
}
func (f *fakeAliyun) GetProviderName() string { return "fake" }

func TestAliyunAdapter(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeAliyun{creds: &providers.Credentials{AccessKeyId: "STS.id", AccessKeySecret: "sec", SecurityToken: "tok"}}
	a := &aliyun{p: f, name: "ecs-ram-role", now: func() time.Time { return now }}
	c, err := a.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "STS.id", c.AccessKeyID)
	assert.Equal(t, "sec", c.SecretAccessKey)
	assert.Equal(t, "tok", c.SessionToken)
	assert.True(t, c.CanExpire)
	assert.Equal(t, now.Add(aliyunRecheck), c.Expires, "asked again within the library's own refresh window")

	f.err = errors.New("connect: no route to host")
	_, err = a.Retrieve(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ecs-ram-role credentials")
	assert.True(t, storage.IsRetryable(err))

	f.err, f.creds = nil, &providers.Credentials{}
	_, err = a.Retrieve(t.Context())
	assert.ErrorContains(t, err, "no access key")
}

// fakeIMDS answers as Alibaba's ECS metadata service does, for requests
// sent to it as an HTTP proxy (the library addresses 100.100.100.200 and
// takes a proxy setting). Each credentials answer is a new key.
func fakeIMDS(t *testing.T, role string) (*httptest.Server, *atomic.Int32) {
	var issued atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Host != "100.100.100.200" {
			http.Error(w, "not the metadata service", http.StatusBadGateway)
			return
		}
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			_, _ = fmt.Fprint(w, "imds-session-token")
		case r.Header.Get("X-Aliyun-Ecs-Metadata-Token") != "imds-session-token":
			http.Error(w, "IMDSv2 token required", http.StatusUnauthorized)
		case r.URL.Path == "/latest/meta-data/ram/security-credentials/":
			_, _ = fmt.Fprint(w, role)
		case r.URL.Path == "/latest/meta-data/ram/security-credentials/"+role:
			n := issued.Add(1)
			_, _ = fmt.Fprintf(w, `{"Code":"Success","AccessKeyId":"STS.ecs%d","AccessKeySecret":"secret%d","SecurityToken":"token%d","Expiration":%q,"LastUpdated":%q}`,
				n, n, n, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &issued
}

// ECS RAM role through the library against a fake metadata service: the
// role is discovered, IMDSv2 is used, and the library's cached answer is
// served until it nears expiry.
func TestECSRAMRoleAgainstFakeMetadataService(t *testing.T) {
	srv, issued := fakeIMDS(t, "ferry-role")
	a, err := newAliyun(Spec{Kind: KindECSRAMRole}, Options{}, &providers.HttpOptions{Proxy: srv.URL})
	require.NoError(t, err)
	p := newCache(a)
	c, err := p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "STS.ecs1", c.AccessKeyID)
	assert.Equal(t, "token1", c.SessionToken)
	p.Invalidate()
	c, err = p.Retrieve(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "STS.ecs1", c.AccessKeyID, "an hour-long token is reused by the library")
	assert.EqualValues(t, 1, issued.Load())

	// A named role that the service does not know: a retryable error.
	a, err = newAliyun(Spec{Kind: KindECSRAMRole, Arg: "other"}, Options{}, &providers.HttpOptions{Proxy: srv.URL})
	require.NoError(t, err)
	_, err = a.Retrieve(t.Context())
	require.Error(t, err)
	assert.True(t, storage.IsRetryable(err))
}

// RRSA and AssumeRole need Alibaba's STS: only their construction is
// checked here (what is missing is named).
func TestAliyunBuilders(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ROLE_ARN", "")
	t.Setenv("ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "")
	t.Setenv("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "")
	_, err := New(t.Context(), Spec{Kind: KindRRSA}, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "credentials rrsa")

	p, err := New(t.Context(), Spec{Kind: KindAssumeRole, Arg: "acs:ram::1:role/ferry"}, Options{AccessKey: "LTAIkey", SecretKey: "s"})
	require.NoError(t, err)
	assert.NotNil(t, p)
}
