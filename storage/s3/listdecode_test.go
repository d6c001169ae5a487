package s3

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/require"

	"github.com/ferry-migrate/ferry/storage"
)

const s3NS = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`

// listBodies are success bodies both decoders must read alike.
var listBodies = []struct {
	name, body string
}{
	{"s3 truncated page with token", `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult ` + s3NS + `><Name>bucket</Name><Prefix>photos%2F</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated><ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</ContinuationToken>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwN=</NextContinuationToken><StartAfter>photos%2Fa</StartAfter>
<Contents><Key>photos%2F2006%2FJanuary%2Fsample.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>
<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><ChecksumType>FULL_OBJECT</ChecksumType>
<Size>434234</Size><Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>mtd@amazon.com</DisplayName></Owner>
<StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>photos%2Fa%20b%2B%E2%9C%93+x</Key><LastModified>2024-02-29T23:59:59Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328-3&quot;</ETag>
<Size>0</Size><StorageClass>GLACIER</StorageClass><RestoreStatus><IsRestoreInProgress>false</IsRestoreInProgress>
<RestoreExpiryDate>2012-12-21T00:00:00.123456Z</RestoreExpiryDate></RestoreStatus></Contents></ListBucketResult>`},
	{"oss page", `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://doc.oss-cn-hangzhou.aliyuncs.com"><Name>examplebucket</Name><Prefix></Prefix><MaxKeys>100</MaxKeys>
<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
<Contents><Key>fun%2Fmovie%2F001.avi</Key><LastModified>2012-02-24T08:43:07.000Z</LastModified><ETag>"5B3C1A2E053D763E1B002CC607C5A0FE1****"</ETag>
<Type>Normal</Type><Size>344606</Size><StorageClass>Standard</StorageClass><Owner><ID>0022012****</ID><DisplayName>user-example</DisplayName></Owner></Contents>
<Contents><Key>fun%2Ftest.jpg</Key><LastModified>2012-02-24T08:43:27.000Z</LastModified><ETag>"5B3C1A2E053D763E1B002CC607C5A0FE1****"</ETag>
<Type>Appendable</Type><Size>10</Size><StorageClass>IA</StorageClass><RestoreInfo>ongoing-request="true"</RestoreInfo></Contents><KeyCount>2</KeyCount></ListBucketResult>`},
	{"oss without namespace, prefixed s3 names", `<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Name>b</s3:Name>
<s3:Contents><s3:Key>k</s3:Key><s3:Size>1</s3:Size></s3:Contents><s3:IsTruncated>false</s3:IsTruncated></s3:ListBucketResult>`},
	{"empty page", `<ListBucketResult ` + s3NS + `><Name>b</Name><Prefix/><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`},
	{"common prefixes only", `<ListBucketResult ` + s3NS + `><Name>b</Name><Prefix>a%2F</Prefix><Delimiter>%2F</Delimiter><EncodingType>url</EncodingType>
<KeyCount>3</KeyCount><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>a%2Fb%2F</Prefix></CommonPrefixes>
<CommonPrefixes><Prefix>a%2Fc%20d%2F</Prefix></CommonPrefixes><CommonPrefixes><Prefix>a%2F%E6%97%A5%2F</Prefix></CommonPrefixes></ListBucketResult>`},
	{"entities, CRLF, CDATA and case", "<ListBucketResult><Contents><Key>a&amp;b&lt;c&gt;d&apos;e&quot;f&#65;&#x263A;&#x1F600;\r\ng\rh</Key>" +
		"<etag><![CDATA[\"x&amp;\"]]></etag><SIZE>7</SIZE></Contents><NextContinuationToken/></ListBucketResult>"},
	{"unknown elements, attributes, comments, PIs", `<?xml version="1.0"?><!DOCTYPE x><!-- c --><ListBucketResult a="1>2" b='x'>
