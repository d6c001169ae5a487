package s3

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-migrate/ferry/storage"
)

// Checksum passthrough (storage.Evidence.Checksums). S3 stores keep a
// whole-object CRC of every object (AWS and versitygw add CRC64NVME by
// default). A copy hands the source's value to the destination, which
// computes its own over the bytes it receives and refuses them on a
// mismatch: the copy is proven end to end without the copier hashing a
// byte for it, and without aws-chunked bodies (the value travels as a plain
// header, which every S3 implementation parses).

// Evidence: the S3 flavour's ETags are MD5s and, unless checksums are
// off, it validates passed-through checksums; OSS reports CRC64 and knows
// no x-amz-checksum headers.
func (b *Backend) Evidence() storage.Evidence {
	if b.cfg.Flavor == FlavorOSS {
		return storage.Evidence{CRC64: true, ETagMD5: true}
	}
	return storage.Evidence{ETagMD5: true, Checksums: b.passChecksums()}
}

// passChecksums says whether to send checksums for validation: not when the
// operator turned checksums down to when_required, and not once the store
// has shown it ignores them.
func (b *Backend) passChecksums() bool {
	return b.useChecksums() && !b.ignoresChecksums.Load()
}

// noteEcho records a write that passed want and got back echo, the
// store's checksum of what it stored: a store that answers none ignores
// the header, so later writes stop sending it (and the copier computes
// what it needs itself).
func (b *Backend) noteEcho(want, echo string) {
	if want != "" && echo == "" {
		b.ignoresChecksums.Store(true)
	}
}

// askChecksum adds x-amz-checksum-mode: ENABLED to a GET so the answer
// carries the stored checksum, without setting the input's ChecksumMode:
// that would make the SDK validate the body with its table-driven CRC64,
// which costs more CPU than the copy. The value is validated instead by the
// destination it is passed to, or by the copier.
func askChecksum(o *awss3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Build.Add(middleware.BuildMiddlewareFunc("ferryChecksumMode",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set("X-Amz-Checksum-Mode", "ENABLED")
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	})
}

// checksumOf picks the whole-object checksum out of a response's fields.
// Composite (per-part) checksums, "<base64>-<parts>", describe a part
// layout, not the bytes, and are left out.
func checksumOf(typ types.ChecksumType, crc32, crc32c, crc64nvme *string) string {
	if typ != "" && typ != types.ChecksumTypeFullObject {
		return ""
	}
	for _, c := range []struct {
		algo string
		v    *string
	}{{storage.ChecksumCRC64NVME, crc64nvme}, {storage.ChecksumCRC32C, crc32c}, {storage.ChecksumCRC32, crc32}} {
		v := aws.ToString(c.v)
		if v == "" || strings.Contains(v, "-") {
			continue
		}
		s := c.algo + ":" + v
		if _, _, err := storage.ParseChecksum(s); err == nil {
			return s
		}
	}
	return ""
}

// checksumFields returns pointers for a write's input fields: the one for
// the checksum's algorithm set to its value, the others nil.
func checksumFields(sum string) (algo types.ChecksumAlgorithm, crc32, crc32c, crc64nvme *string) {
	a, v, err := storage.ParseChecksum(sum)
	if err != nil {
		return "", nil, nil, nil
	}
	switch a {
	case storage.ChecksumCRC32:
		return types.ChecksumAlgorithmCrc32, aws.String(v), nil, nil
	case storage.ChecksumCRC32C:
		return types.ChecksumAlgorithmCrc32c, nil, aws.String(v), nil
	default:
		return types.ChecksumAlgorithmCrc64nvme, nil, nil, aws.String(v)
	}
}

// useChecksums says whether to read and pass x-amz-checksum values at all:
// the S3 flavour unless the operator chose when_required.
func (b *Backend) useChecksums() bool {
	return b.cfg.Flavor == FlavorS3 && b.cfg.Checksums != ChecksumWhenRequired
}
