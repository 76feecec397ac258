#include "textflag.h"

// The AᵀB kernels of MulAtB32: a tile of the sum of one block of p,
// s = Σ_p a[p, i]·b[p, j], each entry summed from zero in increasing p with
// one fused multiply-add per term, then stored in c (add = 0) or added to
// it, c + s (add ≠ 0). Every entry is the same chain of operations in
// either kernel and in any tile, so the AVX-512 and AVX2 kernels give the
// same bits.

// ATBROW512 adds bcast(a[p·lda + r])·b[p, 0…31] into the accumulators of row r.
#define ATBROW512(off, acc0, acc1) \
	VBROADCASTSS off(AX), Z18; \
	VFMADD231PS  Z18, Z16, acc0; \
	VFMADD231PS  Z18, Z17, acc1

// ADDC512 adds row r of the tile (DI + r·ldc), read under the column
// masks K1, K2, into its two accumulators.
#define ADDC512(acc0, acc1) \
	VMOVUPS.Z (DI), K1, Z16; \
	VMOVUPS.Z 64(DI), K2, Z17; \
	VADDPS    Z16, acc0, acc0; \
	VADDPS    Z17, acc1, acc1; \
	ADDQ      R9, DI

// STOREC512 stores row r unless r < skip (R11 = skip − r, counting down).
#define STOREC512(acc0, acc1, next) \
	DECQ    R11; \
	JGE     next; \
	VMOVUPS acc0, K1, (DI); \
	VMOVUPS acc1, K2, 64(DI); \
next: \
	ADDQ    R9, DI

