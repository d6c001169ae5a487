package s3

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

// recorder answers every request with one canned answer and keeps what it
// was sent.
type recorder struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   string
	got    []sent
}

type sent struct {
	method, url string
	header      http.Header
	body        []byte
	length      int64
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	r.mu.Lock()
	r.got = append(r.got, sent{req.Method, req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath() + "?" + req.URL.RawQuery, req.Header.Clone(), body, req.ContentLength})
	r.mu.Unlock()
	h := r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: r.status, Header: h, Body: io.NopCloser(strings.NewReader(r.body)),
		ContentLength: int64(len(r.body)), Request: req}, nil
}

func (r *recorder) last(t *testing.T) sent {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.got)
	s := r.got[len(r.got)-1]
	r.got = nil
	return s
}

// sdkOnly are headers the SDK adds for itself (its identity, its retry
// bookkeeping) and the signature's time-dependent parts.
var sdkOnly = []string{"Authorization", "X-Amz-Date", "User-Agent", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request"}

var credScope = regexp.MustCompile(`Credential=[^,]+, SignedHeaders=`)

type directCase struct {
	name      string
	endpoint  string
	pathStyle bool
	region    string
	token     string
}

var directEndpoints = []directCase{
	{name: "path style", endpoint: "https://127.0.0.1:9000", pathStyle: true, region: "us-east-1"},
	{name: "virtual hosted", endpoint: "https://s3.example.test:8443", region: "eu-west-1", token: "session-token"},
	{name: "OSS", endpoint: "https://s3.oss-cn-hangzhou.aliyuncs.com", region: "cn-hangzhou"},
	{name: "AWS", region: "ap-southeast-1"},
}

func directOptions(c directCase, hc awss3.HTTPClient) awss3.Options {
	o := awss3.Options{Region: c.region, UsePathStyle: c.pathStyle, HTTPClient: hc, Retryer: aws.NopRetryer{},
		Credentials:                aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", c.token)),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired}
	if c.endpoint != "" {
		o.BaseEndpoint = aws.String(c.endpoint)
	}
	return o
}

var directKeys = []string{"plain", "dir/sub/file.txt", "with space+plus", "percent%2F and ?query#frag", "ünïcødé/日本", "a//b/", "~tilde!*'()$&=,;:@", "/leading"}

// TestDirectRequestsMatchTheSDK sends the same GETs and PUTs through the
// SDK and directly, and wants the same request on the wire: method, URL
// (host, escaped path, query), every header but the SDK's own bookkeeping
// and the signature's time, the signature's scope, and the body.
func TestDirectRequestsMatchTheSDK(t *testing.T) {
	big := bytes.Repeat([]byte("x"), expectContinueAt+1)
	for _, ec := range directEndpoints {
		t.Run(ec.name, func(t *testing.T) {
			rec := &recorder{status: 200, header: http.Header{"Etag": {`"e"`}, "Content-Length": {"0"}}}
			o := directOptions(ec, rec)
			c := awss3.New(o)
			d := newDirect(t.Context(), o, "bucket-1")
			require.NotNil(t, d)
			compare := func(t *testing.T, viaSDK, viaDirect func() error) {
				t.Helper()
				require.NoError(t, viaSDK())
				want := rec.last(t)
				require.NoError(t, viaDirect())
				got := rec.last(t)
				require.Equal(t, want.method, got.method)
				require.Equal(t, want.url, got.url)
				require.Equal(t, credScope.FindString(want.header.Get("Authorization")), credScope.FindString(got.header.Get("Authorization")))
				require.NotEmpty(t, got.header.Get("X-Amz-Date"))
				for _, h := range sdkOnly {
					want.header.Del(h)
					got.header.Del(h)
				}
				require.Equal(t, want.header, got.header)
				require.Equal(t, string(want.body), string(got.body))
				require.Equal(t, want.length, got.length)
			}
			for _, key := range directKeys {
				for _, rng := range []*string{nil, aws.String("bytes=5-9")} {
					for _, ask := range []bool{false, true} {
						in := &awss3.GetObjectInput{Bucket: aws.String("bucket-1"), Key: aws.String(key), Range: rng}
						var opts []func(*awss3.Options)
						if ask {
							opts = append(opts, askChecksum)
						}
						compare(t, func() error {
							out, err := c.GetObject(t.Context(), in, opts...)
							if err == nil {
								out.Body.Close()
							}
							return err
						}, func() error {
							out, _, err := d.get(t.Context(), c, in, ask, opts)
							if err == nil {
								out.Body.Close()
							}
							return err
						})
					}
				}
			}
			puts := []struct {
				name      string
				body      []byte
				info      storage.ObjectInfo
				cond      storage.Condition
				checksum  string
				ossForbid bool
			}{
				{name: "empty", body: nil},
				{name: "small with every field", body: []byte("hello"), info: storage.ObjectInfo{
					ContentType: "text/plain; charset=utf-8", CacheControl: "max-age=60", ContentDisposition: `attachment; filename="a b.txt"`,
					ContentEncoding: "gzip", Metadata: map[string]string{"mtime": "1700000000", "Owner-Name": "ünï"}, StorageClass: "STANDARD_IA"},
					checksum: "crc64nvme:AAAAAAAAAAA="},
				{name: "create-only", body: []byte("x"), cond: storage.Condition{IfAbsent: true}, checksum: "crc32:AAAAAA=="},
				{name: "if-match", body: []byte("y"), cond: storage.Condition{IfMatch: storage.Version{ETag: "abc"}}, checksum: "crc32c:AAAAAA=="},
				{name: "OSS create-only", body: []byte("z"), ossForbid: true},
				{name: "large: 100-continue", body: big},
			}
			for _, p := range puts {
				t.Run(p.name, func(t *testing.T) {
					build := func() (*awss3.PutObjectInput, []func(*awss3.Options)) {
						in := &awss3.PutObjectInput{Bucket: aws.String("bucket-1"), Key: aws.String("dir/some key+1"),
							Body: newExactReader(bytes.NewReader(p.body), int64(len(p.body))), ContentLength: aws.Int64(int64(len(p.body)))}
						applyPutMeta(in, p.info)
						switch { // as writeCondition sets them for the S3 flavour
						case p.cond.IfAbsent:
							in.IfNoneMatch = aws.String("*")
						case p.cond.IfMatch.ETag != "":
							in.IfMatch = aws.String(`"` + p.cond.IfMatch.ETag + `"`)
						}
						if p.checksum != "" {
							_, in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME = checksumFields(p.checksum)
						}
						opts := []func(*awss3.Options){unsignedPayload}
						if p.ossForbid {
							w, err := (&Backend{cfg: resolved{Config: Config{Flavor: FlavorOSS}}}).writeCondition("put", "k", storage.Condition{IfAbsent: true})
							require.NoError(t, err)
							require.True(t, w.ossForbid)
							opts = append(w.opts, opts...)
						}
						return in, opts
					}
					compare(t, func() error {
						in, opts := build()
						_, err := c.PutObject(t.Context(), in, opts...)
						return err
					}, func() error {
						in, opts := build()
						_, _, err := d.put(t.Context(), c, in, p.ossForbid, opts)
						return err
					})
				})
			}
		})
	}
}

// TestPutSetsOnlyWhatDirectSends fills every field of ObjectInfo and
// checks applyPutMeta sets no PutObjectInput field that putHeaders does
// not write: a new one must be added there (and to the test above) or the
// direct PUT would silently drop it.
func TestPutSetsOnlyWhatDirectSends(t *testing.T) {
	var info storage.ObjectInfo
	v := reflect.ValueOf(&info).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("v")
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.ValueOf("k"), reflect.ValueOf("v"))
		}
	}
	in := &awss3.PutObjectInput{}
	applyPutMeta(in, info)
	written := map[string]bool{"CacheControl": true, "ContentDisposition": true, "ContentEncoding": true, "ContentType": true,
		"Metadata": true, "StorageClass": true}
	iv := reflect.ValueOf(in).Elem()
	for i := range iv.NumField() {
		name := iv.Type().Field(i).Name
		if !iv.Field(i).IsZero() {
			require.True(t, written[name], "applyPutMeta sets PutObjectInput.%s, which putHeaders does not send", name)
		}
	}
	h := http.Header{}
	putHeaders(h, in)
	require.Len(t, h, 6, "every field applyPutMeta set is written: %v", h)
}

