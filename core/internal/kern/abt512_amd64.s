#include "textflag.h"
#include "pairsum_amd64.h"

// dot4x8AVX512 computes the 4×8 tile of block sums out[8i+j] =
// Σ_{p<k} a_i[p]·b_j[p] (rows a_i = a + i·lda, b_j = b + j·ldb) with the
// bits of dot3x4AVX2: each zmm accumulator holds two entries, (i, 2q) in
// lanes 0–3 and (i, 2q+1) in lanes 4–7, each lane l summing p ≡ l (mod 4)
// in increasing p with fused multiply-adds (the k-tail of r < 4 terms in
// lanes 0…r−1), and each entry reduced as (l0 + l1) + (l2 + l3).
//
// Registers: Z16–Z31 the accumulators, Z(16 + 4i + q); Z0–Z3 the rows of A
// (4 values broadcast to both halves); Z4–Z7 the pairs of rows of B.
// R8 = a_0, R9 = lda·8, R10 = a_3; R11 = b_0, R12 = ldb·8, R13 = b_3,
// BX = b_6; CX the number of whole steps of 4.

// func dot4x8AVX512(k int, a *float64, lda int, b *float64, ldb int, out *[32]float64)
TEXT ·dot4x8AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), R9
	SHLQ $3, R9
	LEAQ (R8)(R9*2), R10
	ADDQ R9, R10
	MOVQ b+24(FP), R11
	MOVQ ldb+32(FP), R12
	SHLQ $3, R12
	LEAQ (R11)(R12*2), R13
	ADDQ R12, R13
	LEAQ (R13)(R12*2), BX
	ADDQ R12, BX
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23
	VPXORQ Z24, Z24, Z24
	VPXORQ Z25, Z25, Z25
	VPXORQ Z26, Z26, Z26
	VPXORQ Z27, Z27, Z27
	VPXORQ Z28, Z28, Z28
	VPXORQ Z29, Z29, Z29
	VPXORQ Z30, Z30, Z30
	VPXORQ Z31, Z31, Z31

	MOVQ CX, DX
	SHRQ $2, CX
	JZ   tail

loop:
	VBROADCASTF64X4 (R8), Z0
	VBROADCASTF64X4 (R8)(R9*1), Z1
	VBROADCASTF64X4 (R8)(R9*2), Z2
	VBROADCASTF64X4 (R10), Z3
	VMOVUPD         (R11), Y4
	VINSERTF64X4    $1, (R11)(R12*1), Z4, Z4
	VMOVUPD         (R11)(R12*2), Y5
	VINSERTF64X4    $1, (R13), Z5, Z5
	VMOVUPD         (R11)(R12*4), Y6
	VINSERTF64X4    $1, (R13)(R12*2), Z6, Z6
	VMOVUPD         (BX), Y7
	VINSERTF64X4    $1, (BX)(R12*1), Z7, Z7
	VFMADD231PD Z4, Z0, Z16
	VFMADD231PD Z5, Z0, Z17
	VFMADD231PD Z6, Z0, Z18
	VFMADD231PD Z7, Z0, Z19
	VFMADD231PD Z4, Z1, Z20
	VFMADD231PD Z5, Z1, Z21
	VFMADD231PD Z6, Z1, Z22
	VFMADD231PD Z7, Z1, Z23
	VFMADD231PD Z4, Z2, Z24
	VFMADD231PD Z5, Z2, Z25
	VFMADD231PD Z6, Z2, Z26
	VFMADD231PD Z7, Z2, Z27
	VFMADD231PD Z4, Z3, Z28
	VFMADD231PD Z5, Z3, Z29
	VFMADD231PD Z6, Z3, Z30
	VFMADD231PD Z7, Z3, Z31
	ADDQ $32, R8
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $32, R13
	ADDQ $32, BX
	DECQ CX
	JNZ  loop

tail:
	// r = k mod 4 terms left, read under the mask Y8 (lanes < r) with
	// VMASKMOVPD, which reads nothing past them; the other lanes add 0·0.
	ANDQ $3, DX
	JZ   reduce
	NEGQ DX
	ADDQ $3, DX
	LEAQ ·tailmask(SB), SI
	VMOVUPD (SI)(DX*8), Y8
	VMASKMOVPD (R8), Y8, Y0
	VINSERTF64X4 $1, Y0, Z0, Z0
	VMASKMOVPD (R8)(R9*1), Y8, Y1
	VINSERTF64X4 $1, Y1, Z1, Z1
	VMASKMOVPD (R8)(R9*2), Y8, Y2
	VINSERTF64X4 $1, Y2, Z2, Z2
	VMASKMOVPD (R10), Y8, Y3
	VINSERTF64X4 $1, Y3, Z3, Z3
	VMASKMOVPD (R11), Y8, Y4
	VMASKMOVPD (R11)(R12*1), Y8, Y9
	VINSERTF64X4 $1, Y9, Z4, Z4
	VMASKMOVPD (R11)(R12*2), Y8, Y5
	VMASKMOVPD (R13), Y8, Y9
	VINSERTF64X4 $1, Y9, Z5, Z5
	VMASKMOVPD (R11)(R12*4), Y8, Y6
	VMASKMOVPD (R13)(R12*2), Y8, Y9
	VINSERTF64X4 $1, Y9, Z6, Z6
	VMASKMOVPD (BX), Y8, Y7
	VMASKMOVPD (BX)(R12*1), Y8, Y9
	VINSERTF64X4 $1, Y9, Z7, Z7
	VFMADD231PD Z4, Z0, Z16
	VFMADD231PD Z5, Z0, Z17
	VFMADD231PD Z6, Z0, Z18
	VFMADD231PD Z7, Z0, Z19
	VFMADD231PD Z4, Z1, Z20
	VFMADD231PD Z5, Z1, Z21
	VFMADD231PD Z6, Z1, Z22
	VFMADD231PD Z7, Z1, Z23
	VFMADD231PD Z4, Z2, Z24
	VFMADD231PD Z5, Z2, Z25
	VFMADD231PD Z6, Z2, Z26
	VFMADD231PD Z7, Z2, Z27
	VFMADD231PD Z4, Z3, Z28
	VFMADD231PD Z5, Z3, Z29
	VFMADD231PD Z6, Z3, Z30
	VFMADD231PD Z7, Z3, Z31

reduce:
	// Per accumulator: (l0 + l1) in lanes 0 and 4 (swap within pairs, add),
	// then + (l2 + l3) (swap the 128-bit halves of each 256, add).
	MOVQ out+40(FP), DI
	PAIRSUM(Z16, 0(DI), 8(DI))
	PAIRSUM(Z17, 16(DI), 24(DI))
	PAIRSUM(Z18, 32(DI), 40(DI))
	PAIRSUM(Z19, 48(DI), 56(DI))
	PAIRSUM(Z20, 64(DI), 72(DI))
	PAIRSUM(Z21, 80(DI), 88(DI))
	PAIRSUM(Z22, 96(DI), 104(DI))
	PAIRSUM(Z23, 112(DI), 120(DI))
	PAIRSUM(Z24, 128(DI), 136(DI))
	PAIRSUM(Z25, 144(DI), 152(DI))
	PAIRSUM(Z26, 160(DI), 168(DI))
	PAIRSUM(Z27, 176(DI), 184(DI))
	PAIRSUM(Z28, 192(DI), 200(DI))
	PAIRSUM(Z29, 208(DI), 216(DI))
	PAIRSUM(Z30, 224(DI), 232(DI))
	PAIRSUM(Z31, 240(DI), 248(DI))
	VZEROUPPER
	RET
