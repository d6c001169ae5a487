package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/storage"
)

var _ storage.ServerCopier = (*Backend)(nil)

// Single-request copy limits: S3's CopyObject takes sources up to 5 GiB,
// OSS's CopyObject up to 1 GiB. Larger objects are copied in parts.
const (
	s3CopyLimit  = 5 << 30
	ossCopyLimit = 1 << 30
)

// copyWorkers bounds the UploadPartCopy requests in flight for one copy:
// a 5 TB object is up to 10,000 of them, each a server-side copy of up to
// 5 GiB, which one at a time would take hours.
const copyWorkers = 8

// singleCopyLimit is the largest source one CopyObject copies.
func (b *Backend) singleCopyLimit() int64 {
	switch {
	case b.copyLimit > 0:
		return b.copyLimit
	case b.cfg.Flavor == FlavorOSS:
		return ossCopyLimit
	}
	return s3CopyLimit
}

// Copy is CopyObject (metadata directive COPY) up to the store's
// single-copy limit, else a multipart copy: CreateMultipartUpload with
// src's metadata, UploadPartCopy of byte ranges, CompleteMultipartUpload.
//
// The source is pinned by a HEAD: every copy request carries
// x-amz-copy-source-if-match with its ETag, so the copy is of one version
// and its size is the HEAD's; a source replaced meanwhile fails the copy
// with a retryable error.
//
// Conditions: OSS enforces x-oss-forbid-overwrite on CopyObject and has no
// If-Match on writes (refused up front, as for Put). AWS accepts
// If-None-Match and If-Match on CopyObject, but S3-compatible stores
// ignore them there and copy anyway (versitygw 1.8.0 does), and the
// backend cannot tell which store it talks to. So in the S3 flavour a
// conditional copy always goes through CompleteMultipartUpload, whose
// conditions are the ones ProbeConditions verifies for the destination
// (an empty source, which has no part to copy, is a conditional Put of
// nothing with src's metadata). The price is a multipart ETag.
func (b *Backend) Copy(ctx context.Context, src, dst string, info storage.ObjectInfo) (storage.ObjectInfo, error) {
	if err := b.validKey("copy", src); err != nil {
		return storage.ObjectInfo{}, err
	}
	if err := b.validKey("copy", dst); err != nil {
		return storage.ObjectInfo{}, err
	}
	cond, err := b.writeCondition("copy", dst, info.Condition)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	head, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(src)})
	if err != nil {
		return storage.ObjectInfo{}, &storage.Error{Backend: b.name, Op: "copy", Key: dst,
			Err: fmt.Errorf("source %q: %w", src, translate(err))}
	}
	from := headInfo(src, head)
	from.Checksum = "" // a copy declares nothing: the store copies its own bytes
	conditional := !info.Condition.IsZero() && b.cfg.Flavor == FlavorS3
	switch {
	case from.Size > b.singleCopyLimit():
		return b.copyParts(ctx, from, dst, info.Condition)
	case conditional && from.Size == 0:
		meta := from
		meta.Condition = info.Condition
		res, err := b.Put(ctx, dst, strings.NewReader(""), meta)
		return res, b.asCopy(dst, err)
	case conditional:
		return b.copyParts(ctx, from, dst, info.Condition)
	}
	return b.copyObject(ctx, from, dst, cond, info.Condition)
}

// copyObject is one CopyObject.
func (b *Backend) copyObject(ctx context.Context, from storage.ObjectInfo, dst string, cond writeCondition, c storage.Condition) (storage.ObjectInfo, error) {
	in := &awss3.CopyObjectInput{
		Bucket:            aws.String(b.cfg.Bucket),
		Key:               aws.String(dst),
		CopySource:        aws.String(copySource(b.cfg.Bucket, from.Key)),
		CopySourceIfMatch: quotedETag(from.ETag),
		MetadataDirective: types.MetadataDirectiveCopy,
		// Without it S3 gives the copy the STANDARD class.
		StorageClass: types.StorageClass(from.StorageClass),
	}
	out, err := b.client.CopyObject(ctx, in, cond.opts...)
	if err != nil {
		return storage.ObjectInfo{}, b.copyFailed(from.Key, dst, c, err)
	}
	res := storage.ObjectInfo{Key: dst, Size: from.Size}
	if r := out.CopyObjectResult; r != nil {
		res.ETag = storage.TrimETag(aws.ToString(r.ETag))
		res.ModTime = aws.ToTime(r.LastModified)
		res.Checksum = checksumOf(r.ChecksumType, r.ChecksumCRC32, r.ChecksumCRC32C, r.ChecksumCRC64NVME)
	}
	if err := readCRC(&res, out.ResultMetadata); err != nil {
		return storage.ObjectInfo{}, b.wrap("copy", dst, err)
	}
	if from.ETag == "" {
		// Nothing pinned the source, so its HEAD's size proves nothing
		// about what was copied: ask the store.
		st, err := b.Stat(ctx, dst)
		if err != nil {
			return storage.ObjectInfo{}, b.asCopy(dst, err)
		}
		res.Size = st.Size
	}
	return res, nil
}

