package ossproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage/crc"
)

// faultHits counts the requests a fault of kind hit.
func faultHits(p *Proxy, kind FaultKind) int {
	n := 0
	for _, s := range p.Requests() {
		if s.Fault == kind {
			n++
		}
	}
	return n
}

func TestSlowDown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	put(t, c, "obj", []byte("payload"))

	cases := []struct {
		name  string
		fault Fault
		call  func() error
	}{
		{"get", Fault{Kind: SlowDown, Method: "GET", KeyContains: "obj"}, func() error {
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("obj")})
			if err == nil {
				out.Body.Close()
			}
			return err
		}},
		// 1 MiB is more than net/http reads after a handler on its own; from
		// 2 MiB the SDK sends Expect: 100-continue and waits.
		{"put", Fault{Kind: SlowDown, Method: "PUT"}, func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("new"),
				Body: bytes.NewReader(randomBytes(1<<20, 1))})
			return err
		}},
		{"put expecting 100-continue", Fault{Kind: SlowDown, Method: "PUT"}, func() error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("new"),
				Body: bytes.NewReader(randomBytes(3<<20, 2))})
			return err
		}},
		{"list", Fault{Kind: SlowDown, BucketLevel: true}, func() error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := faultHits(e.p, SlowDown)
			e.p.Inject(tc.fault)
			code, msg, status := apiError(t, tc.call())
			assert.Equal(t, http.StatusServiceUnavailable, status)
			assert.Equal(t, "SlowDown", code)
			assert.NotEmpty(t, msg)
			assert.Equal(t, 0, e.p.PendingFaults(), "a fault with Times 0 hits once")
			require.NoError(t, tc.call(), "the next request goes through")
			assert.Equal(t, before+1, faultHits(e.p, SlowDown))
		})
	}

	t.Run("sdk retries hide it", func(t *testing.T) {
		// Why the other tests set RetryMaxAttempts 1: with the SDK's
		// standard retryer one SlowDown is invisible to the caller.
		retrying := e.client(func(o *s3.Options) {
			o.RetryMaxAttempts = 0
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
				so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		})
		gets := e.p.Count("GET")
		e.p.Inject(Fault{Kind: SlowDown, Method: "GET"})
		out, err := retrying.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("obj")})
		require.NoError(t, err)
		out.Body.Close()
		assert.Equal(t, gets+2, e.p.Count("GET"))
	})
}

func TestReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	body := randomBytes(1<<20, 3)
	put(t, c, "big", body)
	get := func(key string) ([]byte, error) {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
		if err != nil {
			return nil, err
		}
		defer out.Body.Close()
		return io.ReadAll(out.Body)
	}

	t.Run("download mid-body", func(t *testing.T) {
		const cut = 100_000
		e.p.Inject(Fault{Kind: Reset, Method: "GET", KeyContains: "big", Offset: cut})
		got, err := get("big")
		require.Error(t, err, "reading a cut body fails")
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, cut, len(got), "the bytes before the cut arrive")
		assert.True(t, bytes.Equal(body[:cut], got))
		got, err = get("big")
		require.NoError(t, err)
		assert.True(t, bytes.Equal(body, got))
	})

	t.Run("upload mid-body", func(t *testing.T) {
		e.p.Inject(Fault{Kind: Reset, Method: "PUT", Offset: 1000})
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("cut-upload"),
			Body: bytes.NewReader(body)})
		require.Error(t, err)
		_, err = e.up.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("cut-upload")})
		var nf *types.NotFound
		assert.True(t, errors.As(err, &nf), "nothing stored: %v", err)
	})

	t.Run("stored but unanswered", func(t *testing.T) {
		// The upload completes upstream; the client never hears so.
		e.p.Inject(Fault{Kind: Reset, Method: "PUT", Direction: Download})
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("unanswered"),
			Body: bytes.NewReader([]byte("made it"))})
		require.Error(t, err)
		assert.Equal(t, []byte("made it"), e.upstreamGet(t, "unanswered"))
	})

	t.Run("head", func(t *testing.T) {
		e.p.Inject(Fault{Kind: Reset, Method: "HEAD"})
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("big")})
		require.Error(t, err)
	})
}

