package ossproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/internal/testkit/testserver"
)

const testBucket = "ossbucket"

// env is a versitygw behind the proxy, with one bucket.
type env struct {
	up *testserver.S3Server
	p  *Proxy
}

func newEnv(t *testing.T) *env {
	t.Helper()
	up := testserver.Versitygw(t, testserver.Options{VirtualDomain: "localhost"})
	up.CreateBucket(t, testBucket)
	return &env{up: up, p: Start(t, up)}
}

// client talks to the proxy the way ferry's OSS flavour must: virtual
// hosted, checksums only when required. SDK retries are off so a test sees
// every fault; opts adjust the options further.
func (e *env) client(opts ...func(*s3.Options)) *s3.Client {
	return e.rawClient(append([]func(*s3.Options){func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}}, opts...)...)
}

// defaultsClient has the checksum settings a client built the usual way
// (config.LoadDefaultConfig + s3.NewFromConfig) gets: WhenSupported. Note
// that s3.New with zero Options leaves them Unset, which computes no
// checksum at all.
func (e *env) defaultsClient(opts ...func(*s3.Options)) *s3.Client {
	return e.rawClient(append([]func(*s3.Options){func(o *s3.Options) {
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	}}, opts...)...)
}

// rawClient leaves the checksum settings as s3.New finds them.
func (e *env) rawClient(opts ...func(*s3.Options)) *s3.Client {
	pool := e.up.Cert.Pool
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = pool
		tr.DialContext = testserver.LocalhostDialer
	})
	o := s3.Options{
		Region:           e.up.Region,
		BaseEndpoint:     aws.String(e.p.Endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(e.up.AccessKey, e.up.SecretKey, ""),
		HTTPClient:       hc,
		RetryMaxAttempts: 1,
	}
	for _, f := range opts {
		f(&o)
	}
	return s3.New(o)
}

// put stores body through c and returns the response.
func put(t *testing.T, c *s3.Client, key string, body []byte) *s3.PutObjectOutput {
	t.Helper()
	out, err := c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	require.NoError(t, err, "put %q", key)
	return out
}

// upstreamGet reads an object from versitygw directly, bypassing the proxy.
func (e *env) upstreamGet(t *testing.T, key string) []byte {
	t.Helper()
	out, err := e.up.Client().GetObject(context.Background(), &s3.GetObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key)})
	require.NoError(t, err, "upstream get %q", key)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return b
}

// crcHeader reads x-oss-hash-crc64ecma from the raw response, which the SDK
// does not model.
func crcHeader(t *testing.T, md middleware.Metadata) (string, bool) {
	t.Helper()
	raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Errorf("no raw HTTP response in the result metadata")
		return "", false
	}
	v := raw.Header.Values(HeaderCRC64)
	if len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// apiError unpacks the S3 error code, message and HTTP status of err.
func apiError(t *testing.T, err error) (code, msg string, status int) {
	t.Helper()
	require.Error(t, err)
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, msg, status
}

func randomBytes(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9E3779B97F4A7C15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
