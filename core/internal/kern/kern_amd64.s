#include "textflag.h"

// tailmask holds 3 all-ones quadwords followed by 4 zero quadwords. The 4
// quadwords starting at index 3-r have exactly their first r lanes set, which
// is the VMASKMOVPD mask for a k-tail of r = 1, 2 or 3 doubles. A global
// symbol: the AVX-512 kernels (abt512_amd64.s, mv64_amd64.s) read it too.
DATA ·tailmask+0(SB)/8, $0xffffffffffffffff
DATA ·tailmask+8(SB)/8, $0xffffffffffffffff
DATA ·tailmask+16(SB)/8, $0xffffffffffffffff
DATA ·tailmask+24(SB)/8, $0
DATA ·tailmask+32(SB)/8, $0
DATA ·tailmask+40(SB)/8, $0
DATA ·tailmask+48(SB)/8, $0
GLOBL ·tailmask(SB), RODATA|NOPTR, $56

// Register allocation of dot3x4AVX2
//
//	R8, R9, R10      a0, a1, a2: the 3 rows of A
//	R11, R12, R13, BX b0, b1, b2, b3: the 4 rows of B
//	CX               k
//	AX               p, the current column (in doubles)
//	DX               loop limit, later the mask table address
//	SI               tail length r, later 3-r
//	DI               out
//
//	Y0  Y1  Y2  Y3   accumulators of row a0 against b0 b1 b2 b3
//	Y4  Y5  Y6  Y7   accumulators of row a1 against b0 b1 b2 b3
//	Y8  Y9  Y10 Y11  accumulators of row a2 against b0 b1 b2 b3
//	Y12 Y13 Y14      a0[p:p+4], a1[p:p+4], a2[p:p+4]
//	Y15              b_j[p:p+4], one B row at a time (the tail mask in the tail)
//
// Lane l of accumulator Y(4i+j) holds Σ a_i[p]·b_j[p] over p ≡ l (mod 4),
// accumulated in increasing p with one fused multiply-add per term.

// STEP multiplies the 4 doubles at p+off/8 of the 3 A rows with those of the
// 4 B rows into the 12 accumulators: 7 loads, 12 FMAs.
#define STEP(off) \
	VMOVUPD     off(R8)(AX*8), Y12; \
	VMOVUPD     off(R9)(AX*8), Y13; \
	VMOVUPD     off(R10)(AX*8), Y14; \
	VMOVUPD     off(R11)(AX*8), Y15; \
	VFMADD231PD Y15, Y12, Y0; \
	VFMADD231PD Y15, Y13, Y4; \
	VFMADD231PD Y15, Y14, Y8; \
	VMOVUPD     off(R12)(AX*8), Y15; \
	VFMADD231PD Y15, Y12, Y1; \
	VFMADD231PD Y15, Y13, Y5; \
	VFMADD231PD Y15, Y14, Y9; \
	VMOVUPD     off(R13)(AX*8), Y15; \
	VFMADD231PD Y15, Y12, Y2; \
	VFMADD231PD Y15, Y13, Y6; \
	VFMADD231PD Y15, Y14, Y10; \
	VMOVUPD     off(BX)(AX*8), Y15; \
	VFMADD231PD Y15, Y12, Y3; \
	VFMADD231PD Y15, Y13, Y7; \
	VFMADD231PD Y15, Y14, Y11

// REDUCE folds the 4 accumulators r0..r3 of one A row (lanes l0..l3 each)
// into [s0 s1 s2 s3] with s_j = (l0+l1) + (l2+l3) of r_j, stored at dst.
// r0..r3 are clobbered.
#define REDUCE(r0, r1, r2, r3, dst) \
	VHADDPD    r1, r0, r0; \
	VHADDPD    r3, r2, r2; \
	VPERM2F128 $0x20, r2, r0, r1; \
	VPERM2F128 $0x31, r2, r0, r3; \
	VADDPD     r3, r1, r1; \
	VMOVUPD    r1, dst

// func dot3x4AVX2(k int, a0, a1, a2, b0, b1, b2, b3 *float64, out *[12]float64)
//
// The 32-byte frame is a spill slot for Y11 in the k-tail, where a register
// is needed for the mask.
TEXT ·dot3x4AVX2(SB), NOSPLIT, $32-72
	MOVQ k+0(FP), CX
	MOVQ a0+8(FP), R8
	MOVQ a1+16(FP), R9
	MOVQ a2+24(FP), R10
	MOVQ b0+32(FP), R11
	MOVQ b1+40(FP), R12
	MOVQ b2+48(FP), R13
	MOVQ b3+56(FP), BX

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX // p < DX: 8 columns per iteration
	JZ   four

