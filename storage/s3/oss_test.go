package s3_test

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/s3"
	"github.com/ferry-migrate/ferry/storage/storagetest"
)

// ossSetup is versitygw behind the OSS look-alike proxy, and a ferry config
// in OSS flavour pointing at the proxy.
func ossSetup(t *testing.T) (*testserver.S3Server, *ossproxy.Proxy, s3.Config) {
	srv := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost", WithUser: true})
	p := ossproxy.Start(t, srv)
	return srv, p, s3.Config{
		Endpoint:    p.Endpoint,
		Region:      srv.Region,
		Flavor:      s3.FlavorOSS,
		AccessKey:   srv.AccessKey,
		SecretKey:   srv.SecretKey,
		CABundle:    srv.Cert.CertFile,
		PageSize:    10,
		DialContext: testserver.LocalhostDialer,
	}
}

// ossConditions: OSS enforces x-oss-forbid-overwrite on put and complete
// (the proxy does, as OSS documents it) and has no if-match on writes.
var ossConditions = storage.Conditions{PutIfAbsent: true, CompleteIfAbsent: true}

// TestConformanceOSSFlavour runs the storage suite through the OSS proxy.
func TestConformanceOSSFlavour(t *testing.T) {
	srv, _, cfg := ossSetup(t)
	h := harness(srv, cfg, ossConditions)
	// versitygw refuses non-last parts under S3's 5 MiB (EntityTooSmall at
	// Complete), even behind the proxy: OSS's 100 KiB cannot be tried here.
	h.StoreMinPart = storage.S3PartLimits().MinPart
	storagetest.Run(t, h)
}

// Each flavour states its service's multipart limits: OSS takes parts
// from 100 KiB and objects to 48.8 TiB, S3 from 5 MiB and to 5 TiB.
func TestPartLimitsByFlavour(t *testing.T) {
	srv, _, cfg := ossSetup(t)
	for _, tc := range []struct {
		cfg  s3.Config
		want storage.PartLimits
	}{
		{cfg, storage.OSSPartLimits()},
		{s3Config(srv), storage.S3PartLimits()},
	} {
		tc.cfg.Bucket = "limits"
		b, err := s3.New(t.Context(), tc.cfg)
		require.NoError(t, err)
		assert.Equal(t, tc.want, storage.LimitsOf(b), "%s", tc.cfg.Flavor)
		assert.Equal(t, tc.want.MinPart, b.MinPartSize())
	}
}

