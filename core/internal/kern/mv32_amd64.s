#include "textflag.h"

// The matrix-vector kernels of MulAv32: y_i = Σ_p a_ip·x_p in 16 lanes
// (lane l sums the terms p ≡ l mod 16 in increasing p, one fused
// multiply-add each), reduced by halving: l_i + l_{i+8}, then the same with
// 4, 2 and 1 (see kern32.go). The AVX-512 kernel holds a row's 16 lanes in
// one register, the AVX2 kernel in two; both give the same bits.

// mvperm512 gathers the 8 row sums of the AVX-512 reduction (lanes 0, 4,
// 8, 12 hold rows 0–3, lanes 1, 5, 9, 13 rows 4–7) into lanes 0–7.
DATA mvperm512<>+0(SB)/4, $0
DATA mvperm512<>+4(SB)/4, $4
DATA mvperm512<>+8(SB)/4, $8
DATA mvperm512<>+12(SB)/4, $12
DATA mvperm512<>+16(SB)/4, $1
DATA mvperm512<>+20(SB)/4, $5
DATA mvperm512<>+24(SB)/4, $9
DATA mvperm512<>+28(SB)/4, $13
DATA mvperm512<>+32(SB)/8, $0
DATA mvperm512<>+40(SB)/8, $0
DATA mvperm512<>+48(SB)/8, $0
DATA mvperm512<>+56(SB)/8, $0
GLOBL mvperm512<>(SB), RODATA|NOPTR, $64

// mvperm2 gathers the 4 row sums of the AVX2 reduction (lanes 0, 4, 1, 5
// hold rows 0, 1, 2, 3) into lanes 0–3.
DATA mvperm2<>+0(SB)/4, $0
DATA mvperm2<>+4(SB)/4, $4
DATA mvperm2<>+8(SB)/4, $1
DATA mvperm2<>+12(SB)/4, $5
DATA mvperm2<>+16(SB)/8, $0
DATA mvperm2<>+24(SB)/8, $0
GLOBL mvperm2<>(SB), RODATA|NOPTR, $32

// HALVE2 adds the upper 256 bits of the row accumulators r0 and r1 to
// their lower 256 bits: dst lanes 0–7 = r0's l_i + l_{i+8}, lanes 8–15
// r1's. Clobbers t.
#define HALVE2(r0, r1, t, dst) \
	VSHUFF32X4 $0x44, r1, r0, t; \
	VSHUFF32X4 $0xEE, r1, r0, dst; \
	VADDPS     t, dst, dst

// HALVE4 takes two results of HALVE2 (rows a, a+1 and rows a+2, a+3) to
// the sums m_i + m_{i+4}, one 128-bit chunk per row, rows a…a+3 in order.
#define HALVE4(p0, p1, t, dst) \
	VSHUFF32X4 $0x88, p1, p0, t; \
	VSHUFF32X4 $0xDD, p1, p0, dst; \
	VADDPS     t, dst, dst

// REDUCE8x16 reduces the 16 lanes of the accumulators Z0–Z7 (rows 0–7) by
// halving — l_i + l_{i+8} (HALVE2), then m_i + m_{i+4} (HALVE4), one 128-bit
// chunk per row; then n_i + n_{i+2}, per chunk c lanes (o_0, o_1) of row c
// and of row c+4; then o_0 + o_1, lane 0 row c, lane 1 row c+4 — gathers the
// 8 sums with mvperm512 and stores them at y+32(FP). Clobbers Z8–Z18, DX, DI.
#define REDUCE8x16 \
	HALVE2(Z0, Z1, Z16, Z8); \
	HALVE2(Z2, Z3, Z16, Z9); \
	HALVE2(Z4, Z5, Z16, Z10); \
	HALVE2(Z6, Z7, Z16, Z11); \
	HALVE4(Z8, Z9, Z16, Z12); \
	HALVE4(Z10, Z11, Z16, Z13); \
	VSHUFPS $0x44, Z13, Z12, Z14; \
	VSHUFPS $0xEE, Z13, Z12, Z15; \
	VADDPS  Z14, Z15, Z15; \
	VSHUFPS $0x88, Z15, Z15, Z14; \
	VSHUFPS $0xDD, Z15, Z15, Z16; \
	VADDPS  Z14, Z16, Z16; \
	LEAQ    mvperm512<>(SB), DX; \
	VMOVUPS (DX), Z17; \
	VPERMPS Z16, Z17, Z18; \
	MOVQ    y+32(FP), DI; \
	VMOVUPS Y18, (DI)

