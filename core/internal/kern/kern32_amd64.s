#include "textflag.h"

// Float32 kernels: the float64 kernels of kern_amd64.s with 8 lanes of
// float32 per vector instead of 4 of float64 (the summation order is in
// kern32.go).

// tailmask32 holds 7 all-ones doublewords followed by 8 zero doublewords.
// The 8 doublewords starting at index 7-r have exactly their first r lanes
// set: the VMASKMOVPS mask of a k-tail of r = 1…7 floats. A global symbol:
// atb32_amd64.s and mv32_amd64.s read it too.
DATA ·tailmask32+0(SB)/8, $0xffffffffffffffff
DATA ·tailmask32+8(SB)/8, $0xffffffffffffffff
DATA ·tailmask32+16(SB)/8, $0xffffffffffffffff
DATA ·tailmask32+24(SB)/8, $0x00000000ffffffff
DATA ·tailmask32+32(SB)/8, $0
DATA ·tailmask32+40(SB)/8, $0
DATA ·tailmask32+48(SB)/8, $0
DATA ·tailmask32+56(SB)/8, $0
GLOBL ·tailmask32(SB), RODATA|NOPTR, $64

// HSUM4 folds the 4 accumulators r0..r3 (8 lanes l0..l7 each) into the
// 4 floats s_j = ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)) of r_j, left in
// the low 128 bits of r0 (the upper 128 bits of r0 hold the ((l4+l5) +
// (l6+l7)) halves before the last add; see REDUCE32 and REDUCE32x8).
// r1..r3 are clobbered.
#define HSUM4(r0, r1, r2, r3) \
	VHADDPS r1, r0, r0; \
	VHADDPS r3, r2, r2; \
	VHADDPS r2, r0, r0

// REDUCE32 stores the 4 sums of HSUM4 at dst (16 bytes); x0, x1 are the
// 128-bit names of r0, r1.
#define REDUCE32(r0, r1, r2, r3, x0, x1, dst) \
	HSUM4(r0, r1, r2, r3); \
	VEXTRACTF128 $1, r0, x1; \
	VADDPS       x1, x0, x0; \
	VMOVUPS      x0, dst

// STEP32 multiplies the 8 floats at p+off/4 of the 3 A rows with those of
// the 4 B rows into the 12 accumulators: 7 loads, 12 FMAs.
#define STEP32(off) \
	VMOVUPS     off(R8)(AX*4), Y12; \
	VMOVUPS     off(R9)(AX*4), Y13; \
	VMOVUPS     off(R10)(AX*4), Y14; \
	VMOVUPS     off(R11)(AX*4), Y15; \
	VFMADD231PS Y15, Y12, Y0; \
	VFMADD231PS Y15, Y13, Y4; \
	VFMADD231PS Y15, Y14, Y8; \
	VMOVUPS     off(R12)(AX*4), Y15; \
	VFMADD231PS Y15, Y12, Y1; \
	VFMADD231PS Y15, Y13, Y5; \
	VFMADD231PS Y15, Y14, Y9; \
	VMOVUPS     off(R13)(AX*4), Y15; \
	VFMADD231PS Y15, Y12, Y2; \
	VFMADD231PS Y15, Y13, Y6; \
	VFMADD231PS Y15, Y14, Y10; \
	VMOVUPS     off(BX)(AX*4), Y15; \
	VFMADD231PS Y15, Y12, Y3; \
	VFMADD231PS Y15, Y13, Y7; \
	VFMADD231PS Y15, Y14, Y11

// func dot3x4F32AVX2(k int, a0, a1, a2, b0, b1, b2, b3 *float32, out *[12]float32)
//
// dot3x4AVX2 in float32: the same registers (see kern_amd64.s), 8 lanes.
TEXT ·dot3x4F32AVX2(SB), NOSPLIT, $32-72
	MOVQ k+0(FP), CX
	MOVQ a0+8(FP), R8
	MOVQ a1+16(FP), R9
	MOVQ a2+24(FP), R10
	MOVQ b0+32(FP), R11
	MOVQ b1+40(FP), R12
	MOVQ b2+48(FP), R13
	MOVQ b3+56(FP), BX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-16, DX // p < DX: 16 columns per iteration
	JZ   eight32

loop16:
	STEP32(0)
	STEP32(32)
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  loop16

eight32:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  tail32
	STEP32(0)
	ADDQ $8, AX

tail32:
	MOVQ CX, SI
	SUBQ AX, SI // r = k - p, 0..7
	JZ   reduce32

	// Masked loads read only the r valid floats and zero the other lanes.
	NEGQ    SI
	ADDQ    $7, SI
	LEAQ    ·tailmask32(SB), DX
	VMOVUPS Y11, 0(SP)
	VMOVUPS (DX)(SI*4), Y15

	VMASKMOVPS  (R8)(AX*4), Y15, Y12
	VMASKMOVPS  (R9)(AX*4), Y15, Y13
	VMASKMOVPS  (R10)(AX*4), Y15, Y14
	VMASKMOVPS  (R11)(AX*4), Y15, Y11
	VFMADD231PS Y11, Y12, Y0
	VFMADD231PS Y11, Y13, Y4
	VFMADD231PS Y11, Y14, Y8
	VMASKMOVPS  (R12)(AX*4), Y15, Y11
	VFMADD231PS Y11, Y12, Y1
	VFMADD231PS Y11, Y13, Y5
	VFMADD231PS Y11, Y14, Y9
	VMASKMOVPS  (R13)(AX*4), Y15, Y11
	VFMADD231PS Y11, Y12, Y2
	VFMADD231PS Y11, Y13, Y6
	VFMADD231PS Y11, Y14, Y10
	VMASKMOVPS  (BX)(AX*4), Y15, Y15
	VMOVUPS     0(SP), Y11
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y11

reduce32:
	MOVQ out+64(FP), DI
	REDUCE32(Y0, Y1, Y2, Y3, X0, X1, 0(DI))
	REDUCE32(Y4, Y5, Y6, Y7, X4, X5, 16(DI))
	REDUCE32(Y8, Y9, Y10, Y11, X8, X9, 32(DI))
	VZEROUPPER
	RET
