#include "textflag.h"

// The float64 forms of the element-wise kernels of elem32_amd64.s, 4 lanes
// at a time, unfused: every lane performs the Go loop's operations.

// func eulerF64AVX2(next, x, d []float64, alpha float64)
//
// next[i] = x[i] + α·((next[i] − x[i]) + d[i]) for i < len(next), a
// multiple of 8; x and d are at least as long.
TEXT ·eulerF64AVX2(SB), NOSPLIT, $0-80
	MOVQ         next_base+0(FP), DI
	MOVQ         next_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         d_base+48(FP), DX
	VBROADCASTSD alpha+72(FP), Y3
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           eulerdone

eulerloop:
	VMOVUPD (DI)(AX*8), Y0
	VMOVUPD (SI)(AX*8), Y1
	VSUBPD  Y1, Y0, Y0
	VADDPD  (DX)(AX*8), Y0, Y0
	VMULPD  Y3, Y0, Y0
	VADDPD  Y0, Y1, Y0
	VMOVUPD Y0, (DI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     eulerloop
	VZEROUPPER

eulerdone:
	RET

// func fluctF64AVX2(d, xbar, next []float64, a, b float64)
//
// d[i] = x̄[i] − next[i], then x̄[i] = a·x̄[i] + b·next[i], for i <
// len(xbar), a multiple of 4; d (unless empty: then only x̄) and next are
// at least as long.
TEXT ·fluctF64AVX2(SB), NOSPLIT, $0-88
	MOVQ         d_base+0(FP), DI
	MOVQ         d_len+8(FP), BX
	MOVQ         xbar_base+24(FP), SI
	MOVQ         xbar_len+32(FP), CX
	MOVQ         next_base+48(FP), DX
	VBROADCASTSD a+72(FP), Y4
	VBROADCASTSD b+80(FP), Y5
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           fluctdone
	TESTQ        BX, BX
	JZ           xbarloop

fluctloop:
	VMOVUPD (SI)(AX*8), Y0
	VMOVUPD (DX)(AX*8), Y1
	VSUBPD  Y1, Y0, Y2
	VMOVUPD Y2, (DI)(AX*8)
	VMULPD  Y4, Y0, Y0
	VMULPD  Y5, Y1, Y1
	VADDPD  Y1, Y0, Y0
	VMOVUPD Y0, (SI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     fluctloop
	VZEROUPPER
	RET

xbarloop:
	VMOVUPD (SI)(AX*8), Y0
	VMOVUPD (DX)(AX*8), Y1
	VMULPD  Y4, Y0, Y0
	VMULPD  Y5, Y1, Y1
	VADDPD  Y1, Y0, Y0
	VMOVUPD Y0, (SI)(AX*8)
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     xbarloop
	VZEROUPPER

fluctdone:
	RET