// REDUCE4x16 is REDUCE8x16 for the AVX2 kernels' 4 rows, each in two
// accumulators (lanes 0–7 in Y0, Y2, Y4, Y6 and 8–15 in Y1, Y3, Y5, Y7): the
// two halves of each row added, then m_i + m_{i+4} for rows 0, 1 and 2, 3,
// one 128-bit chunk per row, n_i + n_{i+2} and o_0 + o_1 per chunk (rows c
// and c+2), gathered with mvperm2 and stored at y+32(FP). Clobbers Y8–Y14,
// DX, DI; the same bits as REDUCE8x16.
#define REDUCE4x16 \
	VADDPS Y1, Y0, Y0; \
	VADDPS Y3, Y2, Y2; \
	VADDPS Y5, Y4, Y4; \
	VADDPS Y7, Y6, Y6; \
	VPERM2F128 $0x20, Y2, Y0, Y8; \
	VPERM2F128 $0x31, Y2, Y0, Y9; \
	VADDPS     Y8, Y9, Y9; \
	VPERM2F128 $0x20, Y6, Y4, Y8; \
	VPERM2F128 $0x31, Y6, Y4, Y10; \
	VADDPS     Y8, Y10, Y10; \
	VSHUFPS $0x44, Y10, Y9, Y8; \
	VSHUFPS $0xEE, Y10, Y9, Y11; \
	VADDPS  Y8, Y11, Y11; \
	VSHUFPS $0x88, Y11, Y11, Y8; \
	VSHUFPS $0xDD, Y11, Y11, Y12; \
	VADDPS  Y8, Y12, Y12; \
	LEAQ    mvperm2<>(SB), DX; \
	VMOVDQU (DX), Y13; \
	VPERMPS Y12, Y13, Y14; \
	MOVQ    y+32(FP), DI; \
	VMOVUPS X14, (DI)

// func dot8x1StrideF32AVX512(k int, a *float32, lda int, x, y *float32)
//
// y[i] = Σ_{p<k} a[i·lda+p]·x[p] for i < 8 in the order above; k ≥ 1.
TEXT ·dot8x1StrideF32AVX512(SB), NOSPLIT, $0-40
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

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-16, DX
	JZ   tail512

loop512:
	VMOVUPS     (DI)(AX*4), Z16
	VFMADD231PS (R8)(AX*4), Z16, Z0
	VFMADD231PS (R9)(AX*4), Z16, Z1
	VFMADD231PS (R10)(AX*4), Z16, Z2
	VFMADD231PS (R11)(AX*4), Z16, Z3
	VFMADD231PS (R12)(AX*4), Z16, Z4
	VFMADD231PS (R13)(AX*4), Z16, Z5
	VFMADD231PS (BX)(AX*4), Z16, Z6
	VFMADD231PS (SI)(AX*4), Z16, Z7
	ADDQ        $16, AX
	CMPQ        AX, DX
	JLT         loop512

tail512:
	// r = k − p terms left, 0…15: lanes l < r under the mask K1, the
	// other lanes of the accumulators kept (merge masking).
	SUBQ  AX, CX
	JZ    reduce512
	MOVQ  $1, DX
	SHLQ  CX, DX
	DECQ  DX
	KMOVW DX, K1
	VMOVUPS.Z   (DI)(AX*4), K1, Z16
	VFMADD231PS (R8)(AX*4), Z16, K1, Z0
	VFMADD231PS (R9)(AX*4), Z16, K1, Z1
	VFMADD231PS (R10)(AX*4), Z16, K1, Z2
	VFMADD231PS (R11)(AX*4), Z16, K1, Z3
	VFMADD231PS (R12)(AX*4), Z16, K1, Z4
	VFMADD231PS (R13)(AX*4), Z16, K1, Z5
	VFMADD231PS (BX)(AX*4), Z16, K1, Z6
	VFMADD231PS (SI)(AX*4), Z16, K1, Z7

