package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The copy's two requests per small object, a whole GET and a single PUT,
// are sent by direct instead of through the SDK's operation stack. The
// stack costs 70-80 µs and 400-460 allocations per request (a micro-
// benchmark against a transport that answers at once: docs/benchmarks.md);
// on objects of a few KiB that is more CPU than the bytes. What it does
// that matters is done here with its own parts: the endpoint comes from
// the SDK's resolver (once: it depends on the bucket, not the key), the
// request is signed by the SDK's SigV4 signer with the S3 client's options
// and the same credentials cache, and it goes out on the same HTTP client.
//
// Only a clean 2xx answer is decoded here. Any other answer, or a 2xx
// whose headers do not parse, is handed to the SDK's own deserializer
// (replay), so errors keep their exact types, codes, request ids and text.
// Everything else (listing, HEAD, multipart, copies, deletes) stays on the
// SDK: those requests are few per object or large.

// emptySHA256 is the payload hash of a request without a body (SHA-256 of
// nothing).
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// expectContinueAt is the body size from which the SDK asks for
// 100-continue (service/internal/s3shared), so a refused upload is not sent.
const expectContinueAt = 2 << 20

type direct struct {
	hc     awss3.HTTPClient
	creds  aws.CredentialsProvider
	signer *v4.Signer
	// scheme://host and the escaped path before the key ("/bucket" in
	// path style, "" in virtual-hosted style).
	origin, prefix string
	region         string
	service        string
}

// newDirect resolves the bucket's endpoint as the client would. It returns
// nil, leaving every request to the SDK, when the endpoint is anything but
// plain SigV4 (S3 Express, multi-region access points, an ARN for a
// bucket) or carries headers of its own.
func newDirect(ctx context.Context, o awss3.Options, bucket string) *direct {
	if o.Credentials == nil || o.HTTPClient == nil {
		return nil
	}
	if _, anon := o.Credentials.(aws.AnonymousCredentials); anon {
		return nil
	}
	ep, err := awss3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, awss3.EndpointParameters{
		Bucket:         aws.String(bucket),
		Region:         aws.String(o.Region),
		Endpoint:       o.BaseEndpoint,
		ForcePathStyle: aws.Bool(o.UsePathStyle),
		UseFIPS:        aws.Bool(false), UseDualStack: aws.Bool(false), Accelerate: aws.Bool(false),
		DisableMultiRegionAccessPoints: aws.Bool(false), UseArnRegion: aws.Bool(false),
	})
	if err != nil || len(ep.Headers) > 0 || ep.URI.RawQuery != "" {
		return nil
	}
	d := &direct{hc: o.HTTPClient, creds: o.Credentials, region: o.Region, service: "s3",
		signer: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })}
	opts, _ := smithyauth.GetAuthOptions(&ep.Properties)
	for _, a := range opts {
		// The rules name schemes "sigv4", "sigv4a", "sigv4-s3express".
		if a.SchemeID != "sigv4" && a.SchemeID != "aws.auth#sigv4" {
			return nil
		}
		if n, ok := smithyhttp.GetSigV4SigningName(&a.SignerProperties); ok && n != "" {
			d.service = n
		}
		if r, ok := smithyhttp.GetSigV4SigningRegion(&a.SignerProperties); ok && r != "" {
			d.region = r
		}
	}
	d.origin = ep.URI.Scheme + "://" + ep.URI.Host
	d.prefix = strings.TrimSuffix(ep.URI.EscapedPath(), "/")
	return d
}

// request builds a signed request for key. op names the operation in the
// query, as the SDK does (x-id=GetObject), so servers see the same URL.
func (d *direct) request(ctx context.Context, method, op, key string, h http.Header, body io.Reader, size int64) (*http.Request, error) {
	raw := d.origin + d.prefix + "/" + httpbinding.EscapePath(key, false) + "?x-id=" + op
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("building the URL for key %q: %w", key, err)
	}
	req := (&http.Request{Method: method, URL: u, Host: u.Host, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}).WithContext(ctx)
	payload := emptySHA256
	if body != nil && size > 0 {
		req.Body, req.ContentLength = io.NopCloser(body), size
		payload = "UNSIGNED-PAYLOAD"
		if size >= expectContinueAt {
			h.Set("Expect", "100-continue")
		}
	} else if method == http.MethodPut {
		req.Body = http.NoBody
		payload = "UNSIGNED-PAYLOAD"
	}
	h.Set("X-Amz-Content-Sha256", payload)
	h.Set("Accept-Encoding", "identity") // the SDK's DisableGzip: sizes and checksums are of the stored bytes
	h.Set("User-Agent", "ferry")
	creds, err := d.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("retrieving credentials: %w", err)
	}
	if err := d.signer.SignHTTP(ctx, creds, req, payload, d.service, d.region, time.Now().UTC()); err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return req, nil
}

// replay is an HTTP client that answers with a response already received:
// the SDK deserializes it as if it had sent the request itself.
type replay struct{ resp *http.Response }

func (r replay) Do(*http.Request) (*http.Response, error) { return r.resp, nil }

func replayed(resp *http.Response) func(*awss3.Options) {
	return func(o *awss3.Options) { o.HTTPClient = replay{resp} }
}

// drain reads what is left of an answer's body (up to a limit) and closes
// it, so the connection goes back to the pool.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 256<<10))
	resp.Body.Close()
}