func TestFlipByte(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	body := randomBytes(200<<10, 5)
	sent := crc.Checksum(body)

	t.Run("download", func(t *testing.T) {
		const at = 12345
		put(t, c, "dl", body)
		e.p.Inject(Fault{Kind: FlipByte, Method: "GET", KeyContains: "dl", Offset: at})
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("dl")})
		require.NoError(t, err)
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		require.NoError(t, err)
		require.Len(t, got, len(body))
		var diff []int
		for i := range got {
			if got[i] != body[i] {
				diff = append(diff, i)
			}
		}
		assert.Equal(t, []int{at}, diff, "exactly one byte differs")
		header, ok := crcHeader(t, out.ResultMetadata)
		require.True(t, ok)
		assert.Equal(t, crc.FormatOSS(sent), header, "the header describes the true object")
		assert.NotEqual(t, crc.FormatOSS(crc.Checksum(got)), header, "so a checking client notices")
	})

	t.Run("upload", func(t *testing.T) {
		const at = 7
		e.p.Inject(Fault{Kind: FlipByte, Method: "PUT", KeyContains: "ul", Offset: at})
		out := put(t, c, "ul", body)
		stored := e.upstreamGet(t, "ul")
		require.Len(t, stored, len(body))
		flipped := bytes.Clone(body)
		flipped[at] ^= 0xFF
		assert.True(t, bytes.Equal(flipped, stored), "the corrupted bytes are what got stored")
		header, ok := crcHeader(t, out.ResultMetadata)
		require.True(t, ok)
		assert.Equal(t, crc.FormatOSS(crc.Checksum(stored)), header, "the header describes what was stored")
		assert.NotEqual(t, crc.FormatOSS(sent), header, "so a client comparing with its own CRC notices")
	})

	t.Run("upload with signed payload", func(t *testing.T) {
		// Over HTTPS the SDK sends PutObject and UploadPart as
		// UNSIGNED-PAYLOAD. A client that signs the payload's SHA-256
		// instead gets the corruption refused by the server.
		signed := e.client(func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				_, err := st.Finalize.Swap("ComputePayloadHash", &v4.ComputePayloadSHA256{})
				return err
			})
		})
		e.p.Inject(Fault{Kind: FlipByte, Method: "PUT", KeyContains: "signed", Offset: 7})
		_, err := signed.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("signed"),
			Body: bytes.NewReader(body)})
		code, _, status := apiError(t, err)
		assert.Equal(t, http.StatusBadRequest, status, "%v", err)
		assert.Equal(t, "XAmzContentSHA256Mismatch", code, "versitygw's answer")
		_, err = e.up.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("signed")})
		require.Error(t, err, "nothing stored")
		seen := e.p.Requests()
		assert.Len(t, seen[len(seen)-1].Header.Get("X-Amz-Content-Sha256"), 64, "the payload was signed")
	})
}

func TestDelay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.client()
	put(t, c, "obj", []byte("payload"))
	const wait = 300 * time.Millisecond
	list := func() (time.Duration, error) {
		start := time.Now()
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
		return time.Since(start), err
	}

	e.p.Inject(Fault{Kind: Delay, BucketLevel: true, Wait: wait, Times: -1})
	for range 2 {
		took, err := list()
		require.NoError(t, err, "a delayed request is forwarded")
		assert.GreaterOrEqual(t, took, wait, "held for Wait")
	}
	start := time.Now()
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("obj")})
	require.NoError(t, err)
	out.Body.Close()
	assert.Less(t, time.Since(start), wait, "an object request does not match a BucketLevel delay")
	assert.Equal(t, 2, faultHits(e.p, Delay))

	t.Run("client gives up", func(t *testing.T) {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.ListObjectsV2(short, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
		require.Error(t, err)
	})

	e.p.ClearFaults()
	assert.Equal(t, 0, e.p.PendingFaults())
	took, err := list()
	require.NoError(t, err)
	assert.Less(t, took, wait, "no delay once cleared")
}
