package s3_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/s3"
)

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name string
		cfg  s3.Config
		want string
	}{
		{"no bucket", s3.Config{Endpoint: "https://x"}, "bucket is empty"},
		{"endpoint not a URL", s3.Config{Bucket: "b", Endpoint: "s3.example.com"}, `endpoint "s3.example.com" is not a URL`},
		{"endpoint with path", s3.Config{Bucket: "b", Endpoint: "https://h/bucket"}, "has a path"},
		{"unknown flavour", s3.Config{Bucket: "b", Flavor: "gcs"}, `flavor "gcs" unknown`},
		{"OSS path style", s3.Config{Bucket: "b", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", PathStyle: true}, "SecondLevelDomainForbidden"},
		{"OSS without endpoint", s3.Config{Bucket: "b", Flavor: s3.FlavorOSS}, "needs an endpoint"},
		{"OSS with aws-chunked", s3.Config{Bucket: "b", Endpoint: "https://s3.oss-cn-beijing.aliyuncs.com", Checksums: s3.ChecksumWhenSupported}, "OSS rejects"},
		{"unknown checksum mode", s3.Config{Bucket: "b", Checksums: "sometimes"}, `checksums "sometimes" unknown`},
		{"page size", s3.Config{Bucket: "b", PageSize: 5000}, "page size 5000"},
		{"half credentials", s3.Config{Bucket: "b", AccessKey: "AK"}, "access key and secret key must be given together"},
		{"missing CA bundle", s3.Config{Bucket: "b", AccessKey: "a", SecretKey: "s", CABundle: "/nonexistent/ca.pem"}, "/nonexistent/ca.pem"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s3.New(t.Context(), tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestFlavorAndRegionDetection(t *testing.T) {
	cases := []struct {
		endpoint string
		flavor   s3.Flavor
	}{
		{"https://s3.oss-cn-hangzhou.aliyuncs.com", s3.FlavorOSS},
		{"https://oss-cn-shanghai-internal.aliyuncs.com", s3.FlavorOSS},
		{"https://s3.ap-northeast-1.amazonaws.com", s3.FlavorS3},
		{"https://minio.internal:9000", s3.FlavorS3},
	}
	for _, tc := range cases {
		b, err := s3.New(t.Context(), s3.Config{Endpoint: tc.endpoint, Bucket: "b", AccessKey: "a", SecretKey: "s"})
		require.NoError(t, err, tc.endpoint)
		assert.Equal(t, tc.flavor, b.Flavor(), tc.endpoint)
		assert.Contains(t, b.String(), tc.endpoint)
	}
}

// TestBadInputErrors: each mistake an operator can make gives an error that
// names the bucket/endpoint/key and the cause, classified so the job stops
// (fatal) or skips the object (permanent) instead of retrying forever.
func TestBadInputErrors(t *testing.T) {
	srv := testserver.Versitygw(t, testserver.Options{})
	srv.CreateBucket(t, "present")
	notS3 := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>nothing here</html>", http.StatusNotFound)
	}))
	t.Cleanup(notS3.Close)

	good := s3Config(srv)
	good.Bucket = "present"
	with := func(f func(c *s3.Config)) s3.Config { c := good; f(&c); return c }
	cases := []struct {
		name     string
		cfg      s3.Config
		class    storage.Class
		sentinel error
		mentions []string
	}{
		{"bad secret", with(func(c *s3.Config) { c.SecretKey = "wrong-secret-value" }), storage.Fatal, storage.ErrAuth,
			[]string{`"present"`, srv.Endpoint, "SignatureDoesNotMatch"}},
		{"unknown access key", with(func(c *s3.Config) { c.AccessKey = "nobody" }), storage.Fatal, storage.ErrAuth,
			[]string{`"present"`, "InvalidAccessKeyId"}},
		{"missing bucket", with(func(c *s3.Config) { c.Bucket = "absent" }), storage.Fatal, storage.ErrBucketNotFound,
			[]string{`"absent"`, "NoSuchBucket"}},
		{"unknown host", with(func(c *s3.Config) { c.Endpoint = "https://no-such-host.invalid" }), storage.Fatal, nil,
			[]string{"no-such-host.invalid"}},
		{"nothing listening", with(func(c *s3.Config) { c.Endpoint = "https://127.0.0.1:1" }), storage.Retryable, nil,
			[]string{"127.0.0.1:1", "connection refused"}},
		{"untrusted certificate", with(func(c *s3.Config) { c.CABundle = ""; c.Endpoint = notS3.URL }), storage.Fatal, nil,
			[]string{notS3.URL, "certificate"}},
		{"not an S3 endpoint", with(func(c *s3.Config) { c.CABundle = writeCA(t, notS3); c.Endpoint = notS3.URL }), storage.Fatal, storage.ErrBucketNotFound,
			[]string{notS3.URL, "not an S3 endpoint"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_CA_BUNDLE", "")
			b, err := s3.New(t.Context(), tc.cfg)
			require.NoError(t, err)
			err = b.Check(t.Context())
			require.Error(t, err)
			assert.Equal(t, tc.class, storage.Classify(err), "class of %v", err)
			if tc.sentinel != nil {
				assert.ErrorIs(t, err, tc.sentinel)
			}
			for _, m := range tc.mentions {
				assert.Contains(t, err.Error(), m)
			}
			assert.NotContains(t, err.Error(), tc.cfg.SecretKey, "secret never in errors")
			assert.NotContains(t, b.String(), tc.cfg.SecretKey)
		})
	}
	t.Run("good config passes Check", func(t *testing.T) {
		b, err := s3.New(t.Context(), good)
		require.NoError(t, err)
		require.NoError(t, b.Check(t.Context()))
	})
	t.Run("OSS forbids a leading slash", func(t *testing.T) {
		c := with(func(c *s3.Config) { c.Flavor = s3.FlavorOSS; c.PathStyle = false })
		b, err := s3.New(t.Context(), c)
		require.NoError(t, err)
		_, err = b.Put(t.Context(), "/abs/key", strings.NewReader("x"), storage.ObjectInfo{Size: 1})
		require.ErrorIs(t, err, storage.ErrInvalidKey)
		assert.Equal(t, storage.Permanent, storage.Classify(err))
		assert.Contains(t, err.Error(), `"/abs/key"`)
		assert.Contains(t, err.Error(), "OSS forbids")
	})
}

func writeCA(t *testing.T, s *httptest.Server) string {
	t.Helper()
	path := t.TempDir() + "/ca.pem"
	require.NoError(t, writePEM(path, s.Certificate().Raw))
	return path
}
