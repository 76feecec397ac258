#include "textflag.h"
#include "pairsum_amd64.h"

// func dotPanelAVX512(kp int, panel *float64, x *float64, k int, y *float64)
//
// The 8 rows of one panel of a Packed (4 columns of rows 0…7 in turn, then
// the next 4 columns; zero past column k) against x: y[i] for i < 8 with
// the bits of dot8x1StrideAVX2 (lane l of row i sums p ≡ l mod 4 in
// increasing p with fused multiply-adds; (l0 + l1) + (l2 + l3)). Each zmm
// accumulator holds rows 2j (lanes 0–3) and 2j+1 (lanes 4–7); x is read
// as 4 values broadcast to both halves, under a mask in the last chunk.
TEXT ·dotPanelAVX512(SB), NOSPLIT, $0-40
	MOVQ kp+0(FP), CX
	MOVQ panel+8(FP), SI
	MOVQ x+16(FP), DI
	MOVQ k+24(FP), BX
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	XORQ AX, AX
	MOVQ BX, DX
	ANDQ $-4, DX // whole chunks of x
	JZ   ptail

ploop:
	VBROADCASTF64X4 (DI)(AX*8), Z0
	VFMADD231PD     0(SI), Z0, Z16
	VFMADD231PD     64(SI), Z0, Z17
	VFMADD231PD     128(SI), Z0, Z18
	VFMADD231PD     192(SI), Z0, Z19
	ADDQ            $256, SI
	ADDQ            $4, AX
	CMPQ            AX, DX
	JLT             ploop

ptail:
	CMPQ AX, BX
	JGE  preduce
	MOVQ BX, CX
	SUBQ AX, CX // r = 1…3
	NEGQ CX
	ADDQ $3, CX
	LEAQ ·tailmask(SB), DX
	VMOVUPD      (DX)(CX*8), Y1
	VMASKMOVPD   (DI)(AX*8), Y1, Y0
	VINSERTF64X4 $1, Y0, Z0, Z0
	VFMADD231PD  0(SI), Z0, Z16
	VFMADD231PD  64(SI), Z0, Z17
	VFMADD231PD  128(SI), Z0, Z18
	VFMADD231PD  192(SI), Z0, Z19

preduce:
	MOVQ y+32(FP), DI
	PAIRSUM(Z16, 0(DI), 8(DI))
	PAIRSUM(Z17, 16(DI), 24(DI))
	PAIRSUM(Z18, 32(DI), 40(DI))
	PAIRSUM(Z19, 48(DI), 56(DI))
	VZEROUPPER
	RET
