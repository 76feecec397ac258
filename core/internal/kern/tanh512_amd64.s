#include "textflag.h"

// The AVX-512 tanh kernels: TANH4 of kern_amd64.s on 8 doubles per
// instruction, every lane performing the same operations in the same
// order (so the same bits as tanhAVX2 and tanh1). The constants are
// broadcast from the first lane of each row of ·tanhTab; comparisons give
// mask registers and VBLENDMPD takes the place of VBLENDVPD.

#define TAB_ABS 0
#define TAB_SIGN 32
#define TAB_SMALL 64
#define TAB_P0 96
#define TAB_P1 128
#define TAB_P2 160
#define TAB_Q0 192
#define TAB_Q1 224
#define TAB_Q2 256
#define TAB_ZMAX 288
#define TAB_LOG2E 320
#define TAB_SHIFTER 352
#define TAB_ONEBITS 384
#define TAB_LN2HI 416
#define TAB_LN2LO 448
#define TAB_ONE 480
#define TAB_TWO 512
#define TAB_EXP(n) (544+32*(n))

// TANH8 computes tanh of the 8 doubles in Z0 into Z12 (registers as in
// TANH4, K1 the mask z < 0.625, K2 the mask x is NaN); DX holds ·tanhTab.
#define TANH8 \
	VPANDQ.BCST  TAB_ABS(DX), Z0, Z1; \
	VMULPD       Z1, Z1, Z2; \
	VMULPD.BCST  TAB_P0(DX), Z2, Z3; \
	VADDPD.BCST  TAB_P1(DX), Z3, Z3; \
	VMULPD       Z2, Z3, Z3; \
	VADDPD.BCST  TAB_P2(DX), Z3, Z3; \
	VMULPD       Z2, Z1, Z4; \
	VMULPD       Z3, Z4, Z4; \
	VADDPD.BCST  TAB_Q0(DX), Z2, Z5; \
	VMULPD       Z2, Z5, Z5; \
	VADDPD.BCST  TAB_Q1(DX), Z5, Z5; \
	VMULPD       Z2, Z5, Z5; \
	VADDPD.BCST  TAB_Q2(DX), Z5, Z5; \
	VMINPD.BCST  TAB_ZMAX(DX), Z1, Z6; \
	VADDPD       Z6, Z6, Z6; \
	VMULPD.BCST  TAB_LOG2E(DX), Z6, Z7; \
	VADDPD.BCST  TAB_SHIFTER(DX), Z7, Z7; \
	VPSLLQ       $52, Z7, Z8; \
	VPADDQ.BCST  TAB_ONEBITS(DX), Z8, Z8; \
	VSUBPD.BCST  TAB_SHIFTER(DX), Z7, Z7; \
	VFNMADD231PD.BCST TAB_LN2HI(DX), Z7, Z6; \
	VFNMADD231PD.BCST TAB_LN2LO(DX), Z7, Z6; \
	VBROADCASTSD TAB_EXP(13)(DX), Z9; \
	VFMADD213PD.BCST TAB_EXP(12)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(11)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(10)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(9)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(8)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(7)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(6)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(5)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(4)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(3)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(2)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(1)(DX), Z6, Z9; \
	VFMADD213PD.BCST TAB_EXP(0)(DX), Z6, Z9; \
	VMULPD       Z8, Z9, Z9; \
	VADDPD.BCST  TAB_ONE(DX), Z9, Z9; \
	VCMPPD.BCST  $1, TAB_SMALL(DX), Z1, K1; \
	VBROADCASTSD TAB_TWO(DX), Z11; \
	VBLENDMPD    Z4, Z11, K1, Z4; \
	VBLENDMPD    Z5, Z9, K1, Z5; \
	VDIVPD       Z5, Z4, Z4; \
	VADDPD       Z4, Z1, Z11; \
	VBROADCASTSD TAB_ONE(DX), Z12; \
	VSUBPD       Z4, Z12, Z12; \
	VBLENDMPD    Z11, Z12, K1, Z12; \
	VPANDQ.BCST  TAB_SIGN(DX), Z0, Z13; \
	VPORQ        Z13, Z12, Z12; \
	VCMPPD       $3, Z0, Z0, K2; \
	VBLENDMPD    Z0, Z12, K2, Z12

// func tanhAVX512(dst, src []float64)
//
// dst[i] = tanh1(src[i]) bit for bit, for len(src) a multiple of 8 and
// len(dst) ≥ len(src).
TEXT ·tanhAVX512(SB), NOSPLIT, $0-48
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  src_len+32(FP), CX
	LEAQ  ·tanhTab(SB), DX
	XORQ  AX, AX
	TESTQ CX, CX
	JZ    done

loop:
	VMOVUPD (SI)(AX*8), Z0
	TANH8
	VMOVUPD Z12, (DI)(AX*8)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     loop
	VZEROUPPER

done:
	RET

// func tanhF32AVX512(dst, src []float32)
//
// tanhF32AVX2 on 8 floats at a time: each float widened (exactly), TANH8,
// rounded back to nearest. len(src) is a multiple of 8, len(dst) ≥ len(src).
TEXT ·tanhF32AVX512(SB), NOSPLIT, $0-48
	MOVQ  dst_base+0(FP), DI
	MOVQ  src_base+24(FP), SI
	MOVQ  src_len+32(FP), CX
	LEAQ  ·tanhTab(SB), DX
	XORQ  AX, AX
	TESTQ CX, CX
	JZ    done32

loop32:
	VCVTPS2PD (SI)(AX*4), Z0
	TANH8
	VCVTPD2PS Z12, Y12
	VMOVUPS   Y12, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JLT       loop32
	VZEROUPPER

done32:
	RET
