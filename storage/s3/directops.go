package s3

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithytime "github.com/aws/smithy-go/time"
)

// get sends in (bucket, key, range) directly and returns the SDK's output
// for it, with the raw headers for readCRCHeader. The caller closes the
// body.
func (d *direct) get(ctx context.Context, c *awss3.Client, in *awss3.GetObjectInput, askSum bool, opts []func(*awss3.Options)) (*awss3.GetObjectOutput, http.Header, error) {
	h := make(http.Header, 6)
	if in.Range != nil {
		h.Set("Range", *in.Range)
	}
	if askSum {
		h.Set("X-Amz-Checksum-Mode", "ENABLED")
	}
	req, err := d.request(ctx, http.MethodGet, "GetObject", aws.ToString(in.Key), h, nil, 0)
	if err != nil {
		return nil, nil, err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		// What the SDK would have returned: the transport's error, which
		// storage.Classify understands (resets, timeouts, cancellation).
		return nil, nil, err
	}
	if resp.StatusCode/100 == 2 {
		if out, ok := getOutput(resp.Header); ok {
			out.Body = resp.Body
			return out, resp.Header, nil
		}
	}
	out, err := c.GetObject(ctx, in, append(opts, replayed(resp))...)
	if err != nil {
		drain(resp)
		return nil, nil, err
	}
	return out, resp.Header, nil
}

// put sends in as one PUT directly. The body is in.Body, of exactly
// *in.ContentLength bytes; ossForbid adds OSS's create-only header.
func (d *direct) put(ctx context.Context, c *awss3.Client, in *awss3.PutObjectInput, ossForbid bool, opts []func(*awss3.Options)) (*awss3.PutObjectOutput, http.Header, error) {
	h := make(http.Header, 12)
	putHeaders(h, in)
	if ossForbid {
		h.Set(ossForbidOverwrite, "true")
	}
	size := aws.ToInt64(in.ContentLength)
	req, err := d.request(ctx, http.MethodPut, "PutObject", aws.ToString(in.Key), h, in.Body, size)
	if err != nil {
		return nil, nil, err
	}
	resp, err := d.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer drain(resp)
	if resp.StatusCode/100 == 2 {
		return putOutput(resp.Header), resp.Header, nil
	}
	// The body is spent; the SDK only reads the answer.
	again := *in
	again.Body = nil
	out, err := c.PutObject(ctx, &again, append(opts, replayed(resp))...)
	if err != nil {
		return nil, nil, err
	}
	return out, resp.Header, nil
}

// putHeaders writes the fields of in that ferry sets, as the SDK's
// serializer writes them (TestDirectRequestsMatchTheSDK holds the two
// together).
func putHeaders(h http.Header, in *awss3.PutObjectInput) {
	set := func(name string, v *string) {
		if v != nil {
			h.Set(name, *v)
		}
	}
	set("Cache-Control", in.CacheControl)
	set("X-Amz-Checksum-Crc32", in.ChecksumCRC32)
	set("X-Amz-Checksum-Crc32c", in.ChecksumCRC32C)
	set("X-Amz-Checksum-Crc64nvme", in.ChecksumCRC64NVME)
	set("Content-Disposition", in.ContentDisposition)
	set("Content-Encoding", in.ContentEncoding)
	ct := "application/octet-stream" // the SDK's default for a streamed body; stores keep it
	if in.ContentType != nil {
		ct = *in.ContentType
	}
	h.Set("Content-Type", ct)
	set("If-Match", in.IfMatch)
	set("If-None-Match", in.IfNoneMatch)
	for k, v := range in.Metadata {
		h.Set("X-Amz-Meta-"+http.CanonicalHeaderKey(k), v)
	}
	if in.StorageClass != "" {
		h.Set("X-Amz-Storage-Class", string(in.StorageClass))
	}
}

// header is the SDK's reading of a header: the first value, trimmed.
func header(h http.Header, name string) *string {
	v := h.Values(name)
	if len(v) == 0 {
		return nil
	}
	s := strings.TrimSpace(v[0])
	return &s
}

// getOutput reads the headers getInfo uses as the SDK's deserializer does.
// ok is false when one of them does not parse: the SDK then has the say.
func getOutput(h http.Header) (*awss3.GetObjectOutput, bool) {
	out := &awss3.GetObjectOutput{
		CacheControl:       header(h, "Cache-Control"),
		ContentDisposition: header(h, "Content-Disposition"),
		ContentEncoding:    header(h, "Content-Encoding"),
		ContentRange:       header(h, "Content-Range"),
		ContentType:        header(h, "Content-Type"),
		ETag:               header(h, "Etag"),
	}
	out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME = checksumHeaders(h)
	if v := header(h, "X-Amz-Storage-Class"); v != nil {
		out.StorageClass = types.StorageClass(*v)
	}
	if v := header(h, "Content-Length"); v != nil {
		n, err := strconv.ParseInt(*v, 0, 64)
		if err != nil {
			return nil, false
		}
		out.ContentLength = &n
	}
	if v := header(h, "Last-Modified"); v != nil {
		t, err := smithytime.ParseHTTPDate(*v)
		if err != nil {
			return nil, false
		}
		out.LastModified = &t
	}
	const meta = "X-Amz-Meta-"
	for k, v := range h {
		if len(k) >= len(meta) && strings.EqualFold(k[:len(meta)], meta) && len(v) > 0 {
			if out.Metadata == nil {
				out.Metadata = map[string]string{}
			}
			out.Metadata[strings.ToLower(k[len(meta):])] = strings.TrimSpace(v[0])
		}
	}
	return out, true
}

// putOutput reads what Put uses of a PUT's answer.
func putOutput(h http.Header) *awss3.PutObjectOutput {
	out := &awss3.PutObjectOutput{ETag: header(h, "Etag")}
	out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME = checksumHeaders(h)
	return out
}

// checksumHeaders reads the stored checksum that GET and PUT answers carry.
func checksumHeaders(h http.Header) (typ types.ChecksumType, crc32, crc32c, crc64nvme *string) {
	if v := header(h, "X-Amz-Checksum-Type"); v != nil {
		typ = types.ChecksumType(*v)
	}
	return typ, header(h, "X-Amz-Checksum-Crc32"), header(h, "X-Amz-Checksum-Crc32c"), header(h, "X-Amz-Checksum-Crc64nvme")
}
