//go:build amd64 && !purego

package crc

import "golang.org/x/sys/cpu"

// useCLMUL is set once at init. SSE4.1 is needed for PEXTRQ in the kernel's
// last step.
var useCLMUL = cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSE41

// clmulMin is where the kernel's fixed cost (final folds and Barrett
// reduction) starts to pay for itself against slicing-by-8: on an AMD EPYC
// the two tie at 16 bytes and the kernel is twice as fast at 32 (see
// BenchmarkSmall).
const clmulMin = 32

func update(crc uint64, v *variant, p []byte) uint64 {
	if useCLMUL && len(p) >= clmulMin {
		n := len(p) &^ 15
		crc = updateCLMUL(crc, p[:n], &v.fold)
		p = p[n:]
	}
	return updateGeneric(crc, v, p)
}

// updateCLMUL continues crc over p, whose length must be a non-zero multiple
// of 16.
//
//go:noescape
func updateCLMUL(crc uint64, p []byte, k *foldConsts) uint64