// TestDirectAnswersMatchTheSDK reads the same answers through the SDK and
// directly: a success gives the same ObjectInfo, anything else the same
// error, text and class included.
func TestDirectAnswersMatchTheSDK(t *testing.T) {
	errBody := func(code string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>msg</Message><RequestId>rid</RequestId><HostId>hid</HostId></Error>`
	}
	ok := http.Header{"Etag": {`"0123abcd"`}, "Content-Length": {"16"}, "Last-Modified": {"Mon, 30 Nov 2026 10:00:00 GMT"},
		"Content-Type": {"text/plain"}, "Cache-Control": {" no-cache "}, "Content-Disposition": {"inline"}, "Content-Encoding": {"gzip"},
		"X-Amz-Meta-Mtime": {"1700000000"}, "X-Amz-Meta-Owner-Name": {"ünï"}, "X-Amz-Storage-Class": {"STANDARD_IA"},
		"X-Amz-Checksum-Crc64nvme": {"AAAAAAAAAAA="}, "X-Amz-Checksum-Type": {"FULL_OBJECT"},
		"X-Oss-Hash-Crc64ecma": {"11424222448242130938"}}
	with := func(h http.Header, kv ...string) http.Header {
		h = h.Clone()
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				h.Del(kv[i])
			} else {
				h.Set(kv[i], kv[i+1])
			}
		}
		return h
	}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		want   error // what Open's error is (nil: success; errAny: any error)
	}{
		{name: "every field", status: 200, header: ok, body: "0123456789abcdef"},
		{name: "range", status: 206, header: with(ok, "Content-Range", "bytes 0-15/100"), body: "0123456789abcdef"},
		{name: "range without total", status: 206, header: with(ok, "Content-Range", "bytes 0-15/*"), body: "0123456789abcdef", want: errAny},
		{name: "composite checksum", status: 200, header: with(ok, "X-Amz-Checksum-Type", "COMPOSITE", "X-Amz-Checksum-Crc64nvme", "AAAAAAAAAAA=-3"), body: "0123456789abcdef"},
		{name: "RFC 850 date", status: 200, header: with(ok, "Last-Modified", "Monday, 30-Nov-26 10:00:00 GMT"), body: "0123456789abcdef"},
		{name: "no optional headers", status: 200, header: http.Header{"Content-Length": {"3"}}, body: "abc"},
		{name: "bad date", status: 200, header: with(ok, "Last-Modified", "yesterday"), body: "0123456789abcdef", want: errAny},
		{name: "bad length", status: 200, header: with(ok, "Content-Length", "many"), body: "0123456789abcdef", want: errAny},
		{name: "bad OSS CRC", status: 200, header: with(ok, "X-Oss-Hash-Crc64ecma", "x1"), body: "0123456789abcdef", want: errAny},
		{name: "no such key", status: 404, header: http.Header{"X-Amz-Request-Id": {"rid"}}, body: errBody("NoSuchKey"), want: storage.ErrNotFound},
		{name: "precondition", status: 412, body: errBody("PreconditionFailed"), want: storage.ErrPrecondition},
		{name: "OSS file exists", status: 409, body: errBody("FileAlreadyExists"), want: storage.ErrPrecondition},
		{name: "denied", status: 403, body: errBody("AccessDenied"), want: storage.ErrAccessDenied},
		{name: "bad signature", status: 403, body: errBody("SignatureDoesNotMatch"), want: storage.ErrAuth},
		{name: "slow down", status: 503, body: errBody("SlowDown"), want: storage.ErrThrottled},
		{name: "bare 503", status: 503, want: storage.ErrUnavailable}, // the SDK names it ServiceUnavailable
		{name: "bare 500", status: 500, want: storage.ErrUnavailable},
		{name: "not implemented", status: 501, body: errBody("NotImplemented"), want: storage.ErrUnavailable},
		{name: "not XML", status: 400, body: "<html>bad gateway", want: errAny},
	}
	ec := directEndpoints[0]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			rec := &recorder{status: tc.status, header: tc.header, body: tc.body}
			o := directOptions(ec, rec)
			sdk := &Backend{cfg: resolved{Config: Config{Bucket: "bucket-1", Flavor: FlavorS3}, required: true}, name: "s3://bucket-1", client: awss3.New(o)}
			dir := &Backend{cfg: sdk.cfg, name: sdk.name, client: sdk.client, direct: newDirect(ctx, o, "bucket-1")}
			require.NotNil(t, dir.direct)

			type got struct {
				info storage.ObjectInfo
				body string
				err  string
			}
			open := func(b *Backend) (g got, err error) {
				rc, info, err := b.Open(ctx, "k", 0, -1)
				if tc.name == "range" || tc.name == "range without total" {
					rc, info, err = b.Open(ctx, "k", 0, 16)
				}
				if err != nil {
					return got{err: err.Error()}, err
				}
				data, rerr := io.ReadAll(rc)
				require.NoError(t, rerr)
				require.NoError(t, rc.Close())
				return got{info: info, body: string(data)}, nil
			}
			put := func(b *Backend) (g got, err error) {
				info, err := b.Put(ctx, "k", strings.NewReader("abc"), storage.ObjectInfo{Size: 3, Checksum: "crc64nvme:AAAAAAAAAAA=",
					Condition: storage.Condition{IfAbsent: true}})
				if err != nil {
					return got{err: err.Error()}, err
				}
				return got{info: info}, nil
			}
			for name, op := range map[string]func(*Backend) (got, error){"open": open, "put": put} {
				want, wantErr := op(sdk)
				have, haveErr := op(dir)
				require.Equal(t, want, have, name)
				require.Equal(t, storage.Classify(wantErr), storage.Classify(haveErr), name)
				if name != "open" {
					continue
				}
				switch tc.want {
				case nil:
					require.NoError(t, haveErr)
				case errAny:
					require.Error(t, haveErr)
				default:
					require.ErrorIs(t, haveErr, tc.want)
				}
			}
		})
	}
}

// errAny marks a case whose GET must fail, with whatever error the SDK's
// reading gives (a PUT's answer has no such header to trip on).
var errAny = errors.New("any error")

// TestDirectLeavesOtherEndpointsToTheSDK: a multi-region access point
// needs SigV4a, which direct does not sign; every request to it stays the
// SDK's.
func TestDirectLeavesOtherEndpointsToTheSDK(t *testing.T) {
	o := directOptions(directCase{region: "us-east-1"}, &recorder{status: 200})
	require.Nil(t, newDirect(t.Context(), o, "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap"))
	o.Credentials = aws.AnonymousCredentials{}
	require.Nil(t, newDirect(t.Context(), o, "bucket-1"))
	require.NotNil(t, newDirect(context.Background(), directOptions(directCase{region: "us-east-1"}, &recorder{}), "bucket-1"))
}

// BenchmarkObjectRequests: Backend.Open (read to the end) and Backend.Put
// of 16 KiB, through the SDK's operation stack and directly, against a
// transport that answers at once: what each way costs per request, with
// nothing of the network in it.
func BenchmarkObjectRequests(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 16<<10)
	rec := &recorder{status: 200, body: string(data), header: http.Header{"Etag": {`"0123abcd"`}, "Content-Length": {"16384"},
		"Last-Modified": {"Mon, 30 Nov 2026 10:00:00 GMT"}, "X-Amz-Checksum-Crc64nvme": {"AAAAAAAAAAA="}, "X-Amz-Checksum-Type": {"FULL_OBJECT"}}}
	o := directOptions(directEndpoints[0], discard{rec})
	sdk := &Backend{cfg: resolved{Config: Config{Bucket: "bucket-1", Flavor: FlavorS3}, required: true}, name: "s3://bucket-1", client: awss3.New(o)}
	dir := &Backend{cfg: sdk.cfg, name: sdk.name, client: sdk.client, direct: newDirect(context.Background(), o, "bucket-1")}
	for _, bc := range []struct {
		name string
		b    *Backend
	}{{"sdk", sdk}, {"direct", dir}} {
		b.Run("open/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rc, _, err := bc.b.Open(b.Context(), "dir/key 1", 0, -1)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, rc)
				rc.Close()
			}
		})
		b.Run("put/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, err := bc.b.Put(b.Context(), "dir/key 1", bytes.NewReader(data), storage.ObjectInfo{Size: int64(len(data)),
					Checksum: "crc64nvme:AAAAAAAAAAA=", Condition: storage.Condition{IfAbsent: true}})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discard answers as rec does, a PUT without the body, and keeps nothing.
type discard struct{ rec *recorder }

func (d discard) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	body, h := d.rec.body, d.rec.header.Clone()
	if req.Method == http.MethodPut { // a PUT is answered with headers only
		body = ""
		h.Set("Content-Length", "0")
	}
	return &http.Response{StatusCode: d.rec.status, Header: h, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: req}, nil
}
