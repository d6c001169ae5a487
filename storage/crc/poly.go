package crc

import (
	"encoding/binary"
	"hash/crc64"
	"math/bits"
)

// nvmePoly is CRC-64/NVME's polynomial 0xAD93D23594C93659 in the reflected
// bit order that hash/crc64.MakeTable takes.
const nvmePoly = 0x9A6C9329AC4BC9B5

// variant is everything one reflected CRC-64 needs, derived once from its
// polynomial so that ECMA and NVME cannot drift apart in how they are built.
type variant struct {
	slicing *[8]crc64.Table // [0] is hash/crc64's table for the polynomial
	fold    foldConsts
}

// foldConsts feeds the carry-less multiplication kernel. All values are
// reflected (bit i is the coefficient of x^(63-i)), like the CRC register.
//
// A reflected 64x64 carry-less product comes out one degree short, which is
// why each exponent below is one less than the distance it folds across.
// The layout is read by assembly through go_asm.h, so keep the fields
// [2]uint64: each pair is loaded as one 16-byte vector.
type foldConsts struct {
	// x^(1024+63) and x^(1024-1) mod P: move a 16-byte lane 128 bytes on,
	// for the low (earlier) and high quadword of the lane respectively.
	fold1024 [2]uint64
	// The same for 16 bytes; the high half, x^127, also does the final
	// 128-to-64-bit fold.
	fold128 [2]uint64
	// Barrett reduction: floor(x^128/P) and P, each divided by x. The
	// division drops a constant term that either cannot reach the bits we
	// keep (mu) or is put back with one xor (P), and makes both fit in 64
	// bits.
	barrett [2]uint64
}

var (
	ecma = newVariant(crc64.ECMA)
	nvme = newVariant(nvmePoly)
)

// newVariant derives the tables for the reflected polynomial refPoly.
func newVariant(refPoly uint64) *variant {
	if refPoly>>63 == 0 {
		// The Barrett step relies on P having an x^0 term; every CRC
		// polynomial does, so this only catches a mistyped constant.
		panic("crc: polynomial without x^0 term")
	}
	poly := bits.Reverse64(refPoly)
	v := &variant{slicing: slicingTables(crc64.MakeTable(refPoly))}
	v.fold = foldConsts{
		fold1024: [2]uint64{reflectedXnMod(1024+63, poly), reflectedXnMod(1024-1, poly)},
		fold128:  [2]uint64{reflectedXnMod(128+63, poly), reflectedXnMod(128-1, poly)},
		barrett:  [2]uint64{bits.Reverse64(muDivX(poly)), bits.Reverse64(1<<63 | poly>>1)},
	}
	return v
}

// xnMod returns x^n mod (x^64 + poly), in normal bit order. n stays around
// a thousand, so multiplying by x one step at a time is fast enough for init.
func xnMod(n int, poly uint64) uint64 {
	r := uint64(1)
	for ; n > 0; n-- {
		r = r<<1 ^ (-(r >> 63) & poly)
	}
	return r
}

func reflectedXnMod(n int, poly uint64) uint64 { return bits.Reverse64(xnMod(n, poly)) }

// muDivX returns floor(x^128 / (x^64 + poly)) / x, in normal bit order. The
// quotient has degree 64; dividing by x makes it fit a uint64 at the cost of
// its x^0 term, which only affects product bits below x^64 that Barrett
// reduction throws away.
func muDivX(poly uint64) uint64 {
	// Invariant: x^k = q*P + r. It starts at k = 64 with q = 1, r = poly;
	// q's leading 1 leaves the uint64 after 64 steps and is restored below.
	q, r := uint64(1), poly
	for k := 64; k < 128; k++ {
		top := r >> 63
		q = q<<1 | top
		r = r<<1 ^ (-top & poly)
	}
	return 1<<63 | q>>1
}

// slicingTables extends a byte-wise table to slicing-by-8. hash/crc64 has
// these built in only for ECMA and ISO; for any other table it rebuilds them
// on every call of 2 KiB or more, so NVME needs its own.
func slicingTables(t *crc64.Table) *[8]crc64.Table {
	var s [8]crc64.Table
	s[0] = *t
	for k := 1; k < 8; k++ {
		for i := range s[k] {
			prev := s[k-1][i]
			s[k][i] = prev>>8 ^ s[0][byte(prev)]
		}
	}
	return &s
}

// updateGeneric is the portable path, and on amd64 the one for short inputs
// and for the sub-16-byte tail the kernel leaves over.
func updateGeneric(crc uint64, v *variant, p []byte) uint64 {
	t := v.slicing
	crc = ^crc
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][byte(crc)] ^ t[6][byte(crc>>8)] ^
			t[5][byte(crc>>16)] ^ t[4][byte(crc>>24)] ^
			t[3][byte(crc>>32)] ^ t[2][byte(crc>>40)] ^
			t[1][byte(crc>>48)] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}
