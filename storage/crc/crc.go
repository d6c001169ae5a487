// Package crc implements the two CRC-64s that object stores report:
//
//   - CRC-64/XZ (ECMA-182, reflected), which Alibaba OSS sends as
//     x-oss-hash-crc64ecma: Go's hash/crc64 with the ECMA table. For it the
//     package adds what OSS needs on top: combining the CRCs of consecutive
//     parts without re-reading them, and parsing and formatting OSS's
//     decimal header value.
//   - CRC-64/NVME, which AWS S3 sends as x-amz-checksum-crc64nvme.
//
// Both are reflected with initial value and final xor all ones, but the
// polynomials differ; do not mix the two. On amd64 with PCLMULQDQ both run
// a carry-less multiplication kernel; elsewhere they use slicing-by-8
// tables. Results are identical to hash/crc64 with the same polynomial.
package crc

import (
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc64"
	"strconv"
	"strings"
)

// New returns a streaming CRC-64/ECMA hash.
func New() hash.Hash64 { return &digest{v: ecma} }

// Checksum returns the CRC-64/ECMA of b.
func Checksum(b []byte) uint64 { return update(0, ecma, b) }

// Update continues crc (as returned by Checksum or a previous Update) with b.
func Update(crc uint64, b []byte) uint64 { return update(crc, ecma, b) }

// NewNVME returns a streaming CRC-64/NVME hash.
func NewNVME() hash.Hash64 { return &digest{v: nvme} }

// ChecksumNVME returns the CRC-64/NVME of b.
func ChecksumNVME(b []byte) uint64 { return update(0, nvme, b) }

// UpdateNVME continues crc (as returned by ChecksumNVME or a previous
// UpdateNVME) with b.
func UpdateNVME(crc uint64, b []byte) uint64 { return update(crc, nvme, b) }

// digest mirrors hash/crc64's: Sum appends the big-endian CRC.
type digest struct {
	crc uint64
	v   *variant
}

func (d *digest) Size() int      { return crc64.Size }
func (d *digest) BlockSize() int { return 1 }
func (d *digest) Reset()         { d.crc = 0 }
func (d *digest) Sum64() uint64  { return d.crc }

func (d *digest) Write(p []byte) (int, error) {
	d.crc = update(d.crc, d.v, p)
	return len(p), nil
}

func (d *digest) Sum(in []byte) []byte { return binary.BigEndian.AppendUint64(in, d.crc) }

// Clone keeps parity with hash/crc64's digest, which implements hash.Cloner.
func (d *digest) Clone() (hash.Cloner, error) {
	c := *d
	return &c, nil
}

// Combine returns the CRC of A followed by B, given crcA = CRC(A),
// crcB = CRC(B) and lenB = len(B). It runs in O(log lenB) 64x64 GF(2) matrix
// squarings, so a 10,000-part object combines without touching its bytes.
// This is zlib's crc32_combine carried over to 64 bits; it works because
// the initial and final inversions cancel out across the concatenation.
func Combine(crcA, crcB uint64, lenB int64) uint64 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [64]uint64
	// odd = operator for one zero bit: shift right, xor polynomial on carry.
	odd[0] = crc64.ECMA
	row := uint64(1)
	for n := 1; n < 64; n++ {
		odd[n] = row
		row <<= 1
	}
	square(&even, &odd) // two zero bits
	square(&odd, &even) // four zero bits
	// Apply len2 zero bytes to crcA, one bit of lenB per squaring
	// (the first squaring below yields the operator for one zero byte).
	for {
		square(&even, &odd)
		if lenB&1 != 0 {
			crcA = times(&even, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
		square(&odd, &even)
		if lenB&1 != 0 {
			crcA = times(&odd, crcA)
		}
		lenB >>= 1
		if lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

func times(mat *[64]uint64, vec uint64) uint64 {
	var sum uint64
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

func square(dst, mat *[64]uint64) {
	for n := range dst {
		dst[n] = times(mat, mat[n])
	}
}

// ParseOSS parses the decimal uint64 that OSS sends in
// x-oss-hash-crc64ecma. The error names the bad value.
func ParseOSS(s string) (uint64, error) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("x-oss-hash-crc64ecma %q is not a decimal uint64: %w", s, err)
	}
	return v, nil
}

// FormatOSS formats v the way OSS sends it.
func FormatOSS(v uint64) string { return strconv.FormatUint(v, 10) }
