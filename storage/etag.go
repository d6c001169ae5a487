package storage

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
)

// The rules of ETags as S3 and OSS make them (DESIGN §5), in one place for
// the copier's verifier and the master's audit. A single-part ETag is the
// MD5 of the bytes; a multipart ETag is the MD5 of the parts' binary MD5s,
// "-", the number of parts, so it depends on the part size and is never
// compared across providers. OSS upper-cases ETags, S3 lower-cases them,
// and servers quote them. Stores with SSE-KMS/SSE-C (and many others)
// return ETags of the same shapes that are not MD5s at all: a shape says
// what an ETag may be compared with, not that it is a digest.

// ETagEqual compares two ETags the way they must be compared across
// providers: quotes stripped, case-insensitive. Two empty ETags are not equal:
// unknown never matches unknown.
func ETagEqual(a, b string) bool {
	a, b = TrimETag(a), TrimETag(b)
	return a != "" && strings.EqualFold(a, b)
}

// TrimETag removes the quotes servers put around ETags.
func TrimETag(s string) string {
	return strings.Trim(strings.TrimSpace(s), `"`)
}

// IsMD5ETag reports whether etag (quotes allowed) has the shape of a
// single-part ETag: an MD5, 32 hex digits in either case.
func IsMD5ETag(etag string) bool {
	return isHexMD5(TrimETag(etag))
}

// MultipartETagParts returns N when etag (quotes allowed) has the shape of
// a multipart ETag, "<32 hex digits>-N" with N >= 1 written without
// leading zeros, else 0.
func MultipartETagParts(etag string) int {
	sum, count, ok := strings.Cut(TrimETag(etag), "-")
	if !ok || !isHexMD5(sum) {
		return 0
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || strconv.Itoa(n) != count {
		return 0
	}
	return n
}

// MultipartETag is the ETag S3 and OSS give an object assembled from parts
// with these MD5s, in part order, in lower case.
func MultipartETag(partMD5s [][]byte) string {
	h := md5.New()
	for _, m := range partMD5s {
		_, _ = h.Write(m)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partMD5s))
}

func isHexMD5(s string) bool {
	if len(s) != 2*md5.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
