// Package crc implements the CRC-64/ECMA-182 checksum that Alibaba OSS
// reports as x-oss-hash-crc64ecma: Go's hash/crc64 with the ECMA table
// (reflected, initial value and final xor all ones). It adds what OSS needs
// on top: combining the CRCs of consecutive parts without re-reading them,
// and parsing and formatting OSS's decimal header value.
//
// AWS's CRC64NVME is a different polynomial; do not mix the two.
package crc

import (
	"fmt"
	"hash"
	"hash/crc64"
	"strconv"
	"strings"
)

var table = crc64.MakeTable(crc64.ECMA)

// New returns a streaming CRC-64/ECMA hash.
func New() hash.Hash64 { return crc64.New(table) }

// Checksum returns the CRC-64/ECMA of b.
func Checksum(b []byte) uint64 { return crc64.Checksum(b, table) }

// Update continues crc (as returned by Checksum or a previous Update) with b.
func Update(crc uint64, b []byte) uint64 { return crc64.Update(crc, table, b) }

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
