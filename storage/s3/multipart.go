package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-migrate/ferry/storage"
)

// MinPartSize is PartLimits().MinPart: 5 MiB, or 100 KiB on OSS.
func (b *Backend) MinPartSize() int64 { return b.PartLimits().MinPart }

// PartLimits are S3's, or OSS's in the OSS flavour (which accepts parts
// down to 100 KiB and objects up to 48.8 TiB). Other S3-compatible stores
// get S3's: most enforce them.
func (b *Backend) PartLimits() storage.PartLimits {
	if b.cfg.Flavor == FlavorOSS {
		return storage.OSSPartLimits()
	}
	return storage.S3PartLimits()
}

// CreateUpload is CreateMultipartUpload with the object's metadata.
func (b *Backend) CreateUpload(ctx context.Context, key string, info storage.ObjectInfo) (storage.Upload, error) {
	if err := b.validKey("create-upload", key); err != nil {
		return storage.Upload{}, err
	}
	in := &awss3.CreateMultipartUploadInput{
		Bucket:             aws.String(b.cfg.Bucket),
		Key:                aws.String(key),
		ContentType:        optional(info.ContentType),
		CacheControl:       optional(info.CacheControl),
		ContentDisposition: optional(info.ContentDisposition),
		ContentEncoding:    optional(info.ContentEncoding),
		Metadata:           info.Metadata,
		StorageClass:       types.StorageClass(info.StorageClass),
	}
	var declared string
	if info.Checksum != "" && b.passChecksums() {
		declared = info.Checksum
		in.ChecksumAlgorithm, _, _, _ = checksumFields(declared)
		in.ChecksumType = types.ChecksumTypeFullObject
	}
	out, err := b.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return storage.Upload{}, b.wrap("create-upload", key, err)
	}
	return storage.Upload{Key: key, ID: aws.ToString(out.UploadId), Checksum: declared}, nil
}

// UploadPart sends exactly size bytes as part n.
func (b *Backend) UploadPart(ctx context.Context, u storage.Upload, n int, r io.Reader, size int64) (storage.Part, error) {
	if n < 1 || n > storage.MaxParts {
		return storage.Part{}, &storage.Error{Backend: b.name, Op: "upload-part", Key: u.Key,
			Err: fmt.Errorf("part number %d outside 1..%d", n, storage.MaxParts)}
	}
	in := &awss3.UploadPartInput{
		Bucket:        aws.String(b.cfg.Bucket),
		Key:           aws.String(u.Key),
		UploadId:      aws.String(u.ID),
		PartNumber:    aws.Int32(int32(n)),
		Body:          newExactReader(r, size),
		ContentLength: aws.Int64(size),
	}
	if u.Checksum != "" && !b.cfg.required {
		// The SDK computes a part checksum by itself here, and it must be
		// of the upload's algorithm. In when_required mode it sends none
		// and the store computes the parts' own.
		in.ChecksumAlgorithm, _, _, _ = checksumFields(u.Checksum)
	}
	out, err := b.client.UploadPart(ctx, in, unsignedPayload)
	if err != nil {
		return storage.Part{}, b.wrap("upload-part", u.Key, err)
	}
	p := storage.Part{Number: n, Size: size, ETag: storage.TrimETag(aws.ToString(out.ETag))}
	var info storage.ObjectInfo
	if err := readCRC(&info, out.ResultMetadata); err != nil {
		return storage.Part{}, b.wrap("upload-part", u.Key, err)
	}
	p.CRC64, p.HasCRC64 = info.CRC64, info.HasCRC64
	return p, nil
}

