#include "textflag.h"

// Float32 kernels: the float64 kernels of kern_amd64.s with 8 lanes of
// float32 per vector instead of 4 of float64 (the summation order is in
// kern32.go).

// tailmask32 holds 7 all-ones doublewords followed by 8 zero doublewords.
// The 8 doublewords starting at index 7-r have exactly their first r lanes
// set: the VMASKMOVPS mask of a k-tail of r = 1…7 floats.
DATA tailmask32<>+0(SB)/8, $0xffffffffffffffff
DATA tailmask32<>+8(SB)/8, $0xffffffffffffffff
DATA tailmask32<>+16(SB)/8, $0xffffffffffffffff
DATA tailmask32<>+24(SB)/8, $0x00000000ffffffff
DATA tailmask32<>+32(SB)/8, $0
DATA tailmask32<>+40(SB)/8, $0
DATA tailmask32<>+48(SB)/8, $0
DATA tailmask32<>+56(SB)/8, $0
GLOBL tailmask32<>(SB), RODATA|NOPTR, $64

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
	LEAQ    tailmask32<>(SB), DX
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

// STEPV32 is one vector of 8 columns of the 8 rows against x.
#define STEPV32(off) \
	VMOVUPS     off(DI)(AX*4), Y8; \
	VFMADD231PS off(R8)(AX*4), Y8, Y0; \
	VFMADD231PS off(R9)(AX*4), Y8, Y1; \
	VFMADD231PS off(R10)(AX*4), Y8, Y2; \
	VFMADD231PS off(R11)(AX*4), Y8, Y3; \
	VFMADD231PS off(R12)(AX*4), Y8, Y4; \
	VFMADD231PS off(R13)(AX*4), Y8, Y5; \
	VFMADD231PS off(BX)(AX*4), Y8, Y6; \
	VFMADD231PS off(SI)(AX*4), Y8, Y7

#define TAILV32(row, acc) \
	VMASKMOVPS  (row)(AX*4), Y9, Y10; \
	VFMADD231PS Y10, Y8, acc

// func dot8x1StrideF32AVX2(k int, a *float32, lda int, x, y *float32)
//
// dot8x1StrideAVX2 in float32: y[i] = Σ_{p<k} a[i·lda+p]·x[p] for i < 8,
// 8 lanes per row, the rows read through the FMAs' memory operands.
TEXT ·dot8x1StrideF32AVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), DX
	SHLQ $2, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	LEAQ (R13)(DX*1), BX
	LEAQ (BX)(DX*1), SI
	MOVQ x+24(FP), DI

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-16, DX
	JZ   eightv32

loopv32:
	STEPV32(0)
	STEPV32(32)
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  loopv32

eightv32:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  tailv32
	STEPV32(0)
	ADDQ $8, AX

tailv32:
	MOVQ CX, DX
	SUBQ AX, DX // r = k - p, 0..7
	JZ   reducev32
	NEGQ DX
	ADDQ $7, DX
	LEAQ tailmask32<>(SB), CX
	VMOVUPS    (CX)(DX*4), Y9
	VMASKMOVPS (DI)(AX*4), Y9, Y8
	TAILV32(R8, Y0)
	TAILV32(R9, Y1)
	TAILV32(R10, Y2)
	TAILV32(R11, Y3)
	TAILV32(R12, Y4)
	TAILV32(R13, Y5)
	TAILV32(BX, Y6)
	TAILV32(SI, Y7)

reducev32:
	MOVQ y+32(FP), DI
	HSUM4(Y0, Y1, Y2, Y3)
	HSUM4(Y4, Y5, Y6, Y7)
	// Y0 = [lo sums of rows 0–3 | hi sums of rows 0–3], Y4 the same for
	// rows 4–7: pair the halves and add them, as REDUCE32 does.
	VPERM2F128 $0x20, Y4, Y0, Y1
	VPERM2F128 $0x31, Y4, Y0, Y3
	VADDPS     Y3, Y1, Y1
	VMOVUPS    Y1, (DI)
	VZEROUPPER
	RET
