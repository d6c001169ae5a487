package ossproxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// upperETag is a quoted single-part (MD5) or multipart ETag, upper-case.
var upperETag = regexp.MustCompile(`^"[0-9A-F]{32}(-[0-9]+)?"$`)

// TestRejectsWhatOSSRejects: the two client settings ferry must avoid fail
// the way they fail against OSS.
func TestRejectsWhatOSSRejects(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pathStyle := e.client(func(o *s3.Options) { o.UsePathStyle = true })
	sdkDefaults := e.defaultsClient()
	body := []byte("some bytes")

	cases := []struct {
		name   string
		call   func() error
		status int
		code   string
		msg    string
	}{
		{"path style put", func() error {
			_, err := pathStyle.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
				Key: aws.String("k"), Body: bytes.NewReader(body)})
			return err
		}, http.StatusForbidden, "SecondLevelDomainForbidden", "virtual hosted style"},
		{"path style list", func() error {
			_, err := pathStyle.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
			return err
		}, http.StatusForbidden, "SecondLevelDomainForbidden", "virtual hosted style"},
		{"sdk default checksums put", func() error {
			_, err := sdkDefaults.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
				Key: aws.String("k"), Body: bytes.NewReader(body)})
			return err
		}, http.StatusBadRequest, "InvalidArgument", "aws-chunked"},
		{"sdk default checksums upload part", func() error {
			mpu, err := e.client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: aws.String("mp")})
			require.NoError(t, err)
			_, err = sdkDefaults.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket),
				Key: aws.String("mp"), UploadId: mpu.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
			return err
		}, http.StatusBadRequest, "InvalidArgument", "aws-chunked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg, status := apiError(t, tc.call())
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, msg, tc.msg)
		})
	}

	// The aws-chunked rows only mean something if the SDK really sends
	// aws-chunked over TLS by default; check what reached the proxy.
	var chunked int
	for _, s := range e.p.Requests() {
		if s.Method == http.MethodPut && s.Status == http.StatusBadRequest {
			chunked++
			assert.Contains(t, s.Header.Get("Content-Encoding"), "aws-chunked")
			assert.Equal(t, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", s.Header.Get("X-Amz-Content-Sha256"))
			assert.NotEmpty(t, s.Header.Get("X-Amz-Trailer"), "checksum sent as a trailer")
		}
	}
	assert.Equal(t, 2, chunked, "both default-client uploads reached the proxy")

	// s3.New with zero Options computes no checksum, so no aws-chunked:
	// only the WhenSupported default that config.LoadDefaultConfig sets
	// triggers it.
	if _, err := e.rawClient().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
		Key: aws.String("unset"), Body: bytes.NewReader(body)}); err != nil {
		t.Errorf("Unset checksum settings: %v", err)
	}

	// ListBuckets has no bucket to put in the host name and stays allowed.
	lb, err := pathStyle.ListBuckets(ctx, &s3.ListBucketsInput{})
	require.NoError(t, err)
	require.Len(t, lb.Buckets, 1)
	assert.Equal(t, testBucket, aws.ToString(lb.Buckets[0].Name))
}

// TestOSSFlavour: a client configured for OSS works through the proxy and
// sees OSS's ETags and CRC headers on every kind of object request.
func TestOSSFlavour(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	cases := []struct {
		name string
		key  string
		body []byte
	}{
		{"plain", "plain.bin", randomBytes(300<<10+7, 1)},
		{"empty", "empty", []byte{}},
		{"odd key", "dir/a b+c%?#&é=.txt", []byte("odd")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := crc.FormatOSS(crc.Checksum(tc.body))
			pout := put(t, c, tc.key, tc.body)
			assert.Regexp(t, upperETag, aws.ToString(pout.ETag))
			got, ok := crcHeader(t, pout.ResultMetadata)
			require.True(t, ok, "PutObject carries %s", HeaderCRC64)
			assert.Equal(t, want, got)
			assert.Equal(t, tc.body, e.upstreamGet(t, tc.key), "stored as sent")

			hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.key)})
			require.NoError(t, err)
			assert.Equal(t, aws.ToString(pout.ETag), aws.ToString(hout.ETag))
			got, ok = crcHeader(t, hout.ResultMetadata)
			assert.True(t, ok)
			assert.Equal(t, want, got, "HeadObject")

			gout, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.key)})
			require.NoError(t, err)
			data, err := io.ReadAll(gout.Body)
			gout.Body.Close()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(tc.body, data))
			assert.Regexp(t, upperETag, aws.ToString(gout.ETag))
			got, ok = crcHeader(t, gout.ResultMetadata)
			assert.True(t, ok)
			assert.Equal(t, want, got, "GetObject")

			if len(tc.body) > 2 {
				rout, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket),
					Key: aws.String(tc.key), Range: aws.String("bytes=1-2")})
				require.NoError(t, err)
				data, err := io.ReadAll(rout.Body)
				rout.Body.Close()
				require.NoError(t, err)
				assert.Equal(t, tc.body[1:3], data)
				got, ok = crcHeader(t, rout.ResultMetadata)
				assert.True(t, ok)
				assert.Equal(t, want, got, "a ranged GET reports the whole object's CRC")
			}
		})
	}

	t.Run("list ETags", func(t *testing.T) {
		for _, list := range []func() ([]types.Object, error){
			func() ([]types.Object, error) {
				out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
				return out.Contents, err
			},
			func() ([]types.Object, error) {
				out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(testBucket)})
				return out.Contents, err
			},
		} {
			objs, err := list()
			require.NoError(t, err)
			require.Len(t, objs, len(cases))
			for _, o := range objs {
				assert.Regexp(t, upperETag, aws.ToString(o.ETag), aws.ToString(o.Key))
			}
		}
	})

	t.Run("delete forgets", func(t *testing.T) {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("plain.bin")})
		require.NoError(t, err)
		// Rewritten behind the proxy's back: the old CRC must not reappear.
		_, err = e.up.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
			Key: aws.String("plain.bin"), Body: strings.NewReader("other")})
		require.NoError(t, err)
		hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("plain.bin")})
		require.NoError(t, err)
		_, ok := crcHeader(t, hout.ResultMetadata)
		assert.False(t, ok)
	})

	t.Run("batch delete forgets", func(t *testing.T) {
		put(t, c, "batch", []byte("batch"))
		_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(testBucket),
			Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("batch")}}}})
		require.NoError(t, err)
		_, err = e.up.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
			Key: aws.String("batch"), Body: strings.NewReader("other")})
		require.NoError(t, err)
		hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("batch")})
		require.NoError(t, err)
		_, ok := crcHeader(t, hout.ResultMetadata)
		assert.False(t, ok)
	})

	t.Run("parallel", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				key := fmt.Sprintf("par/%d", i)
				body := randomBytes(64<<10+i, uint64(i))
				out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
					Key: aws.String(key), Body: bytes.NewReader(body)})
				if !assert.NoError(t, err) {
					return
				}
				got, _ := crcHeader(t, out.ResultMetadata)
				assert.Equal(t, crc.FormatOSS(crc.Checksum(body)), got, key)
				hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
				if assert.NoError(t, err) {
					got, _ = crcHeader(t, hout.ResultMetadata)
					assert.Equal(t, crc.FormatOSS(crc.Checksum(body)), got, key)
				}
			})
		}
		wg.Wait()
	})

	t.Run("missing object", func(t *testing.T) {
		_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("nope")})
		code, _, status := apiError(t, err)
		assert.Equal(t, http.StatusNotFound, status)
		assert.Equal(t, "NoSuchKey", code)
	})
}