// ListParts pages through every part the server holds for u. S3 does not
// report part CRC64s here; the caller keeps its own from UploadPart.
func (b *Backend) ListParts(ctx context.Context, u storage.Upload) ([]storage.Part, error) {
	in := &awss3.ListPartsInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(u.Key), UploadId: aws.String(u.ID)}
	var parts []storage.Part
	for {
		out, err := b.client.ListParts(ctx, in)
		if err != nil {
			return nil, b.wrap("list-parts", u.Key, err)
		}
		for _, p := range out.Parts {
			parts = append(parts, storage.Part{
				Number: int(aws.ToInt32(p.PartNumber)),
				Size:   aws.ToInt64(p.Size),
				ETag:   storage.TrimETag(aws.ToString(p.ETag)),
			})
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			return parts, nil
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
}

// CompleteUpload assembles parts. The result's CRC64 is set only when the
// server sends one (OSS, when every part had one).
func (b *Backend) CompleteUpload(ctx context.Context, u storage.Upload, parts []storage.Part) (storage.ObjectInfo, error) {
	cond, err := b.writeCondition("complete-upload", u.Key, u.Condition)
	if err != nil {
		return storage.ObjectInfo{}, err
	}
	done := make([]types.CompletedPart, len(parts))
	var size int64
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(int32(p.Number)), ETag: aws.String(`"` + p.ETag + `"`)}
		size += p.Size
	}
	in := &awss3.CompleteMultipartUploadInput{
		Bucket:          aws.String(b.cfg.Bucket),
		Key:             aws.String(u.Key),
		UploadId:        aws.String(u.ID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
		IfNoneMatch:     cond.ifNoneMatch,
		IfMatch:         cond.ifMatch,
	}
	if u.Checksum != "" {
		// The store validates the assembled object against the value
		// declared at CreateUpload (BadDigest -> ErrCorrupt), and wants
		// each part's checksum too, which it computed itself; a resumed
		// upload's parts were sent by other processes, so ask for them.
		in.ChecksumType = types.ChecksumTypeFullObject
		_, in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumCRC64NVME = checksumFields(u.Checksum)
		if err := b.partChecksums(ctx, u, done); err != nil {
			return storage.ObjectInfo{}, err
		}
	}
	out, err := b.client.CompleteMultipartUpload(ctx, in, cond.opts...)
	if err != nil {
		return storage.ObjectInfo{}, b.wrapWrite("complete-upload", u.Key, u.Condition, err)
	}
	info := storage.ObjectInfo{Key: u.Key, Size: size, ETag: storage.TrimETag(aws.ToString(out.ETag)),
		Checksum: checksumOf(out.ChecksumType, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME)}
	b.noteEcho(u.Checksum, info.Checksum)
	if err := readCRC(&info, out.ResultMetadata); err != nil {
		return storage.ObjectInfo{}, b.wrap("complete-upload", u.Key, err)
	}
	return info, nil
}

// AbortUpload is AbortMultipartUpload; an upload already gone is success.
func (b *Backend) AbortUpload(ctx context.Context, u storage.Upload) error {
	_, err := b.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket: aws.String(b.cfg.Bucket), Key: aws.String(u.Key), UploadId: aws.String(u.ID)})
	if err != nil {
		if t := translate(err); errors.Is(t, storage.ErrNoSuchUpload) || errors.Is(t, storage.ErrNotFound) {
			return nil
		}
	}
	return b.wrap("abort-upload", u.Key, err)
}

// ListUploads pages through ListMultipartUploads.
func (b *Backend) ListUploads(ctx context.Context, prefix string, fn func(storage.Upload) error) error {
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.cfg.Bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return b.wrap("list-uploads", prefix, err)
		}
		for _, up := range out.Uploads {
			if err := fn(storage.Upload{Key: aws.ToString(up.Key), ID: aws.ToString(up.UploadId)}); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// partChecksums fills done's checksum fields from ListParts.
func (b *Backend) partChecksums(ctx context.Context, u storage.Upload, done []types.CompletedPart) error {
	in := &awss3.ListPartsInput{Bucket: aws.String(b.cfg.Bucket), Key: aws.String(u.Key), UploadId: aws.String(u.ID)}
	held := map[int32]types.Part{}
	for {
		out, err := b.client.ListParts(ctx, in)
		if err != nil {
			return b.wrap("complete-upload", u.Key, err)
		}
		for _, p := range out.Parts {
			held[aws.ToInt32(p.PartNumber)] = p
		}
		if !aws.ToBool(out.IsTruncated) || out.NextPartNumberMarker == nil {
			break
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
	for i := range done {
		p := held[aws.ToInt32(done[i].PartNumber)]
		done[i].ChecksumCRC32, done[i].ChecksumCRC32C, done[i].ChecksumCRC64NVME = p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME
	}
	return nil
}
