//go:build amd64 && !purego

package crc

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLMULKernel calls the kernel directly, below clmulMin too, so both its
// single-lane and eight-lane entries and every count of trailing 16-byte
// folds are checked against the portable path.
func TestCLMULKernel(t *testing.T) {
	if !useCLMUL {
		t.Skip("CPU lacks PCLMULQDQ or SSE4.1")
	}
	buf := randomBuf(t, 11, 8192+16)
	rng := rand.New(rand.NewPCG(12, 13))
	for _, tv := range testVariants {
		t.Run(tv.name, func(t *testing.T) {
			for n := 16; n <= 8192; n += 16 {
				off := rng.IntN(16)
				b := buf[off : off+n]
				crc := rng.Uint64()
				require.Equal(t, updateGeneric(crc, tv.v, b), updateCLMUL(crc, b, &tv.v.fold),
					"len %d off %d crc %#x", n, off, crc)
			}
		})
	}
}