<Unknown><Deep a="&gt;"><Deeper/>text<![CDATA[<Contents>]]></Deep></Unknown><?pi x?>
<Contents><Future x="y"><Key>wrong</Key></Future><Key>right</Key><!-- <Key>no</Key> --><Size>+5</Size></Contents>
<Contents/><IsTruncated>1</IsTruncated><NextContinuationToken></NextContinuationToken></ListBucketResult>
<!-- trailing -->`},
	{"fraction digits and leap day", `<ListBucketResult><Contents><Key>k</Key><LastModified>2024-02-29T01:02:03.5Z</LastModified></Contents>
<Contents><Key>l</Key><LastModified>2024-01-01T00:00:00.123456789Z</LastModified></Contents>
<Contents><Key>m</Key><LastModified>2024-01-01T00:00:00+02:00</LastModified></Contents></ListBucketResult>`},
}

// fakeTransport answers every request with status and body.
type fakeTransport struct {
	status int
	body   string
}

func (f fakeTransport) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: f.status, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(strings.NewReader(f.body)), ContentLength: int64(len(f.body)), Request: r}, nil
}

func fakeClient(status int, body string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("https://s3.test"), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AK", "SK", ""),
		HTTPClient:  fakeTransport{status, body}, Retryer: aws.NopRetryer{},
	})
}

var listInput = &awss3.ListObjectsV2Input{Bucket: aws.String("b"), EncodingType: types.EncodingTypeUrl}

// TestListDecoderMatchesSDK decodes each body through the SDK's
// deserializer and through ours and wants the same output, field by field.
func TestListDecoderMatchesSDK(t *testing.T) {
	for _, tc := range listBodies {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeClient(200, tc.body)
			want, err := c.ListObjectsV2(t.Context(), listInput)
			require.NoError(t, err)
			got, err := c.ListObjectsV2(t.Context(), listInput, withListDecoder)
			require.NoError(t, err)
			want.ResultMetadata, got.ResultMetadata = middleware.Metadata{}, middleware.Metadata{}
			require.Equal(t, want, got)
			require.NotEqual(t, &awss3.ListObjectsV2Output{ResultMetadata: middleware.Metadata{}}, got, "the body decoded to nothing")
		})
	}
}

// TestDecodeListPage pins what the decoder reads from a few bodies, so a
// change that broke both decoders alike would still show.
func TestDecodeListPage(t *testing.T) {
	body := func(name string) []byte {
		for _, b := range listBodies {
			if b.name == name {
				return []byte(b.body)
			}
		}
		panic(name)
	}
	s3Page, err := decodeListPage(body("s3 truncated page with token"))
	require.NoError(t, err)
	require.Len(t, s3Page.Contents, 2)
	o := s3Page.Contents[0]
	require.Equal(t, "photos%2F2006%2FJanuary%2Fsample.jpg", *o.Key)
	require.Equal(t, `"fba9dede5f27731c9771645a39863328"`, *o.ETag)
	require.Equal(t, int64(434234), *o.Size)
	require.Equal(t, time.Date(2009, 10, 12, 17, 50, 30, 0, time.UTC), *o.LastModified)
	require.Equal(t, types.ObjectStorageClassStandard, o.StorageClass)
	require.Equal(t, []types.ChecksumAlgorithm{types.ChecksumAlgorithmCrc64nvme}, o.ChecksumAlgorithm)
	require.Equal(t, types.ChecksumTypeFullObject, o.ChecksumType)
	require.Equal(t, "mtd@amazon.com", *o.Owner.DisplayName)
	require.True(t, *s3Page.IsTruncated)
	require.Equal(t, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwN=", *s3Page.NextContinuationToken)
	require.Equal(t, "photos%2Fa", *s3Page.StartAfter)
	require.Equal(t, int32(2), *s3Page.KeyCount)
	require.Equal(t, types.EncodingTypeUrl, s3Page.EncodingType)

	ent, err := decodeListPage(body("entities, CRLF, CDATA and case"))
	require.NoError(t, err)
	require.Equal(t, "a&b<c>d'e\"fA☺😀\ng\nh", *ent.Contents[0].Key)
	require.Equal(t, `"x&amp;"`, *ent.Contents[0].ETag)
	require.Equal(t, "", *ent.NextContinuationToken)

	unk, err := decodeListPage(body("unknown elements, attributes, comments, PIs"))
	require.NoError(t, err)
	require.Len(t, unk.Contents, 2)
	require.Equal(t, "right", *unk.Contents[0].Key)
	require.Equal(t, int64(5), *unk.Contents[0].Size)
	require.Equal(t, types.Object{}, unk.Contents[1])

	dirs, err := decodeListPage(body("common prefixes only"))
	require.NoError(t, err)
	require.Nil(t, dirs.Contents)
	require.Equal(t, []types.CommonPrefix{{Prefix: aws.String("a%2Fb%2F")}, {Prefix: aws.String("a%2Fc%20d%2F")},
		{Prefix: aws.String("a%2F%E6%97%A5%2F")}}, dirs.CommonPrefixes)
}

// TestDecodeListPageMalformed: a body that is not a whole, well-formed page
// is an error naming the problem, never a short page.
func TestDecodeListPageMalformed(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"empty body", "", "empty body"},
		{"blank body", " \n", "empty body"},
		{"other document", `<Error><Code>InternalError</Code></Error>`, "document element is <Error>"},
		{"cut after root", `<ListBucketResult>`, "body ends inside"},
		{"cut in an object", `<ListBucketResult><Contents><Key>a</Key><Si`, "unterminated start tag"},
		{"cut in a value", `<ListBucketResult><Contents><Key>abc`, "body ends inside <Key>"},
		{"cut before root end", `<ListBucketResult><IsTruncated>false</IsTruncated>`, "body ends inside"},
		{"mismatched end", `<ListBucketResult><Contents><Key>a</Size></Contents></ListBucketResult>`, "<Key> closed by </Size>"},
		{"mismatched end in unknown element", `<ListBucketResult><Future><A></B></Future></ListBucketResult>`, "<A> closed by </B>"},
		{"mismatched root end", `<ListBucketResult></ListBucket>`, "closed by </ListBucket>"},
		{"unknown entity", `<ListBucketResult><Contents><Key>a&nbsp;b</Key></Contents></ListBucketResult>`, "entity &nbsp;"},
		{"unterminated entity", `<ListBucketResult><Contents><Key>a&amp b</Key></Contents></ListBucketResult>`, "unterminated entity"},
		{"invalid char ref", `<ListBucketResult><Contents><Key>&#0;</Key></Contents></ListBucketResult>`, "entity &#0;"},
		{"bad size", `<ListBucketResult><Contents><Size>12x</Size></Contents></ListBucketResult>`, `parsing "12x"`},
		{"bad time", `<ListBucketResult><Contents><LastModified>2024-02-30T00:00:00Z</LastModified></Contents></ListBucketResult>`, "timestamp"},
		{"bad bool", `<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>`, "not a boolean"},
		{"element in text", `<ListBucketResult><Contents><Key>a<b/></Key></Contents></ListBucketResult>`, "element <b> inside <Key>"},
		{"unterminated comment", `<ListBucketResult><!-- x</ListBucketResult>`, "unterminated"},
		{"unterminated CDATA", `<ListBucketResult><Contents><Key><![CDATA[x</Key></Contents></ListBucketResult>`, "unterminated CDATA"},
		{"nameless element", `<ListBucketResult>< x/></ListBucketResult>`, "without a name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := decodeListPage([]byte(tc.body))
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, out)
		})
	}
}

