package testserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Client returns a plain SDK client for the server (path style, checksums
// only when required), independent of ferry's own S3 backend, so tests can
// set up and check state without trusting the code under test.
func (s *S3Server) Client() *s3.Client {
	return s.ClientAs(s.AccessKey, s.SecretKey)
}

// ClientAs is Client with other credentials.
func (s *S3Server) ClientAs(access, secret string) *s3.Client {
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig.RootCAs = s.Cert.Pool
	})
	return s3.New(s3.Options{
		Region:                     s.Region,
		BaseEndpoint:               aws.String(s.Endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		HTTPClient:                 hc,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// CreateBucket creates bucket (owned by the root user) and fails the test
// if it cannot.
func (s *S3Server) CreateBucket(t testing.TB, bucket string) {
	t.Helper()
	if err := s.MakeBucket(context.Background(), bucket); err != nil {
		t.Fatalf("testserver: %v", err)
	}
}

// MakeBucket creates bucket unless the root user already owns it.
func (s *S3Server) MakeBucket(ctx context.Context, bucket string) error {
	_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %q: %w", bucket, err)
	}
	return nil
}
