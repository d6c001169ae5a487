package crc

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gf2DivMod divides a by b as GF(2) polynomials (bit i = coefficient of
// x^i) by schoolbook long division: a different route from the init code's
// step-by-step multiplication, so a shared mistake is unlikely.
func gf2DivMod(a, b *big.Int) (q, r *big.Int) {
	q, r = new(big.Int), new(big.Int).Set(a)
	for r.BitLen() >= b.BitLen() {
		shift := r.BitLen() - b.BitLen()
		r.Xor(r, new(big.Int).Lsh(b, uint(shift)))
		q.SetBit(q, shift, 1)
	}
	return q, r
}

// reflect64 maps coefficient x^i to bit 63-i, taking the bits from a big.Int
// so as not to share bits.Reverse64 with the code under test.
func reflect64(t *testing.T, v *big.Int) uint64 {
	t.Helper()
	if v.BitLen() > 64 {
		t.Fatalf("%v has degree >= 64", v)
	}
	var out uint64
	for i := range 64 {
		if v.Bit(i) == 1 {
			out |= 1 << (63 - i)
		}
	}
	return out
}

func TestFoldConstants(t *testing.T) {
	cases := []struct {
		name string
		v    *variant
		poly uint64 // normal bit order, x^64 implied
	}{
		{"ECMA", ecma, 0x42F0E1EBA9EA3693},
		{"NVME", nvme, 0xAD93D23594C93659},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := new(big.Int).SetUint64(tc.poly)
			p.SetBit(p, 64, 1)
			xnModP := func(n uint) uint64 {
				_, r := gf2DivMod(new(big.Int).Lsh(big.NewInt(1), n), p)
				return reflect64(t, r)
			}
			mu, _ := gf2DivMod(new(big.Int).Lsh(big.NewInt(1), 128), p)
			want := foldConsts{
				fold1024: [2]uint64{xnModP(1024 + 63), xnModP(1024 - 1)},
				fold128:  [2]uint64{xnModP(128 + 63), xnModP(128 - 1)},
				barrett: [2]uint64{
					reflect64(t, new(big.Int).Rsh(mu, 1)),
					reflect64(t, new(big.Int).Rsh(p, 1)),
				},
			}
			assert.Equal(t, want, tc.v.fold)
		})
	}
}

// TestPublishedConstants pins a few values to other implementations' tables
// (Intel ISA-L crc64_ecma_refl, Linux crc64_lsb_0x9a6c9329ac4bc9b5_consts).
// ISA-L stores P/x without the x^0 term; the kernel here keeps it.
func TestPublishedConstants(t *testing.T) {
	assert.Equal(t, foldConsts{
		fold1024: [2]uint64{0x8757d71d4fcc1000, 0xd7d86b2af73de740},
		fold128:  [2]uint64{0xe05dd497ca393ae4, 0xdabe95afc7875f40},
		barrett:  [2]uint64{0x9c3e466c172963d5, 0x92d8af2baf0e1e84 | 1},
	}, ecma.fold)
	assert.Equal(t, [2]uint64{0xa1ca681e733f9c40, 0x5f852fb61e8d92dc}, nvme.fold.fold1024)
	assert.Equal(t, [2]uint64{0xeadc41fd2ba3d420, 0x21e9761e252621ac}, nvme.fold.fold128)
}