reduce512:
	REDUCE8x16
	VZEROUPPER
	RET

// FMA2 adds the 16 columns from p of one row (lo, hi halves) into its two
// accumulators, with x in Y8 (lo) and Y9 (hi).
#define FMA2(row, lo, hi) \
	VFMADD231PS (row)(AX*4), Y8, lo; \
	VFMADD231PS 32(row)(AX*4), Y9, hi

// FMA2TAIL is FMA2 for the last r < 16 columns, read under the masks Y10
// (lo) and Y11 (hi); the lanes past r add 0·0.
#define FMA2TAIL(row, lo, hi) \
	VMASKMOVPS  (row)(AX*4), Y10, Y12; \
	VFMADD231PS Y12, Y8, lo; \
	VMASKMOVPS  32(row)(AX*4), Y11, Y12; \
	VFMADD231PS Y12, Y9, hi

// func dot4x1StrideF32AVX2(k int, a *float32, lda int, x, y *float32)
//
// y[i] = Σ_{p<k} a[i·lda+p]·x[p] for i < 4, with the bits of
// dot8x1StrideF32AVX512; k ≥ 1.
TEXT ·dot4x1StrideF32AVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), DX
	SHLQ $2, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
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
	JZ   tail2

loop2:
	VMOVUPS (DI)(AX*4), Y8
	VMOVUPS 32(DI)(AX*4), Y9
	FMA2(R8, Y0, Y1)
	FMA2(R9, Y2, Y3)
	FMA2(R10, Y4, Y5)
	FMA2(R11, Y6, Y7)
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  loop2

tail2:
	SUBQ AX, CX // r = k − p, 0…15
	JZ   reduce2
	LEAQ ·tailmask32(SB), DX
	VPXOR Y11, Y11, Y11
	CMPQ CX, $8
	JGE  tailhi
	MOVQ $7, SI
	SUBQ CX, SI
	VMOVDQU (DX)(SI*4), Y10
	JMP  tailload
tailhi:
	VPCMPEQD Y10, Y10, Y10
	MOVQ $15, SI
	SUBQ CX, SI
	VMOVDQU (DX)(SI*4), Y11
tailload:
	VMASKMOVPS (DI)(AX*4), Y10, Y8
	VMASKMOVPS 32(DI)(AX*4), Y11, Y9
	FMA2TAIL(R8, Y0, Y1)
	FMA2TAIL(R9, Y2, Y3)
	FMA2TAIL(R10, Y4, Y5)
	FMA2TAIL(R11, Y6, Y7)

reduce2:
	REDUCE4x16
	VZEROUPPER
	RET

// func dotPanelF32AVX512(kp int, panel *float32, x *float32, k int, y *float32)
//
// The 8 rows of one panel of a Packed32 (16 columns of row 0, then of row
// 1, …, row 7, then the next 16 columns) against x: y[i] for i < 8, in the
// order and with the bits of dot8x1StrideF32AVX512. kp (a multiple of 16,
// ≥ 16) is the padded row length; x holds k ≤ kp values, read under a mask
// in the last chunk (the panel's padding is zero).
TEXT ·dotPanelF32AVX512(SB), NOSPLIT, $0-40
	MOVQ kp+0(FP), CX
	MOVQ panel+8(FP), SI
	MOVQ x+16(FP), DI
	MOVQ k+24(FP), BX

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

	XORQ AX, AX
	MOVQ BX, DX
	ANDQ $-16, DX // full chunks of x
	JZ   ptail

