#include "textflag.h"

// Element-wise float32 kernels of elem32.go, 8 lanes at a time, with
// separate multiplies and adds (no fused operations), so that every lane
// performs the operations of the Go loop, with its bits.

// func eulerF32AVX2(next, x, d []float32, alpha float32)
//
// next[i] = x[i] + α·((next[i] − x[i]) + d[i]) for i < len(next), a
// multiple of 8; x and d are at least as long.
TEXT ·eulerF32AVX2(SB), NOSPLIT, $0-76
	MOVQ         next_base+0(FP), DI
	MOVQ         next_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         d_base+48(FP), DX
	VBROADCASTSS alpha+72(FP), Y3
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           eulerdone

eulerloop:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS (SI)(AX*4), Y1
	VSUBPS  Y1, Y0, Y0
	VADDPS  (DX)(AX*4), Y0, Y0
	VMULPS  Y3, Y0, Y0
	VADDPS  Y0, Y1, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     eulerloop
	VZEROUPPER

eulerdone:
	RET

// func fluctF32AVX2(d, xbar, next []float32, a, b float32)
//
// d[i] = x̄[i] − next[i], then x̄[i] = a·x̄[i] + b·next[i], for i <
// len(xbar), a multiple of 8; d (unless empty: then only x̄) and next are
// at least as long.
TEXT ·fluctF32AVX2(SB), NOSPLIT, $0-80
	MOVQ         d_base+0(FP), DI
	MOVQ         d_len+8(FP), BX
	MOVQ         xbar_base+24(FP), SI
	MOVQ         xbar_len+32(FP), CX
	MOVQ         next_base+48(FP), DX
	VBROADCASTSS a+72(FP), Y4
	VBROADCASTSS b+76(FP), Y5
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           fluctdone
	TESTQ        BX, BX
	JZ           xbarloop

fluctloop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (DX)(AX*4), Y1
	VSUBPS  Y1, Y0, Y2
	VMOVUPS Y2, (DI)(AX*4)
	VMULPS  Y4, Y0, Y0
	VMULPS  Y5, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     fluctloop
	VZEROUPPER
	RET

xbarloop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (DX)(AX*4), Y1
	VMULPS  Y4, Y0, Y0
	VMULPS  Y5, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     xbarloop
	VZEROUPPER

fluctdone:
	RET

// func powScaleF32AVX2(dst, src []float32, c float32, l int)
//
// dst[i] = c·src[i]^l for i < len(dst), a multiple of 8, the power formed
// by l − 1 successive multiplies by src[i] (c alone for l = 0), unfused.
TEXT ·powScaleF32AVX2(SB), NOSPLIT, $0-64
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         src_base+24(FP), SI
	VBROADCASTSS c+48(FP), Y3
	MOVQ         l+56(FP), BX
	XORQ         AX, AX
	TESTQ        CX, CX
	JZ           powdone
	TESTQ        BX, BX
	JZ           powzero

powloop:
	VMOVUPS (SI)(AX*4), Y1
	VMOVAPS Y1, Y0
	MOVQ    BX, DX
	DECQ    DX
	JZ      powscale

powmul:
	VMULPS Y1, Y0, Y0
	DECQ   DX
	JNZ    powmul

powscale:
	VMULPS  Y0, Y3, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     powloop
	VZEROUPPER
	RET

powzero:
	VMOVUPS Y3, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     powzero
	VZEROUPPER

powdone:
	RET

// func hornerF32AVX2(dst, src, th []float32)
//
// dst[i] = Σ_k th[k]·src[i]^k by Horner's rule from the highest
// coefficient, s ← s·src[i] + th[k], unfused, for i < len(dst), a multiple
// of 8; len(th) ≥ 1.
TEXT ·hornerF32AVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ th_base+48(FP), R8
	MOVQ th_len+56(FP), BX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   hdone

hloop:
	VMOVUPS      (SI)(AX*4), Y1
	MOVQ         BX, DX
	DECQ         DX
	VBROADCASTSS (R8)(DX*4), Y0
	TESTQ        DX, DX
	JZ           hstore

hstep:
	DECQ         DX
	VMULPS       Y1, Y0, Y0
	VBROADCASTSS (R8)(DX*4), Y2
	VADDPS       Y2, Y0, Y0
	TESTQ        DX, DX
	JNZ          hstep

hstore:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     hloop
	VZEROUPPER

hdone:
	RET
