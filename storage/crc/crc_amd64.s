//go:build amd64 && !purego

#include "go_asm.h"
#include "textflag.h"

// Reflected CRC-64 by carry-less multiplication folding, after Intel's
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ". Bytes are
// loaded little-endian, so the low quadword of a lane holds the earlier,
// higher-degree half of the message; every fold multiplies the low half by
// the first constant of a pair and the high half by the second.

// FOLD multiplies the lane acc by x^d mod P, for the distance d that X0
// holds constants for, and adds next: acc = acc*x^d + next.
#define FOLD(acc, next, tmp) \
	MOVOA     acc, tmp;       \
	PCLMULQDQ $0x00, X0, acc; \
	PCLMULQDQ $0x11, X0, tmp; \
	PXOR      tmp, acc;       \
	PXOR      next, acc

// FOLDLOAD is FOLD with next loaded from off(SI). Two scratch registers per
// lane are enough: register renaming removes the false dependencies.
#define FOLDLOAD(acc, off, load, tmp) \
	MOVOU off(SI), load; \
	FOLD(acc, load, tmp)

// func updateCLMUL(crc uint64, p []byte, k *foldConsts) uint64
TEXT ·updateCLMUL(SB), NOSPLIT, $0-48
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ k+32(FP), DX

	// The register is kept inverted, as in hash/crc64. Adding it to the
	// first 8 bytes is the same as continuing from it, since the message
	// is at least 64 bits long.
	MOVQ crc+0(FP), AX
	NOTQ AX
	MOVQ AX, X0
	MOVOU (SI), X1
	PXOR  X0, X1

	CMPQ CX, $128
	JB   short

	// Eight lanes in flight hide PCLMULQDQ's latency.
	MOVOU 16(SI), X2
	MOVOU 32(SI), X3
	MOVOU 48(SI), X4
	MOVOU 64(SI), X5
	MOVOU 80(SI), X6
	MOVOU 96(SI), X7
	MOVOU 112(SI), X8
	ADDQ  $128, SI
	SUBQ  $128, CX
	MOVOU foldConsts_fold1024(DX), X0

	CMPQ CX, $128
	JB   merge

	PCALIGN $16

loop128:
	FOLDLOAD(X1, 0, X9, X10)
	FOLDLOAD(X2, 16, X11, X12)
	FOLDLOAD(X3, 32, X13, X14)
	FOLDLOAD(X4, 48, X15, X9)
	FOLDLOAD(X5, 64, X10, X11)
	FOLDLOAD(X6, 80, X12, X13)
	FOLDLOAD(X7, 96, X14, X15)
	FOLDLOAD(X8, 112, X9, X10)
	ADDQ $128, SI
	SUBQ $128, CX
	CMPQ CX, $128
	JAE  loop128

merge:
	MOVOU foldConsts_fold128(DX), X0
	FOLD(X1, X2, X9)
	FOLD(X1, X3, X9)
	FOLD(X1, X4, X9)
	FOLD(X1, X5, X9)
	FOLD(X1, X6, X9)
	FOLD(X1, X7, X9)
	FOLD(X1, X8, X9)
	JMP  rest

short:
	ADDQ  $16, SI
	SUBQ  $16, CX
	MOVOU foldConsts_fold128(DX), X0

rest:
	CMPQ CX, $16
	JB   reduce
	FOLDLOAD(X1, 0, X2, X3)
	ADDQ $16, SI
	SUBQ $16, CX
	JMP  rest

reduce:
	// X1 = A (low) : B (high) stands for the 128-bit remainder of the
	// message, and the CRC is (A*x^128 + B*x^64) mod P. Fold A across 64
	// bits with x^127 (high half of fold128) to get Z, which is
	// congruent and fits in 128 bits: Z = A*(x^128 mod P) + B*x^64.
	MOVOA     X1, X2
	PCLMULQDQ $0x10, X0, X1
	PSRLDQ    $8, X2
	PXOR      X2, X1

	// Barrett: with Z = Zh (low) : Zl (high), q = floor(Zh*mu / x^64) and
	// Z mod P = Zl + low64(q*P).
	MOVOU     foldConsts_barrett(DX), X0
	MOVOA     X1, X2
	PCLMULQDQ $0x00, X0, X1 // low quadword: q
	MOVQ      X1, BX
	PCLMULQDQ $0x10, X0, X1 // high quadword: low64(q*P) + q
	PXOR      X2, X1
	PEXTRQ    $1, X1, AX
	XORQ      BX, AX
	NOTQ      AX
	MOVQ      AX, ret+40(FP)
	RET
