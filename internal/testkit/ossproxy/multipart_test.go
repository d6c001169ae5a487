package ossproxy

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// TestMultipartCRC: each part's CRC comes back on UploadPart, and Complete
// reports the parts' CRCs combined in order — unless a part was copied, in
// which case OSS (and the proxy) report none.
func TestMultipartCRC(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	const partSize = 5 << 20 // versitygw enforces S3's minimum for all but the last part
	whole := randomBytes(partSize+1234, 7)
	put(t, c, "small-source", whole[partSize:])

	cases := []struct {
		name     string
		copyLast bool // the last part is UploadPartCopy of small-source
		wantCRC  bool
	}{
		{"uploaded parts", false, true},
		{"copied last part", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := "mp-" + tc.name
			mpu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: aws.String(key)})
			require.NoError(t, err)
			parts := [][]byte{whole[:partSize], whole[partSize:]}
			var done []types.CompletedPart
			for i, part := range parts {
				n := aws.Int32(int32(i + 1))
				var etag *string
				if tc.copyLast && i == len(parts)-1 {
					out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String(testBucket),
						Key: aws.String(key), UploadId: mpu.UploadId, PartNumber: n,
						CopySource: aws.String(testBucket + "/small-source")})
					require.NoError(t, err)
					etag = out.CopyPartResult.ETag
				} else {
					out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(testBucket),
						Key: aws.String(key), UploadId: mpu.UploadId, PartNumber: n, Body: bytes.NewReader(part)})
					require.NoError(t, err)
					got, ok := crcHeader(t, out.ResultMetadata)
					require.True(t, ok, "UploadPart %d carries %s", i+1, HeaderCRC64)
					assert.Equal(t, crc.FormatOSS(crc.Checksum(part)), got, "part %d", i+1)
					etag = out.ETag
				}
				assert.Regexp(t, upperETag, aws.ToString(etag))
				done = append(done, types.CompletedPart{ETag: etag, PartNumber: n})
			}

			lp, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(testBucket),
				Key: aws.String(key), UploadId: mpu.UploadId})
			require.NoError(t, err)
			require.Len(t, lp.Parts, len(parts))
			for _, p := range lp.Parts {
				assert.Regexp(t, upperETag, aws.ToString(p.ETag), "ListParts")
			}

			cout, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: mpu.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: done}})
			require.NoError(t, err)
			assert.Regexp(t, upperETag, aws.ToString(cout.ETag), "Complete")
			got, ok := crcHeader(t, cout.ResultMetadata)
			require.Equal(t, tc.wantCRC, ok, "Complete carries %s", HeaderCRC64)
			hout, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
			require.NoError(t, err)
			headCRC, headOK := crcHeader(t, hout.ResultMetadata)
			assert.Equal(t, tc.wantCRC, headOK, "HeadObject carries %s", HeaderCRC64)
			if tc.wantCRC {
				want := crc.FormatOSS(crc.Checksum(whole))
				assert.Equal(t, want, got, "combined part CRCs = CRC of the whole object")
				assert.Equal(t, want, headCRC)
			}
			assert.True(t, bytes.Equal(whole, e.upstreamGet(t, key)), "stored object is the parts in order")
		})
	}
}