// TestOSSFlavourSurvivesWhereSDKDefaultsFail is the reason the OSS flavour
// exists: with the SDK's default checksum setting, over TLS, every upload is
// an aws-chunked body that OSS refuses; path style is refused too.
func TestOSSFlavourSurvivesWhereSDKDefaultsFail(t *testing.T) {
	srv, p, cfg := ossSetup(t)
	srv.CreateBucket(t, "flavour")
	cfg.Bucket = "flavour"
	ctx := t.Context()
	body := []byte("bytes that must arrive intact")

	t.Run("SDK defaults are rejected", func(t *testing.T) {
		awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(srv.Region),
			config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")))
		require.NoError(t, err)
		client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
			o.BaseEndpoint = aws.String(p.Endpoint)
			o.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
				tr.TLSClientConfig.RootCAs = srv.Cert.Pool
				tr.DialContext = testserver.LocalhostDialer
			})
		})
		_, err = client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("flavour"), Key: aws.String("k"), Body: bytes.NewReader(body)})
		require.Error(t, err, "OSS must refuse the SDK's default aws-chunked upload")
		assert.Contains(t, err.Error(), "InvalidArgument")
		assert.Contains(t, err.Error(), "aws-chunked")
	})
	t.Run("S3 flavour with SDK checksum default is refused, and fatal", func(t *testing.T) {
		c := cfg
		c.Flavor, c.Checksums = s3.FlavorS3, s3.ChecksumWhenSupported
		b, err := s3.New(ctx, c)
		require.NoError(t, err)
		_, err = b.Put(ctx, "k", bytes.NewReader(body), storage.ObjectInfo{Size: int64(len(body))})
		require.ErrorIs(t, err, storage.ErrConfig)
		assert.Equal(t, storage.Fatal, storage.Classify(err))
		assert.Contains(t, err.Error(), "checksums=when_required", "the error says what to change")
	})
	t.Run("path style is refused, and fatal", func(t *testing.T) {
		c := cfg
		c.Flavor, c.PathStyle = s3.FlavorS3, true
		b, err := s3.New(ctx, c)
		require.NoError(t, err)
		err = b.Check(ctx)
		require.ErrorIs(t, err, storage.ErrConfig)
		assert.Equal(t, storage.Fatal, storage.Classify(err))
		assert.Contains(t, err.Error(), "SecondLevelDomainForbidden")
	})
	t.Run("OSS flavour passes and reports CRC64 everywhere", func(t *testing.T) {
		before := len(p.Requests())
		defer func() {
			for _, r := range p.Requests()[before:] {
				assert.NotContains(t, r.Header.Get("Content-Encoding"), "aws-chunked", "the OSS flavour never sends aws-chunked")
				assert.NotContains(t, r.Header.Get("X-Amz-Content-Sha256"), "STREAMING", "the OSS flavour never sends aws-chunked")
			}
		}()
		b, err := s3.New(ctx, cfg)
		require.NoError(t, err)
		require.NoError(t, b.Check(ctx))
		want := crc.Checksum(body)
		res, err := b.Put(ctx, "k", bytes.NewReader(body), storage.ObjectInfo{Size: int64(len(body))})
		require.NoError(t, err)
		assert.True(t, res.HasCRC64, "Put reports CRC64")
		assert.Equal(t, want, res.CRC64)
		assert.Regexp(t, `^[0-9A-F]{32}$`, res.ETag, "OSS ETags are upper case")

		st, err := b.Stat(ctx, "k")
		require.NoError(t, err)
		assert.True(t, st.HasCRC64 && st.CRC64 == want, "Stat reports CRC64")
		rc, info, err := b.Open(ctx, "k", 3, 5)
		require.NoError(t, err)
		rc.Close()
		assert.True(t, info.HasCRC64 && info.CRC64 == want, "ranged Open reports whole-object CRC64")
		assert.Equal(t, int64(len(body)), info.Size)

		var listed []storage.ObjectInfo
		require.NoError(t, b.List(ctx, "", "", func(o storage.ObjectInfo) error { listed = append(listed, o); return nil }))
		require.Len(t, listed, 1)
		assert.True(t, storage.ETagEqual(res.ETag, listed[0].ETag), "ETags compare case-insensitively")

		m := b
		data := bytes.Repeat([]byte("0123456789abcdef"), 700<<10) // 11.2 MiB: 3 parts
		u, err := m.CreateUpload(ctx, "mp", storage.ObjectInfo{})
		require.NoError(t, err)
		var parts []storage.Part
		ps := storage.S3PartLimits().MinPart // versitygw's minimum, not OSS's
		for n, off := 1, int64(0); off < int64(len(data)); n, off = n+1, off+ps {
			chunk := data[off:min(off+ps, int64(len(data)))]
			part, err := m.UploadPart(ctx, u, n, bytes.NewReader(chunk), int64(len(chunk)))
			require.NoError(t, err)
			assert.True(t, part.HasCRC64 && part.CRC64 == crc.Checksum(chunk), "part %d CRC64", n)
			parts = append(parts, part)
		}
		done, err := m.CompleteUpload(ctx, u, parts)
		require.NoError(t, err)
		assert.True(t, done.HasCRC64 && done.CRC64 == crc.Checksum(data), "Complete reports the combined CRC64")
	})
}
