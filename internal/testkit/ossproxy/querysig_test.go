package ossproxy

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage/httplist"
)

func TestQueryStringSignatures(t *testing.T) {
	e := newEnv(t)
	body := []byte("behind a signature")
	put(t, e.client(), "dir/a b.txt", body)
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: e.up.Cert.Pool},
		DialContext:     testserver.LocalhostDialer,
	}}
	base := strings.Replace(e.p.Endpoint, "https://", "https://"+testBucket+".", 1) + "/dir/a%20b.txt"
	do := func(method string, sign func(*http.Request)) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base, nil)
		require.NoError(t, err)
		if sign != nil {
			sign(req)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	signer := httplist.OSSSigner{AccessKey: e.up.AccessKey, SecretKey: e.up.SecretKey}

	t.Run("signed GET and HEAD are served", func(t *testing.T) {
		resp, got := do(http.MethodGet, func(r *http.Request) { signer.Sign(r, time.Now().Add(time.Minute)) })
		require.Equal(t, http.StatusOK, resp.StatusCode, got)
		assert.Equal(t, string(body), got)
		assert.NotEmpty(t, resp.Header.Get("X-Oss-Hash-Crc64ecma"))
		resp, _ = do(http.MethodHead, func(r *http.Request) { signer.Sign(r, time.Now().Add(time.Minute)) })
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	t.Run("STS token is signed as a sub-resource", func(t *testing.T) {
		sts := signer
		sts.SecurityToken = "token/with+odd=chars"
		resp, got := do(http.MethodGet, func(r *http.Request) { sts.Sign(r, time.Now().Add(time.Minute)) })
		assert.Equal(t, http.StatusOK, resp.StatusCode, got)
	})
	cases := []struct {
		name, code, msg string
		sign            func(*http.Request)
	}{
		{"unsigned", "AccessDenied", "", nil},
		{"expired", "AccessDenied", "Request has expired", func(r *http.Request) { signer.Sign(r, time.Now().Add(-time.Second)) }},
		{"wrong secret", "SignatureDoesNotMatch", "", func(r *http.Request) {
			httplist.OSSSigner{AccessKey: e.up.AccessKey, SecretKey: "wrong"}.Sign(r, time.Now().Add(time.Minute))
		}},
		{"unknown key", "InvalidAccessKeyId", "", func(r *http.Request) {
			httplist.OSSSigner{AccessKey: "nobody", SecretKey: "x"}.Sign(r, time.Now().Add(time.Minute))
		}},
		{"tampered path", "SignatureDoesNotMatch", "", func(r *http.Request) {
			signer.Sign(r, time.Now().Add(time.Minute))
			r.URL.Path, r.URL.RawPath = "/dir/other.txt", ""
		}},
		{"missing Expires", "AccessDenied", "", func(r *http.Request) {
			signer.Sign(r, time.Now().Add(time.Minute))
			q := r.URL.Query()
			q.Del("Expires")
			r.URL.RawQuery = q.Encode()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, got := do(http.MethodGet, tc.sign)
			assert.Equal(t, http.StatusForbidden, resp.StatusCode, got)
			assert.Contains(t, got, "<Code>"+tc.code+"</Code>")
			assert.Contains(t, got, tc.msg)
		})
	}
}
