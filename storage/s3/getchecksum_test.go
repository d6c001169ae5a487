package s3_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/ossproxy"
	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
	"github.com/ferry-migrate/ferry/storage/s3"
)

// A GET's body is hashed once, by the copier, in every checksum mode: the
// SDK is never left to validate it as well (its CRC64NVME would hash every
// byte again). Open still asks for the stored checksum and returns it, so
// the caller can prove what it read: a byte flipped on the way reads
// without error, and its checksum differs from the one Open returned.
func TestOpenLeavesTheChecksumToTheCaller(t *testing.T) {
	srv, p, cfg := ossSetup(t)
	srv.CreateBucket(t, "sums")
	data := bytes.Repeat([]byte("checksum"), 4096)
	_, err := srv.Client().PutObject(t.Context(), &awss3.PutObjectInput{Bucket: aws.String("sums"), Key: aws.String("k"),
		Body: bytes.NewReader(data), ChecksumAlgorithm: types.ChecksumAlgorithmCrc64nvme})
	require.NoError(t, err)
	for _, mode := range []string{s3.ChecksumAuto, s3.ChecksumWhenSupported} {
		t.Run(mode, func(t *testing.T) {
			c := cfg
			c.Bucket, c.Flavor, c.Checksums = "sums", s3.FlavorS3, mode
			b, err := s3.New(t.Context(), c)
			require.NoError(t, err)
			p.Inject(ossproxy.Fault{Kind: ossproxy.FlipByte, Method: "GET", KeyContains: "k", Direction: ossproxy.Download, Offset: 100})
			rc, info, err := b.Open(t.Context(), "k", 0, -1)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, rc.Close())
			require.NoError(t, err, "the SDK validated the body itself")
			require.Len(t, got, len(data))
			assert.NotEqual(t, data, got, "the proxy flipped a byte")

			algo, _, err := storage.ParseChecksum(info.Checksum)
			require.NoError(t, err, "Open returns the stored checksum: %q", info.Checksum)
			assert.Equal(t, storage.ChecksumCRC64NVME, algo)
			sum := func(b []byte) string {
				h := crc.NewNVME()
				_, _ = h.Write(b)
				return storage.FormatChecksum(algo, h.Sum(nil))
			}
			assert.Equal(t, sum(data), info.Checksum, "the stored checksum, of the true bytes")
			assert.NotEqual(t, info.Checksum, sum(got), "the caller's own check catches the flip")
		})
	}
}
