package ossproxy

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestETagRewrite(t *testing.T) {
	cases := []struct {
		name, in, up, down string
	}{
		{"quoted entity", `<ETag>&quot;9bb58f26192e4ba00f01e2e7b136bbd8&quot;</ETag>`,
			`<ETag>&quot;9BB58F26192E4BA00F01E2E7B136BBD8&quot;</ETag>`,
			`<ETag>&quot;9bb58f26192e4ba00f01e2e7b136bbd8&quot;</ETag>`},
		{"numeric entity and multipart", `<ETag>&#34;abcdef0123-2&#34;</ETag>`,
			`<ETag>&#34;ABCDEF0123-2&#34;</ETag>`, `<ETag>&#34;abcdef0123-2&#34;</ETag>`},
		{"several, other text untouched", `<Key>abc</Key><ETag>"ab"</ETag><Key>def</Key><ETag>"cd"</ETag>`,
			`<Key>abc</Key><ETag>"AB"</ETag><Key>def</Key><ETag>"CD"</ETag>`,
			`<Key>abc</Key><ETag>"ab"</ETag><Key>def</Key><ETag>"cd"</ETag>`},
		{"unterminated", `<ETag>"ab"`, `<ETag>"ab"`, `<ETag>"ab"`},
		{"none", `<ListBucketResult/>`, `<ListBucketResult/>`, `<ListBucketResult/>`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := string(upperETags([]byte(tc.in)))
			assert.Equal(t, tc.up, up)
			assert.Equal(t, tc.down, string(lowerETags([]byte(up))))
		})
	}
}

// TestETagsComeBack: clients send OSS's upper-case ETags back (If-Match,
// copy conditions, Complete's part list, covered in TestMultipartCRC) and
// OSS accepts them; versitygw compares case-sensitively, so the proxy
// lower-cases and re-signs — but only requests whose signature holds.
func TestETagsComeBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	etag := aws.ToString(put(t, c, "k", []byte("hello")).ETag)
	require.Equal(t, strings.ToUpper(etag), etag)
	forged := e.client(func(o *s3.Options) {
		o.Credentials = credentials.NewStaticCredentialsProvider(e.up.AccessKey, "not-the-secret", "")
	})
	other := `"0123456789ABCDEF0123456789ABCDEF"`

	cases := []struct {
		name   string
		call   func() error
		status int // 0: success
		code   string
	}{
		{"get if-match", func() error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), IfMatch: aws.String(etag)})
			if err == nil {
				out.Body.Close()
			}
			return err
		}, 0, ""},
		{"get if-match other", func() error {
			_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), IfMatch: aws.String(other)})
			return err
		}, http.StatusPreconditionFailed, "PreconditionFailed"},
		{"head if-none-match", func() error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), IfNoneMatch: aws.String(etag)})
			return err
		}, http.StatusNotModified, ""},
		{"copy if-match", func() error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k2"),
				CopySource: aws.String(testBucket + "/k"), CopySourceIfMatch: aws.String(etag)})
			return err
		}, 0, ""},
		{"forged signature is not laundered", func() error {
			out, err := forged.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), IfMatch: aws.String(etag)})
			if err == nil {
				out.Body.Close()
			}
			return err
		}, http.StatusForbidden, "SignatureDoesNotMatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.status == 0 {
				require.NoError(t, err)
				return
			}
			code, _, status := apiError(t, err)
			assert.Equal(t, tc.status, status)
			if tc.code != "" {
				assert.Equal(t, tc.code, code)
			}
		})
	}
}