loop8:
	STEP(0)
	STEP(32)
	ADDQ $8, AX
	CMPQ AX, DX
	JLT  loop8

four:
	MOVQ CX, DX
	ANDQ $-4, DX
	CMPQ AX, DX
	JGE  tail
	STEP(0)
	ADDQ $4, AX

tail:
	MOVQ CX, SI
	SUBQ AX, SI // r = k - p, 0..3
	JZ   reduce

	// Masked loads read only the r valid doubles (never past a row's end)
	// and zero the other lanes, so those lanes gain 0·0 = +0.
	NEGQ    SI
	ADDQ    $3, SI
	LEAQ    ·tailmask(SB), DX
	VMOVUPD Y11, 0(SP)
	VMOVUPD (DX)(SI*8), Y15

	VMASKMOVPD  (R8)(AX*8), Y15, Y12
	VMASKMOVPD  (R9)(AX*8), Y15, Y13
	VMASKMOVPD  (R10)(AX*8), Y15, Y14
	VMASKMOVPD  (R11)(AX*8), Y15, Y11
	VFMADD231PD Y11, Y12, Y0
	VFMADD231PD Y11, Y13, Y4
	VFMADD231PD Y11, Y14, Y8
	VMASKMOVPD  (R12)(AX*8), Y15, Y11
	VFMADD231PD Y11, Y12, Y1
	VFMADD231PD Y11, Y13, Y5
	VFMADD231PD Y11, Y14, Y9
	VMASKMOVPD  (R13)(AX*8), Y15, Y11
	VFMADD231PD Y11, Y12, Y2
	VFMADD231PD Y11, Y13, Y6
	VFMADD231PD Y11, Y14, Y10
	VMASKMOVPD  (BX)(AX*8), Y15, Y15 // the mask is not needed after this load
	VMOVUPD     0(SP), Y11
	VFMADD231PD Y15, Y12, Y3
	VFMADD231PD Y15, Y13, Y7
	VFMADD231PD Y15, Y14, Y11

reduce:
	MOVQ out+64(FP), DI
	REDUCE(Y0, Y1, Y2, Y3, 0(DI))
	REDUCE(Y4, Y5, Y6, Y7, 32(DI))
	REDUCE(Y8, Y9, Y10, Y11, 64(DI))
	VZEROUPPER
	RET

// Register allocation of dot8x1AVX2
//
//	R8 … R13, BX, SI a0 … a7: the 8 rows of A
//	DI               x, later out
//	CX               k
//	AX               p, the current column (in doubles)
//	DX               loop limit, later the mask table address
//
//	Y0 … Y7          accumulators of rows a0 … a7 against x
//	Y8               x[p:p+4]
//	Y9               the tail mask
//	Y10              a masked tail of one A row
//
// The rows of A are read through the memory operand of VFMADD231PD, so one
// iteration of 4 columns is 1 load of x and 8 FMAs.

#define STEPV(off) \
	VMOVUPD     off(DI)(AX*8), Y8; \
	VFMADD231PD off(R8)(AX*8), Y8, Y0; \
	VFMADD231PD off(R9)(AX*8), Y8, Y1; \
	VFMADD231PD off(R10)(AX*8), Y8, Y2; \
	VFMADD231PD off(R11)(AX*8), Y8, Y3; \
	VFMADD231PD off(R12)(AX*8), Y8, Y4; \
	VFMADD231PD off(R13)(AX*8), Y8, Y5; \
	VFMADD231PD off(BX)(AX*8), Y8, Y6; \
	VFMADD231PD off(SI)(AX*8), Y8, Y7

#define TAILV(row, acc) \
	VMASKMOVPD  (row)(AX*8), Y9, Y10; \
	VFMADD231PD Y10, Y8, acc