// copyParts copies from into dst in parts and completes under c. Any
// failure aborts the upload: a copy has nothing to resume that is worth
// more than starting again, and no orphan is left to the sweep.
func (b *Backend) copyParts(ctx context.Context, from storage.ObjectInfo, dst string, c storage.Condition) (storage.ObjectInfo, error) {
	u, err := b.CreateUpload(ctx, dst, from)
	if err != nil {
		return storage.ObjectInfo{}, b.asCopy(dst, err)
	}
	parts, err := b.copyRanges(ctx, u, from)
	if err == nil {
		u.Condition = c
		var res storage.ObjectInfo
		if res, err = b.CompleteUpload(ctx, u, parts); err == nil {
			return res, nil
		}
	}
	_ = b.AbortUpload(context.WithoutCancel(ctx), u)
	return storage.ObjectInfo{}, b.asCopy(dst, err)
}

// copyRanges issues one UploadPartCopy per part, a few at a time.
func (b *Backend) copyRanges(ctx context.Context, u storage.Upload, from storage.ObjectInfo) ([]storage.Part, error) {
	// S3's 5 MiB floor even on OSS: a server-side copy moves no bytes
	// through us, so smaller parts would only add requests.
	size := copyPartSize(from.Size, storage.S3PartLimits().MinPart, b.singleCopyLimit())
	n := int((from.Size + size - 1) / size)
	parts := make([]storage.Part, n)
	errs := make([]error, n)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, copyWorkers)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			off := int64(i) * size
			parts[i], errs[i] = b.copyRange(ctx, u, i+1, from, off, min(size, from.Size-off))
			if errs[i] != nil {
				cancel() // the copy failed; the other parts are wasted work
			}
		}()
	}
	wg.Wait()
	return parts, errors.Join(errs...)
}

func (b *Backend) copyRange(ctx context.Context, u storage.Upload, n int, from storage.ObjectInfo, off, length int64) (storage.Part, error) {
	out, err := b.client.UploadPartCopy(ctx, &awss3.UploadPartCopyInput{
		Bucket:            aws.String(b.cfg.Bucket),
		Key:               aws.String(u.Key),
		UploadId:          aws.String(u.ID),
		PartNumber:        aws.Int32(int32(n)),
		CopySource:        aws.String(copySource(b.cfg.Bucket, from.Key)),
		CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1)),
		CopySourceIfMatch: quotedETag(from.ETag),
	})
	if err != nil {
		return storage.Part{}, b.copyFailed(from.Key, u.Key, storage.Condition{}, err)
	}
	p := storage.Part{Number: n, Size: length}
	if r := out.CopyPartResult; r != nil {
		p.ETag = storage.TrimETag(aws.ToString(r.ETag))
	}
	var info storage.ObjectInfo
	if err := readCRC(&info, out.ResultMetadata); err != nil {
		return storage.Part{}, b.wrap("copy", u.Key, err)
	}
	p.CRC64, p.HasCRC64 = info.CRC64, info.HasCRC64
	return p, nil
}

// copyPartSize is the smallest part size that copies size bytes in at most
// storage.MaxParts parts, but at least minPart and at most limit (a part
// is itself one server-side copy).
func copyPartSize(size, minPart, limit int64) int64 {
	p := max((size+storage.MaxParts-1)/storage.MaxParts, minPart)
	return max(min(p, limit), 1)
}

// copyFailed wraps a failed CopyObject or UploadPartCopy. Their only
// 412 is the source pin failing (the destination's refusals are OSS's
// 409 or come from CompleteMultipartUpload): src was replaced after the
// HEAD. That is not the destination's precondition, and a new attempt
// copies the new version, so it is ErrUnavailable.
func (b *Backend) copyFailed(src, dst string, c storage.Condition, err error) error {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusPreconditionFailed {
		return &storage.Error{Backend: b.name, Op: "copy", Key: dst, Err: fmt.Errorf(
			"%w: source %q was replaced during the copy (%v)", storage.ErrUnavailable, src, err)}
	}
	return b.wrapWrite("copy", dst, c, err)
}

// asCopy relabels an error of a call Copy made (put, create-upload, ...)
// as the copy's, keeping its cause.
func (b *Backend) asCopy(dst string, err error) error {
	if err == nil {
		return nil
	}
	var se *storage.Error
	if errors.As(err, &se) {
		c := *se
		c.Op, c.Key = "copy", dst
		return &c
	}
	return &storage.Error{Backend: b.name, Op: "copy", Key: dst, Err: err}
}

func quotedETag(etag string) *string {
	if etag == "" {
		return nil
	}
	return aws.String(`"` + storage.TrimETag(etag) + `"`)
}

// copySource is x-amz-copy-source: "bucket/key" with the key
// percent-encoded byte by byte except unreserved characters and "/". The
// SDK sends the value as given, and servers decode it with either path or
// query unescaping: a literal "+" would become a space with the latter,
// "?" would start a query (versionId) and "#" a fragment.
func copySource(bucket, key string) string {
	const hex = "0123456789ABCDEF"
	var sb strings.Builder
	sb.Grow(len(bucket) + 1 + 3*len(key))
	sb.WriteString(bucket)
	sb.WriteByte('/')
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			sb.WriteByte(c)
		default:
			sb.WriteByte('%')
			sb.WriteByte(hex[c>>4])
			sb.WriteByte(hex[c&15])
		}
	}
	return sb.String()
}