// TestListDecoderErrorResponses: an error answer takes the SDK's path and
// becomes the same typed error as without our decoder.
func TestListDecoderErrorResponses(t *testing.T) {
	errBody := func(code string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>m</Message><RequestId>r</RequestId></Error>`
	}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"no such bucket", 404, errBody("NoSuchBucket"), storage.ErrBucketNotFound},
		{"access denied", 403, errBody("AccessDenied"), storage.ErrAccessDenied},
		{"slow down", 503, errBody("SlowDown"), storage.ErrThrottled},
		{"bare 503", 503, "", storage.ErrUnavailable},
		{"internal error", 500, errBody("InternalError"), storage.ErrUnavailable},
		{"bad signature", 403, errBody("SignatureDoesNotMatch"), storage.ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeClient(tc.status, tc.body)
			_, sdkErr := c.ListObjectsV2(t.Context(), listInput)
			_, err := c.ListObjectsV2(t.Context(), listInput, withListDecoder)
			require.ErrorIs(t, translate(err), tc.want)
			require.Equal(t, sdkErr.Error(), err.Error())
			require.Equal(t, storage.Classify(translate(sdkErr)), storage.Classify(translate(err)))
		})
	}
	_, err := fakeClient(200, "<ListBucketResult><Contents>").ListObjectsV2(t.Context(), listInput, withListDecoder)
	var de *smithy.DeserializationError
	require.ErrorAs(t, err, &de)
	require.ErrorContains(t, err, "body ends inside")
}

// TestListDecodesKeys runs List and ListLevel over the decoder: keys and
// prefixes come out URL-decoded and in order, and the token is followed.
func TestListDecodesKeys(t *testing.T) {
	page := `<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>
<Contents><Key>a%20b+c</Key><ETag>&quot;e&quot;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>d%2Fe%E2%9C%93%2B</Key><Size>4</Size></Contents><CommonPrefixes><Prefix>c%2F</Prefix></CommonPrefixes></ListBucketResult>`
	b := &Backend{name: "fake", client: fakeClient(200, page)}
	b.cfg.Bucket = "b"
	var keys []string
	require.NoError(t, b.List(t.Context(), "", "", func(o storage.ObjectInfo) error {
		keys = append(keys, fmt.Sprintf("%s %d %s %s", o.Key, o.Size, o.ETag, o.StorageClass))
		return nil
	}))
	require.Equal(t, []string{"a b c 3 e STANDARD", "d/e✓+ 4  "}, keys)
	keys = nil
	require.NoError(t, b.ListLevel(t.Context(), "", func(o storage.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}, func(d string) error { keys = append(keys, "dir "+d); return nil }))
	require.Equal(t, []string{"a b c", "dir c/", "d/e✓+"}, keys)
}

// BenchmarkDecodeListPage: one 1,000-key page, as the scale harness's fake
// S3 and real S3 shape them, through the whole client call with the SDK's
// deserializer and with ours, and through decodeListPage alone.
func BenchmarkDecodeListPage(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ListBucketResult ` + s3NS + `><Name>src</Name><Prefix></Prefix>` +
		`<MaxKeys>1000</MaxKeys><EncodingType>url</EncodingType><KeyCount>1000</KeyCount><IsTruncated>true</IsTruncated>`)
	for i := range 1000 {
		fmt.Fprintf(&sb, `<Contents><Key>k%010d</Key><LastModified>2026-11-30T09:37:00.000Z</LastModified>`+
			`<ETag>&quot;620f0b67a91f7f74151bc5be745b7110&quot;</ETag><Size>1024</Size><StorageClass>STANDARD</StorageClass></Contents>`, i)
	}
	sb.WriteString(`<NextContinuationToken>k0000000999</NextContinuationToken></ListBucketResult>`)
	body := sb.String()
	c := fakeClient(200, body)
	for _, bc := range []struct {
		name string
		opts []func(*awss3.Options)
	}{{"sdk", nil}, {"ferry", []func(*awss3.Options){withListDecoder}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				out, err := c.ListObjectsV2(b.Context(), listInput, bc.opts...)
				if err != nil || len(out.Contents) != 1000 {
					b.Fatal(err, len(out.Contents))
				}
			}
		})
	}
	b.Run("decoder-only", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		raw := []byte(body)
		for b.Loop() {
			if out, err := decodeListPage(raw); err != nil || len(out.Contents) != 1000 {
				b.Fatal(err)
			}
		}
	})
}