// func dot8x1AVX2(k int, a0, a1, a2, a3, a4, a5, a6, a7, x *float64, out *[8]float64)
TEXT ·dot8x1AVX2(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a0+8(FP), R8
	MOVQ a1+16(FP), R9
	MOVQ a2+24(FP), R10
	MOVQ a3+32(FP), R11
	MOVQ a4+40(FP), R12
	MOVQ a5+48(FP), R13
	MOVQ a6+56(FP), BX
	MOVQ a7+64(FP), SI
	MOVQ x+72(FP), DI

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ   fourv

loop8v:
	STEPV(0)
	STEPV(32)
	ADDQ $8, AX
	CMPQ AX, DX
	JLT  loop8v

fourv:
	MOVQ CX, DX
	ANDQ $-4, DX
	CMPQ AX, DX
	JGE  tailv
	STEPV(0)
	ADDQ $4, AX

tailv:
	MOVQ CX, DX
	SUBQ AX, DX // r = k - p, 0..3
	JZ   reducev
	NEGQ DX
	ADDQ $3, DX
	LEAQ ·tailmask(SB), CX
	VMOVUPD (CX)(DX*8), Y9
	VMASKMOVPD (DI)(AX*8), Y9, Y8
	TAILV(R8, Y0)
	TAILV(R9, Y1)
	TAILV(R10, Y2)
	TAILV(R11, Y3)
	TAILV(R12, Y4)
	TAILV(R13, Y5)
	TAILV(BX, Y6)
	TAILV(SI, Y7)

reducev:
	MOVQ out+80(FP), DI
	REDUCE(Y0, Y1, Y2, Y3, 0(DI))
	REDUCE(Y4, Y5, Y6, Y7, 32(DI))
	VZEROUPPER
	RET

// Offsets in ·tanhTab (tanh.go) of the 4-lane constants of tanhAVX2: row
// index × 32 bytes, in the order of the tab constants there.
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

// TANH4 computes tanh of the 4 doubles in Y0 into Y12, with the registers
// described below (tanhAVX2); DX must hold ·tanhTab. It clobbers Y1–Y13
// and Y15. In order (a macro cannot hold comments): |x|; the small branch
// z + (z·s·P(s)) / Q(s), multiplies and adds unfused (13 instructions);
// the large branch e^y + 1 with y = 2·min(z, 20) (2^k by the shifter, the
// two-step reduction, the degree-13 Horner polynomial); one division for
// both branches, q = z·s·P/Q or 2/(e^y + 1), and the blends; the sign of x
// copied, and a NaN x returned as it is.
#define TANH4 \
	VANDPD  TAB_ABS(DX), Y0, Y1; \
	VMULPD Y1, Y1, Y2; \
	VMULPD TAB_P0(DX), Y2, Y3; \
	VADDPD TAB_P1(DX), Y3, Y3; \
	VMULPD Y2, Y3, Y3; \
	VADDPD TAB_P2(DX), Y3, Y3; \
	VMULPD Y2, Y1, Y4; \
	VMULPD Y3, Y4, Y4; \
	VADDPD TAB_Q0(DX), Y2, Y5; \
	VMULPD Y2, Y5, Y5; \
	VADDPD TAB_Q1(DX), Y5, Y5; \
	VMULPD Y2, Y5, Y5; \
	VADDPD TAB_Q2(DX), Y5, Y5; \
	VMINPD      TAB_ZMAX(DX), Y1, Y6; \
	VADDPD      Y6, Y6, Y6; \
	VMULPD      TAB_LOG2E(DX), Y6, Y7; \
	VADDPD      TAB_SHIFTER(DX), Y7, Y7; \
	VPSLLQ      $52, Y7, Y8; \
	VPADDQ      TAB_ONEBITS(DX), Y8, Y8; \
	VSUBPD      TAB_SHIFTER(DX), Y7, Y7; \
	VFNMADD231PD TAB_LN2HI(DX), Y7, Y6; \
	VFNMADD231PD TAB_LN2LO(DX), Y7, Y6; \
	VMOVUPD     TAB_EXP(13)(DX), Y9; \
	VFMADD213PD TAB_EXP(12)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(11)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(10)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(9)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(8)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(7)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(6)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(5)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(4)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(3)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(2)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(1)(DX), Y6, Y9; \
	VFMADD213PD TAB_EXP(0)(DX), Y6, Y9; \
	VMULPD      Y8, Y9, Y9; \
	VADDPD      TAB_ONE(DX), Y9, Y9; \
	VCMPPD    $1, TAB_SMALL(DX), Y1, Y10; \
	VMOVUPD   TAB_TWO(DX), Y11; \
	VBLENDVPD Y10, Y4, Y11, Y4; \
	VBLENDVPD Y10, Y5, Y9, Y5; \
	VDIVPD    Y5, Y4, Y4; \
	VADDPD    Y4, Y1, Y11; \
	VMOVUPD   TAB_ONE(DX), Y12; \
	VSUBPD    Y4, Y12, Y12; \
	VBLENDVPD Y10, Y11, Y12, Y12; \
	VANDPD    TAB_SIGN(DX), Y0, Y13; \
	VORPD     Y13, Y12, Y12; \
	VCMPPD    $3, Y0, Y0, Y15; \
	VBLENDVPD Y15, Y0, Y12, Y12

// Register allocation of tanhAVX2
//
//	DI, SI           dst, src
//	CX               n, a multiple of 4
//	AX               i, the current element
//	DX               ·tanhTab
//
//	Y0   x                 Y8   2^k
//	Y1   z = |x|           Y9   e^r, then e^y + 1
//	Y2   s = z²            Y10  the mask z < 0.625 (NaN: false)
//	Y3   P(s)              Y11  2, then the small-branch result
//	Y4   z·s·P(s), then q  Y12  1 − q, then the result
//	Y5   Q(s)              Y13  the sign bit of x
//	Y6   y = 2 min(z, 20), then r
//	Y7   k (biased, then exact)
//	Y15  the mask x is NaN
//
// Each lane performs exactly the operations of tanh1 in tanh.go, in the
// same order, so both give the same bits.

// func tanhAVX2(dst, src []float64)
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	LEAQ ·tanhTab(SB), DX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   tanhdone

tanhloop:
	VMOVUPD (SI)(AX*8), Y0
	TANH4
	VMOVUPD Y12, (DI)(AX*8)
	ADDQ $4, AX
	CMPQ AX, CX
	JLT  tanhloop
	VZEROUPPER

tanhdone:
	RET

// func dot8x1StrideAVX2(k int, a *float64, lda int, x, y *float64)
//
// dot8x1AVX2 for the 8 consecutive rows a, a+lda, …, a+7·lda of a matrix,
// writing y[0..7] directly: the same registers and operations (so the same
// bits), without the caller building a table of row slices.
TEXT ·dot8x1StrideAVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), R8
	MOVQ lda+16(FP), DX
	SHLQ $3, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	LEAQ (R11)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	LEAQ (R13)(DX*1), BX
	LEAQ (BX)(DX*1), SI
	MOVQ x+24(FP), DI

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ   fours

