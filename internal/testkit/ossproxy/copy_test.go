package ossproxy

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// TestCopyCRC: a CopyObject result carries the source's CRC64 exactly
// when the proxy knows it, and the copy keeps it for later reads; a
// multipart copy (UploadPartCopy) completes without one.
func TestCopyCRC(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := context.Background()
	const part = 5 << 20 // versitygw's smallest part but the last
	body := randomBytes(part+1000, 7)
	want := crc.FormatOSS(crc.Checksum(body))
	put(t, c, "known src", body)
	// Written behind the proxy's back: the proxy has no CRC for it.
	_, err := e.up.Client().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket),
		Key: aws.String("unknown"), Body: strings.NewReader("not seen by the proxy")})
	require.NoError(t, err)

	cases := []struct {
		name, src, dst string
		wantCRC        bool
	}{
		{"known source", "known src", "copy of known", true},
		{"unknown source", "unknown", "copy of unknown", false},
		{"copy over an object with a CRC", "unknown", "copy of known", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.dst),
				CopySource: aws.String(testBucket + "/" + url.PathEscape(tc.src))})
			require.NoError(t, err)
			assert.Regexp(t, upperETag, aws.ToString(out.CopyObjectResult.ETag))
			got, ok := crcHeader(t, out.ResultMetadata)
			require.Equal(t, tc.wantCRC, ok, "CopyObject carries %s", HeaderCRC64)
			hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(tc.dst)})
			require.NoError(t, err)
			headCRC, headOK := crcHeader(t, hout.ResultMetadata)
			assert.Equal(t, tc.wantCRC, headOK, "HeadObject of the copy carries %s", HeaderCRC64)
			if tc.wantCRC {
				assert.Equal(t, want, got)
				assert.Equal(t, want, headCRC)
			}
		})
	}

	t.Run("multipart copy", func(t *testing.T) {
		mpu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
			Bucket: aws.String(testBucket), Key: aws.String("mp copy")})
		require.NoError(t, err)
		var done []types.CompletedPart
		for i, rng := range []string{fmt.Sprintf("bytes=0-%d", part-1), fmt.Sprintf("bytes=%d-%d", part, len(body)-1)} {
			out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(testBucket),
				Key: aws.String("mp copy"), UploadId: mpu.UploadId, PartNumber: aws.Int32(int32(i + 1)),
				CopySource: aws.String(testBucket + "/known%20src"), CopySourceRange: aws.String(rng)})
			require.NoError(t, err)
			_, ok := crcHeader(t, out.ResultMetadata)
			assert.False(t, ok, "a copied part has no CRC")
			done = append(done, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		cout, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(testBucket), Key: aws.String("mp copy"), UploadId: mpu.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
		require.NoError(t, err)
		_, ok := crcHeader(t, cout.ResultMetadata)
		assert.False(t, ok, "a multipart copy completes without a CRC")
		assert.Equal(t, body, e.upstreamGet(t, "mp copy"))
	})
}

func TestParseCopySource(t *testing.T) {
	cases := []struct {
		in   string
		want objectKey
		ok   bool
	}{
		{"b/k", objectKey{"b", "k"}, true},
		{"/b/dir/k", objectKey{"b", "dir/k"}, true},
		{"b/a%20b%2Bc%3Fd%23e%25", objectKey{"b", "a b+c?d#e%"}, true},
		{"b/%E6%97%A5", objectKey{"b", "日"}, true},
		{"b/k?versionId=3", objectKey{"b", "k"}, true},
		{"b", objectKey{}, false},
		{"b/%zz", objectKey{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := parseCopySource(tc.in)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestCounts: requests are counted by method and kind, and only object
// bodies served by GetObject count as bytes.
func TestCounts(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := context.Background()
	body := randomBytes(1000, 8)
	put(t, c, "k", body)
	before := e.p.Counts()

	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	require.NoError(t, err)
	gout, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"),
		Range: aws.String("bytes=10-109")})
	require.NoError(t, err)
	_, err = io.Copy(io.Discard, gout.Body)
	require.NoError(t, err)
	gout.Body.Close()
	_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k2"),
		CopySource: aws.String(testBucket + "/k")})
	require.NoError(t, err)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	require.NoError(t, err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("missing")})
	require.Error(t, err)

	d := e.p.Counts().Since(before)
	assert.Equal(t, map[Kind]int{KindHead: 1, KindGet: 2, KindCopy: 1, KindList: 1}, d.ByKind)
	assert.Equal(t, map[string]int{"HEAD": 1, "GET": 3, "PUT": 1}, d.ByMethod)
	assert.Equal(t, int64(100), d.ObjectBytes, "the ranged GET's bytes; the copy and the error serve none")
}
