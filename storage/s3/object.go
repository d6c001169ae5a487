package s3

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-migrate/ferry/storage"
	"github.com/ferry-migrate/ferry/storage/crc"
)

// ossCRCHeader is OSS's whole-object CRC-64/ECMA, which the SDK does not
// model, so it is read from the raw HTTP response.
const ossCRCHeader = "X-Oss-Hash-Crc64ecma"

// readCRC copies x-oss-hash-crc64ecma of an SDK answer into info (see
// readCRCHeader).
func readCRC(info *storage.ObjectInfo, md middleware.Metadata) error {
	return readCRCHeader(info, rawHeader(md))
}

// rawHeader is the HTTP header of the answer behind an SDK output.
func rawHeader(md middleware.Metadata) http.Header {
	raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok || raw == nil {
		return nil
	}
	return raw.Header
}

// readCRCHeader copies x-oss-hash-crc64ecma into info when present. A
// malformed value is an error (the server answered something we cannot
// trust); an absent one leaves HasCRC64 false ("cannot verify this way").
func readCRCHeader(info *storage.ObjectInfo, h http.Header) error {
	v := h.Get(ossCRCHeader)
	if v == "" {
		return nil
	}
	c, err := crc.ParseOSS(v)
	if err != nil {
		return err
	}
	info.CRC64, info.HasCRC64 = c, true
	return nil
}

// unsignedPayload makes PutObject/UploadPart stream a plain io.Reader: the
// SDK would otherwise need to seek the body to hash it for the signature
// (it only skips that by itself over TLS). Integrity is checked end to end
// by CRC64/ETag instead.
func unsignedPayload(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

func headInfo(key string, out *awss3.HeadObjectOutput) storage.ObjectInfo {
	return storage.ObjectInfo{
		Key:                key,
		Size:               aws.ToInt64(out.ContentLength),
		ModTime:            aws.ToTime(out.LastModified),
		ETag:               storage.TrimETag(aws.ToString(out.ETag)),
		ContentType:        aws.ToString(out.ContentType),
		CacheControl:       aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		Metadata:           lowerKeys(out.Metadata),
		StorageClass:       string(out.StorageClass),
		Checksum:           checksumOf(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME),
	}
}

func getInfo(key string, out *awss3.GetObjectOutput) (storage.ObjectInfo, error) {
	info := storage.ObjectInfo{
		Key:                key,
		Size:               aws.ToInt64(out.ContentLength),
		ModTime:            aws.ToTime(out.LastModified),
		ETag:               storage.TrimETag(aws.ToString(out.ETag)),
		ContentType:        aws.ToString(out.ContentType),
		CacheControl:       aws.ToString(out.CacheControl),
		ContentDisposition: aws.ToString(out.ContentDisposition),
		ContentEncoding:    aws.ToString(out.ContentEncoding),
		Metadata:           lowerKeys(out.Metadata),
		StorageClass:       string(out.StorageClass),
	}
	if out.ContentRange == nil {
		info.Checksum = checksumOf(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME)
	}
	if cr := aws.ToString(out.ContentRange); cr != "" {
		total, err := totalFromContentRange(cr)
		if err != nil {
			return info, err
		}
		info.Size = total
	}
	return info, nil
}

// totalFromContentRange parses "bytes 0-9/100" -> 100.
func totalFromContentRange(cr string) (int64, error) {
	i := strings.LastIndexByte(cr, '/')
	if i < 0 || cr[i+1:] == "*" {
		return 0, fmt.Errorf("server sent Content-Range %q without a total size", cr)
	}
	n, err := strconv.ParseInt(cr[i+1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("server sent malformed Content-Range %q", cr)
	}
	return n, nil
}

func applyPutMeta(in *awss3.PutObjectInput, info storage.ObjectInfo) {
	in.ContentType = optional(info.ContentType)
	in.CacheControl = optional(info.CacheControl)
	in.ContentDisposition = optional(info.ContentDisposition)
	in.ContentEncoding = optional(info.ContentEncoding)
	in.Metadata = info.Metadata
	in.StorageClass = types.StorageClass(info.StorageClass)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func lowerKeys(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

func decodeKey(key, encoding string) (string, error) {
	if encoding != "url" {
		return key, nil
	}
	k, err := url.QueryUnescape(key)
	if err != nil {
		return "", fmt.Errorf("server sent undecodable url-encoded key %q: %w", key, err)
	}
	return k, nil
}

// exactReader passes on exactly n bytes and fails (before the last byte is
// handed over, so the server sees a short body and stores nothing) if the
// source has fewer or more. net/http would only notice extra bytes after
// the request completed, when the object is already stored.
type exactReader struct {
	r    io.Reader
	left int64
	err  error
}

func newExactReader(r io.Reader, n int64) *exactReader { return &exactReader{r: r, left: n} }

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0:
		if extra := probe(e.r); extra {
			e.err = fmt.Errorf("%w: body is longer than the declared size", storage.ErrSizeMismatch)
			return 0, e.err
		}
		return n, nil
	case err == io.EOF:
		e.err = fmt.Errorf("%w: body ended %d bytes short of the declared size", storage.ErrSizeMismatch, e.left)
		return 0, e.err
	case err != nil:
		e.err = err
		return n, err
	}
	return n, nil
}

// probe reports whether r has at least one more byte.
func probe(r io.Reader) bool {
	var one [1]byte
	for i := 0; i < 100; i++ {
		n, err := r.Read(one[:])
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
