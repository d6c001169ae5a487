package ossproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withForbid(value string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(HeaderForbidOverwrite, value))
	}
}

// TestForbidOverwriteAnswersAsOSS: the header's values and OSS's answers.
func TestForbidOverwriteAnswersAsOSS(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	old, body := []byte("already there"), []byte("the new bytes")
	cases := []struct {
		name     string
		exists   bool
		value    string
		status   int // 0: succeeds
		code, ec string
		stored   []byte
	}{
		{"true over an existing object", true, "true", http.StatusConflict, "FileAlreadyExists", "0026-00000201", old},
		{"TRUE is true", true, "TRUE", http.StatusConflict, "FileAlreadyExists", "0026-00000201", old},
		{"true on a missing key", false, "true", 0, "", "", body},
		{"false overwrites", true, "false", 0, "", "", body},
		{"other values are refused", true, "yes", http.StatusBadRequest, "InvalidArgument", "0017-00000279", old},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("forbid-%d", i)
			if tc.exists {
				put(t, e.up.Client(), key, old)
			}
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key),
				Body: bytes.NewReader(body)}, withForbid(tc.value))
			if tc.status == 0 {
				require.NoError(t, err)
			} else {
				code, _, status := apiError(t, err)
				assert.Equal(t, tc.status, status)
				assert.Equal(t, tc.code, code)
				var re *awshttp.ResponseError
				require.True(t, errors.As(err, &re))
				assert.Equal(t, tc.ec, re.Response.Header.Get("x-oss-ec"), "OSS's detailed error code")
			}
			assert.Equal(t, tc.stored, e.upstreamGet(t, key))
		})
	}
}

// TestCueWritesBetweenCheckAndWrite: the cued object lands after the
// client's HEAD was answered upstream and before the client hears back,
// so the client's check is already stale when it returns.
func TestCueWritesBetweenCheckAndWrite(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	app := []byte("written by the application at the worst moment")
	e.p.WriteOnCue(Cue{Method: http.MethodHead, Key: "raced", Body: app})
	require.Equal(t, 1, e.p.PendingCues())

	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("raced")})
	_, _, status := apiError(t, err)
	assert.Equal(t, http.StatusNotFound, status, "the client's check saw no object")
	assert.Equal(t, 0, e.p.PendingCues(), "the cue fired once")
	assert.Equal(t, app, e.upstreamGet(t, "raced"), "yet the object exists when the check returns")

	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("raced"),
		Body: bytes.NewReader([]byte("ferry's copy"))}, withForbid("true"))
	code, _, _ := apiError(t, err)
	assert.Equal(t, "FileAlreadyExists", code)
	assert.Equal(t, app, e.upstreamGet(t, "raced"), "the application's object survives")

	// A cue on a write to its own key must not deadlock on the key lock:
	// it lands right after the write, before the client hears back.
	e.p.WriteOnCue(Cue{Method: http.MethodPut, Key: "after-put", Body: app})
	put(t, c, "after-put", []byte("first"))
	assert.Equal(t, app, e.upstreamGet(t, "after-put"))
}
