package storage

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Whole-object checksum algorithms a store may keep and validate
// (ObjectInfo.Checksum). All are CRCs, so S3 can carry them across a
// multipart upload as FULL_OBJECT checksums.
const (
	ChecksumCRC32     = "crc32"
	ChecksumCRC32C    = "crc32c"
	ChecksumCRC64NVME = "crc64nvme"
)

// Evidence says what a backend's writes prove about the bytes it stored,
// known before the write. The copier computes only the hashes it will be
// able to compare: every byte hashed costs CPU that, on a busy worker, is
// taken from the transfer itself.
type Evidence struct {
	// CRC64: Put and CompleteUpload report the CRC-64/ECMA of what was
	// stored (OSS).
	CRC64 bool
	// ETagMD5: a single-part ETag is the MD5 of the bytes and a multipart
	// ETag is the MD5 of the parts' MD5s (S3 and OSS without SSE-KMS/SSE-C).
	ETagMD5 bool
	// Checksums: Put accepts info.Checksum and CreateUpload/CompleteUpload
	// Upload.Checksum; the store computes the same checksum over the bytes
	// it receives, refuses the write with ErrCorrupt when they differ, and
	// reports the checksum of what it stored in the result's Checksum. A
	// result without one means the store ignored it: nothing was checked.
	Checksums bool
}

// EvidenceReporter is implemented by backends that state their Evidence.
type EvidenceReporter interface {
	Evidence() Evidence
}

// EvidenceOf returns b's Evidence; a backend that states none is assumed
// to return MD5 ETags and nothing else, so the copier computes the MD5
// that would check them.
func EvidenceOf(b Backend) Evidence {
	if r, ok := b.(EvidenceReporter); ok {
		return r.Evidence()
	}
	return Evidence{ETagMD5: true}
}

// FormatChecksum joins an algorithm and a raw big-endian sum into the
// ObjectInfo.Checksum form.
func FormatChecksum(algo string, sum []byte) string {
	return algo + ":" + base64.StdEncoding.EncodeToString(sum)
}

// ParseChecksum splits an ObjectInfo.Checksum into its algorithm and the
// base64 value, checking that the algorithm is known and the value decodes
// to a sum of the algorithm's size.
func ParseChecksum(s string) (algo, value string, err error) {
	algo, value, ok := strings.Cut(s, ":")
	if !ok {
		return "", "", fmt.Errorf("checksum %q: want <algorithm>:<base64>", s)
	}
	var size int
	switch algo {
	case ChecksumCRC32, ChecksumCRC32C:
		size = 4
	case ChecksumCRC64NVME:
		size = 8
	default:
		return "", "", fmt.Errorf("checksum %q: algorithm %q unknown: use %s, %s or %s", s, algo, ChecksumCRC32, ChecksumCRC32C, ChecksumCRC64NVME)
	}
	raw, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(raw) != size {
		return "", "", fmt.Errorf("checksum %q: value is not the base64 of %d bytes", s, size)
	}
	return algo, value, nil
}
