package testserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVersitygwServesS3OverTLS(t *testing.T) {
	s := Versitygw(t, Options{WithUser: true})
	s.CreateBucket(t, "smoke")
	ctx := context.Background()
	c := s.Client()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("smoke"), Key: aws.String("a b+c"),
		Body: bytes.NewReader([]byte("hello"))})
	require.NoError(t, err)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("smoke"), Key: aws.String("a b+c")})
	require.NoError(t, err)
	body, _ := io.ReadAll(out.Body)
	assert.Equal(t, "hello", string(body))

	// The non-admin user is denied the root user's bucket.
	_, err = s.ClientAs(s.UserAccessKey, s.UserSecretKey).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("smoke"), Key: aws.String("a b+c")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccessDenied")
}

func TestVersitygwVirtualHosted(t *testing.T) {
	s := Versitygw(t, Options{VirtualDomain: "localhost"})
	s.CreateBucket(t, "vhost")
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = s.Cert.Pool
		tr.DialContext = LocalhostDialer
	})
	_, port, _ := splitPort(s.Addr)
	c := s3.New(s3.Options{Region: s.Region, BaseEndpoint: aws.String("https://localhost:" + port),
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""), HTTPClient: hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired})
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("k"),
		Body: bytes.NewReader([]byte("x"))})
	require.NoError(t, err)
	_, err = s.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("vhost"), Key: aws.String("k")})
	require.NoError(t, err, "object written virtual-hosted is visible path-style")
}

// Stop must reap the server, not just kill it: a caller that exits right
// after Stop (scripts/devserver under `make demo`) otherwise leaves a
// <defunct> versitygw behind.
func TestStopReapsTheServer(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		Unavailable(t, "/proc, to see the process state: %v", err)
	}
	s := Versitygw(t, Options{})
	pid := s.Pid()
	require.NotZero(t, pid)
	s.Stop()
	assert.Zero(t, s.Pid(), "Pid after Stop")
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err == nil {
		// The pid may already belong to another process; only a zombie
		// versitygw is a failure.
		assert.NotContains(t, string(stat), "(versitygw) Z", "versitygw left <defunct> after Stop")
	}
	s.Stop() // twice is fine
}
