package ossproxy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// header is one conditional-write header as a test sends it.
type header int

const (
	ifNoneMatch     header = iota // If-None-Match: *
	ifMatchWrong                  // If-Match: an ETag the object does not have
	forbidOverwrite               // x-oss-forbid-overwrite: true
)

func (h header) String() string {
	return [...]string{"If-None-Match: *", "If-Match: <other etag>", "x-oss-forbid-overwrite: true"}[h]
}

// conditionalWrite overwrites key (which exists) by op ("put", "complete"
// or "copy") under h through c, and returns the error.
func conditionalWrite(ctx context.Context, t *testing.T, c *s3.Client, op, key string, h header) error {
	t.Helper()
	var (
		inm, im *string
		opts    []func(*s3.Options)
	)
	switch h {
	case ifNoneMatch:
		inm = aws.String("*")
	case ifMatchWrong:
		im = aws.String(`"0123456789abcdef0123456789abcdef"`)
	case forbidOverwrite:
		opts = append(opts, func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(HeaderForbidOverwrite, "true"))
		})
	}
	b, k, body := aws.String(testBucket), aws.String(key), []byte("the overwrite")
	switch op {
	case "put":
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k, Body: bytes.NewReader(body),
			IfNoneMatch: inm, IfMatch: im}, opts...)
		return err
	case "copy":
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String(testBucket + "/copy-source"),
			IfNoneMatch: inm, IfMatch: im}, opts...)
		return err
	}
	mpu, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = c.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: mpu.UploadId})
	})
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: mpu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
	require.NoError(t, err)
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: mpu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
		IfNoneMatch:     inm, IfMatch: im}, opts...)
	return err
}

// TestWhichConditionsAreHonoured is the table of docs/conditional-writes.md,
// measured: for each server (versitygw directly, and behind the proxy),
// write operation and header, whether an overwrite of an existing object
// is refused and leaves it untouched. If a versitygw upgrade changes a
// cell, this fails and the table must change with it.
func TestWhichConditionsAreHonoured(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	put(t, e.up.Client(), "copy-source", []byte("copied over the object"))
	clients := map[string]*s3.Client{"versitygw": e.up.Client(), "ossproxy": e.client()}
	// honoured[server][op][header]
	want := map[string]map[string][3]bool{
		"versitygw": {"put": {true, true, false}, "complete": {true, true, false}, "copy": {false, false, false}},
		"ossproxy":  {"put": {true, true, true}, "complete": {true, true, true}, "copy": {false, false, true}},
	}
	for _, server := range []string{"versitygw", "ossproxy"} {
		for _, op := range []string{"put", "complete", "copy"} {
			for _, h := range []header{ifNoneMatch, ifMatchWrong, forbidOverwrite} {
				name := fmt.Sprintf("%s/%s/%s", server, op, h)
				t.Run(name, func(t *testing.T) {
					key := fmt.Sprintf("matrix-%s-%s-%d", server, op, h)
					old := []byte("the application's object: " + key)
					put(t, e.up.Client(), key, old)
					before := len(e.p.Requests())
					err := conditionalWrite(ctx, t, clients[server], op, key, h)
					if server == "ossproxy" {
						// A cell that says "ignored" means something only if
						// the header was really sent.
						var sent bool
						for _, s := range e.p.Requests()[before:] {
							if s.Key == key && s.Method != "GET" && s.Method != "HEAD" && s.Query != "uploads" {
								sent = sent || s.Header.Get(strings.SplitN(h.String(), ":", 2)[0]) != ""
							}
						}
						assert.True(t, sent, "the request carried %s", h)
					}
					untouched := bytes.Equal(old, e.upstreamGet(t, key))
					honoured := err != nil && untouched
					t.Logf("%-9s %-8s %-30s refused=%v untouched=%v", server, op, h, err != nil, untouched)
					assert.Equal(t, want[server][op][h], honoured, "honoured (err: %v)", err)
					if err != nil {
						code, _, status := apiError(t, err)
						assert.Contains(t, []int{409, 412}, status, "refused as a conflict or precondition (%s)", code)
					}
				})
			}
		}
	}
}