ploop:
	VMOVUPS     (DI)(AX*4), Z16
	VFMADD231PS 0(SI), Z16, Z0
	VFMADD231PS 64(SI), Z16, Z1
	VFMADD231PS 128(SI), Z16, Z2
	VFMADD231PS 192(SI), Z16, Z3
	VFMADD231PS 256(SI), Z16, Z4
	VFMADD231PS 320(SI), Z16, Z5
	VFMADD231PS 384(SI), Z16, Z6
	VFMADD231PS 448(SI), Z16, Z7
	ADDQ        $512, SI
	ADDQ        $16, AX
	CMPQ        AX, DX
	JLT         ploop

ptail:
	CMPQ  AX, BX
	JGE   preduce
	MOVQ  BX, CX
	SUBQ  AX, CX
	MOVQ  $1, DX
	SHLQ  CX, DX
	DECQ  DX
	KMOVW DX, K1
	VMOVUPS.Z   (DI)(AX*4), K1, Z16
	VFMADD231PS 0(SI), Z16, K1, Z0
	VFMADD231PS 64(SI), Z16, K1, Z1
	VFMADD231PS 128(SI), Z16, K1, Z2
	VFMADD231PS 192(SI), Z16, K1, Z3
	VFMADD231PS 256(SI), Z16, K1, Z4
	VFMADD231PS 320(SI), Z16, K1, Z5
	VFMADD231PS 384(SI), Z16, K1, Z6
	VFMADD231PS 448(SI), Z16, K1, Z7

preduce:
	REDUCE8x16
	VZEROUPPER
	RET

// FMAP4 adds chunk row r (16 values at off, off+32 in the panel) into its
// two accumulators, with x in Y8 (lo) and Y9 (hi).
#define FMAP4(off, lo, hi) \
	VFMADD231PS off(SI), Y8, lo; \
	VFMADD231PS off+32(SI), Y9, hi

// func dotPanel4F32AVX2(kp int, panel *float32, x *float32, k int, y *float32)
//
// One panel of 4 rows of a Packed32 packed for AVX2 (16 columns of rows
// 0…3 in turn, zero past column k) against x: y[i] for i < 4 with the bits
// of dot4x1StrideF32AVX2; x is read under masks in the last chunk.
TEXT ·dotPanel4F32AVX2(SB), NOSPLIT, $0-40
	MOVQ kp+0(FP), CX
	MOVQ panel+8(FP), SI
	MOVQ x+16(FP), DI
	MOVQ k+24(FP), BX

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

	XORQ AX, AX
	MOVQ BX, DX
	ANDQ $-16, DX
	JZ   p4tail

p4loop:
	VMOVUPS (DI)(AX*4), Y8
	VMOVUPS 32(DI)(AX*4), Y9
	FMAP4(0, Y0, Y1)
	FMAP4(64, Y2, Y3)
	FMAP4(128, Y4, Y5)
	FMAP4(192, Y6, Y7)
	ADDQ $256, SI
	ADDQ $16, AX
	CMPQ AX, DX
	JLT  p4loop

p4tail:
	MOVQ BX, CX
	SUBQ AX, CX // r = k − p, 0…15
	JZ   p4reduce
	LEAQ ·tailmask32(SB), DX
	VPXOR Y11, Y11, Y11
	CMPQ CX, $8
	JGE  p4hi
	MOVQ $7, R8
	SUBQ CX, R8
	VMOVDQU (DX)(R8*4), Y10
	JMP  p4load
p4hi:
	VPCMPEQD Y10, Y10, Y10
	MOVQ $15, R8
	SUBQ CX, R8
	VMOVDQU (DX)(R8*4), Y11
p4load:
	VMASKMOVPS (DI)(AX*4), Y10, Y8
	VMASKMOVPS 32(DI)(AX*4), Y11, Y9
	FMAP4(0, Y0, Y1)
	FMAP4(64, Y2, Y3)
	FMAP4(128, Y4, Y5)
	FMAP4(192, Y6, Y7)

p4reduce:
	REDUCE4x16
	VZEROUPPER
	RET