// func atb8x32F32AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int)
//
// c[r·ldc + j] (+)= Σ_{p<k} a[p·lda + r]·b[p·ldb + j] for rows r < 8 and
// columns j < cols ≤ 32; rows r < skip are computed but not stored. k ≥ 1.
TEXT ·atb8x32F32AVX512(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ b+24(FP), BX
	MOVQ ldb+32(FP), DX
	SHLQ $2, DX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R9
	SHLQ $2, R9

	// Column masks: K1 has the first min(cols, 16) lanes, K2 the next.
	MOVQ  cols+56(FP), SI
	MOVQ  $1, R12
	MOVQ  SI, R13
	CMPQ  R13, $16
	JLE   m1
	MOVQ  $16, R13
m1:
	MOVQ  R13, CX
	SHLQ  CX, R12
	DECQ  R12
	KMOVW R12, K1
	SUBQ  $16, SI
	JG    m2
	XORQ  SI, SI
m2:
	MOVQ  $1, R12
	MOVQ  SI, CX
	SHLQ  CX, R12
	DECQ  R12
	KMOVW R12, K2
	MOVQ  k+0(FP), CX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

loop:
	VMOVUPS.Z (BX), K1, Z16
	VMOVUPS.Z 64(BX), K2, Z17
	ATBROW512(0, Z0, Z1)
	ATBROW512(4, Z2, Z3)
	ATBROW512(8, Z4, Z5)
	ATBROW512(12, Z6, Z7)
	ATBROW512(16, Z8, Z9)
	ATBROW512(20, Z10, Z11)
	ATBROW512(24, Z12, Z13)
	ATBROW512(28, Z14, Z15)
	ADDQ R8, AX
	ADDQ DX, BX
	DECQ CX
	JNZ  loop

	MOVQ  add+72(FP), R10
	TESTQ R10, R10
	JZ    store
	MOVQ  DI, R10
	ADDC512(Z0, Z1)
	ADDC512(Z2, Z3)
	ADDC512(Z4, Z5)
	ADDC512(Z6, Z7)
	ADDC512(Z8, Z9)
	ADDC512(Z10, Z11)
	ADDC512(Z12, Z13)
	ADDC512(Z14, Z15)
	MOVQ  R10, DI

store:
	MOVQ skip+64(FP), R11
	STOREC512(Z0, Z1, s0)
	STOREC512(Z2, Z3, s1)
	STOREC512(Z4, Z5, s2)
	STOREC512(Z6, Z7, s3)
	STOREC512(Z8, Z9, s4)
	STOREC512(Z10, Z11, s5)
	STOREC512(Z12, Z13, s6)
	STOREC512(Z14, Z15, s7)
	VZEROUPPER
	RET

// ATBROW2 adds bcast(a[p·lda + r])·b[p, 0…15] into the accumulators of row r.
#define ATBROW2(off, acc0, acc1) \
	VBROADCASTSS off(AX), Y10; \
	VFMADD231PS  Y10, Y8, acc0; \
	VFMADD231PS  Y10, Y9, acc1

// ADDC2 adds row r of the tile, read under the column masks Y11, Y12,
// into its accumulators.
#define ADDC2(acc0, acc1) \
	VMASKMOVPS (DI), Y11, Y8; \
	VMASKMOVPS 32(DI), Y12, Y9; \
	VADDPS     Y8, acc0, acc0; \
	VADDPS     Y9, acc1, acc1; \
	ADDQ       R9, DI

// STOREC2 stores row r unless r < skip (R11 counts down).
#define STOREC2(acc0, acc1, next) \
	DECQ       R11; \
	JGE        next; \
	VMASKMOVPS acc0, Y11, (DI); \
	VMASKMOVPS acc1, Y12, 32(DI); \
next: \
	ADDQ       R9, DI

// func atb4x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int)
//
// atb8x32F32AVX512 for 4 rows and cols ≤ 16 columns, with AVX2 and FMA.
TEXT ·atb4x16F32AVX2(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ b+24(FP), BX
	MOVQ ldb+32(FP), DX
	SHLQ $2, DX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R9
	SHLQ $2, R9

	// Column masks from ·tailmask32 (kern32_amd64.s); a full vector of 8 lanes is built by
	// comparing a register with itself.
	MOVQ        cols+56(FP), SI
	LEAQ        ·tailmask32(SB), R12
	VPCMPEQD    Y11, Y11, Y11
	VMOVDQU     Y11, Y12
	CMPQ        SI, $16
	JGE         masked
	CMPQ        SI, $8
	JGE         hi
	// cols < 8: Y11 has the first cols lanes, Y12 none.
	MOVQ        $7, R13
	SUBQ        SI, R13
	VMOVDQU     (R12)(R13*4), Y11
	VPXOR       Y12, Y12, Y12
	JMP         masked
hi:
	// 8 ≤ cols < 16: Y11 full, Y12 has the first cols − 8 lanes.
	MOVQ        $15, R13
	SUBQ        SI, R13
	VMOVDQU     (R12)(R13*4), Y12
masked:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop2:
	VMASKMOVPS (BX), Y11, Y8
	VMASKMOVPS 32(BX), Y12, Y9
	ATBROW2(0, Y0, Y1)
	ATBROW2(4, Y2, Y3)
	ATBROW2(8, Y4, Y5)
	ATBROW2(12, Y6, Y7)
	ADDQ R8, AX
	ADDQ DX, BX
	DECQ CX
	JNZ  loop2

	MOVQ  add+72(FP), R10
	TESTQ R10, R10
	JZ    store2
	MOVQ  DI, R10
	ADDC2(Y0, Y1)
	ADDC2(Y2, Y3)
	ADDC2(Y4, Y5)
	ADDC2(Y6, Y7)
	MOVQ  R10, DI

store2:
	MOVQ skip+64(FP), R11
	STOREC2(Y0, Y1, t0)
	STOREC2(Y2, Y3, t1)
	STOREC2(Y4, Y5, t2)
	STOREC2(Y6, Y7, t3)
	VZEROUPPER
	RET

// ATBROW6 adds bcast(a[p·lda + r])·b[p, 0…15] into the accumulators of row r.
#define ATBROW6(off, acc0, acc1) \
	VBROADCASTSS off(AX), Y14; \
	VFMADD231PS  Y14, Y12, acc0; \
	VFMADD231PS  Y14, Y13, acc1

// ADDC6 adds row r of the tile (16 columns) into its accumulators.
#define ADDC6(acc0, acc1) \
	VADDPS (DI), acc0, acc0; \
	VADDPS 32(DI), acc1, acc1; \
	ADDQ   R9, DI

// STOREC6 stores row r unless r < skip (R11 counts down).
#define STOREC6(acc0, acc1, next) \
	DECQ    R11; \
	JGE     next; \
	VMOVUPS acc0, (DI); \
	VMOVUPS acc1, 32(DI); \
next: \
	ADDQ    R9, DI

// func atb6x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, skip, add int)
//
// atb4x16F32AVX2 for 6 rows and exactly 16 columns, without masks: 12
// accumulators, enough to keep both FMA units busy. The same operations
// per entry, so the same bits.
TEXT ·atb6x16F32AVX2(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ b+24(FP), BX
	MOVQ ldb+32(FP), DX
	SHLQ $2, DX
	MOVQ c+40(FP), DI
	MOVQ ldc+48(FP), R9
	SHLQ $2, R9
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

loop6:
	VMOVUPS (BX), Y12
	VMOVUPS 32(BX), Y13
	ATBROW6(0, Y0, Y1)
	ATBROW6(4, Y2, Y3)
	ATBROW6(8, Y4, Y5)
	ATBROW6(12, Y6, Y7)
	ATBROW6(16, Y8, Y9)
	ATBROW6(20, Y10, Y11)
	ADDQ R8, AX
	ADDQ DX, BX
	DECQ CX
	JNZ  loop6

	MOVQ  add+64(FP), R10
	TESTQ R10, R10
	JZ    store6
	MOVQ  DI, R10
	ADDC6(Y0, Y1)
	ADDC6(Y2, Y3)
	ADDC6(Y4, Y5)
	ADDC6(Y6, Y7)
	ADDC6(Y8, Y9)
	ADDC6(Y10, Y11)
	MOVQ  R10, DI

store6:
	MOVQ skip+56(FP), R11
	STOREC6(Y0, Y1, u0)
	STOREC6(Y2, Y3, u1)
	STOREC6(Y4, Y5, u2)
	STOREC6(Y6, Y7, u3)
	STOREC6(Y8, Y9, u4)
	STOREC6(Y10, Y11, u5)
	VZEROUPPER
	RET