loop8s:
	STEPV(0)
	STEPV(32)
	ADDQ $8, AX
	CMPQ AX, DX
	JLT  loop8s

fours:
	MOVQ CX, DX
	ANDQ $-4, DX
	CMPQ AX, DX
	JGE  tails
	STEPV(0)
	ADDQ $4, AX

tails:
	MOVQ CX, DX
	SUBQ AX, DX // r = k - p, 0..3
	JZ   reduces
	NEGQ DX
	ADDQ $3, DX
	LEAQ ·tailmask(SB), CX
	VMOVUPD (CX)(DX*8), Y9
	VMASKMOVPD (DI)(AX*8), Y9, Y8
	TAILV(R8, Y0)
	TAILV(R9, Y1)
	TAILV(R10, Y2)
	TAILV(R11, Y3)
	TAILV(R12, Y4)
	TAILV(R13, Y5)
	TAILV(BX, Y6)
	TAILV(SI, Y7)

reduces:
	MOVQ y+32(FP), DI
	REDUCE(Y0, Y1, Y2, Y3, 0(DI))
	REDUCE(Y4, Y5, Y6, Y7, 32(DI))
	VZEROUPPER
	RET

// func tanhF32AVX2(dst, src []float32)
//
// tanhAVX2 for float32: each group of 4 floats is widened to doubles
// (exactly), goes through the same TANH4, and is rounded back to float32
// (to nearest), which is what tanh32 does through a float64 buffer. len(src)
// is a multiple of 4 and len(dst) ≥ len(src).
TEXT ·tanhF32AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ src_base+24(FP), SI
	MOVQ src_len+32(FP), CX
	LEAQ ·tanhTab(SB), DX
	XORQ AX, AX
	TESTQ CX, CX
	JZ   tanhf32done

tanhf32loop:
	VCVTPS2PD  (SI)(AX*4), Y0
	TANH4
	VCVTPD2PSY Y12, X12
	VMOVUPS    X12, (DI)(AX*4)
	ADDQ $4, AX
	CMPQ AX, CX
	JLT  tanhf32loop
	VZEROUPPER

tanhf32done:
	RET
