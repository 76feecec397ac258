package kern

import "golang.org/x/sys/cpu"

// dot3x4AVX2 is the AVX2+FMA micro-kernel of kern_amd64.s. It writes
// out[4i+j] = Σ_{p<k} ai[p]·bj[p] for the rows a0..a2 and b0..b3, each of
// which must hold at least k doubles, in the order described in doc.go.
// k must be at least 1.
//
//go:noescape
func dot3x4AVX2(k int, a0, a1, a2, b0, b1, b2, b3 *float64, out *[12]float64)

// tileAVX2 adapts dot3x4AVX2 to impl.tile. The slicing in the caller has
// already checked that every row holds k doubles, which is what makes the
// assembly's loads safe.
func tileAVX2(k int, a0, a1, a2, b0, b1, b2, b3 []float64, out *[12]float64) {
	_, _, _ = a0[k-1], a1[k-1], a2[k-1]
	_, _, _, _ = b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	dot3x4AVX2(k, &a0[0], &a1[0], &a2[0], &b0[0], &b1[0], &b2[0], &b3[0], out)
}

// dot8x1AVX2 is the AVX2+FMA matrix-vector kernel of kern_amd64.s. It writes
// out[i] = Σ_{p<k} ai[p]·x[p] for the rows a0..a7, each of which, like x,
// must hold at least k doubles, in the order described in doc.go (without
// k-blocks). k must be at least 1.
//
//go:noescape
func dot8x1AVX2(k int, a0, a1, a2, a3, a4, a5, a6, a7, x *float64, out *[8]float64)

// rowsAVX2 adapts dot8x1AVX2 to impl.rows; the bounds checks make its loads safe.
func rowsAVX2(k int, a *[8][]float64, x []float64, out *[8]float64) {
	_ = x[k-1]
	for _, r := range a {
		_ = r[k-1]
	}
	dot8x1AVX2(k, &a[0][0], &a[1][0], &a[2][0], &a[3][0], &a[4][0], &a[5][0], &a[6][0], &a[7][0], &x[0], out)
}

// hasAVX2FMA reports whether this CPU (and OS) supports the assembly kernels.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// tanhAVX2 is the AVX2+FMA tanh kernel of kern_amd64.s: dst[i] = tanh1(src[i])
// bit for bit, for len(src) a multiple of 4 and len(dst) ≥ len(src).
//
//go:noescape
func tanhAVX2(dst, src []float64)

// dot8x1StrideAVX2 is dot8x1AVX2 for the 8 rows a + i·lda (i < 8) of a
// row-major matrix, writing y[0..7]; every row, x and y must be long
// enough, and k ≥ 1.
//
//go:noescape
func dot8x1StrideAVX2(k int, a *float64, lda int, x, y *float64)

// dot3x4F32AVX2 is the float32 tile kernel of kern32_amd64.s: dot3x4AVX2
// with 8 float32 lanes (the order of kern32.go). k must be at least 1.
//
//go:noescape
func dot3x4F32AVX2(k int, a0, a1, a2, b0, b1, b2, b3 *float32, out *[12]float32)

// tile32AVX2 adapts dot3x4F32AVX2 to impl.tile32; the bounds checks make
// its loads safe.
func tile32AVX2(k int, a0, a1, a2, b0, b1, b2, b3 []float32, out *[12]float32) {
	_, _, _ = a0[k-1], a1[k-1], a2[k-1]
	_, _, _, _ = b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	dot3x4F32AVX2(k, &a0[0], &a1[0], &a2[0], &b0[0], &b1[0], &b2[0], &b3[0], out)
}

// tanhF32AVX2 is the float32 tanh kernel of kern_amd64.s: dst[i] =
// float32(tanh1(float64(src[i]))) bit for bit, for len(src) a multiple of
// 4 and len(dst) ≥ len(src).
//
//go:noescape
func tanhF32AVX2(dst, src []float32)

// hasAVX512 reports whether this CPU (and OS) supports the AVX-512 kernels.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F

// atb8x32F32AVX512 is the AVX-512 tile kernel of MulAtB32 (atb32_amd64.s):
// s = Σ_{p<k} a[p·lda+r]·b[p·ldb+j] summed from zero in increasing p, for
// r < 8, j < cols ≤ 32, stored as c[r·ldc+j] = s (add = 0) or c + s, in
// rows r ≥ skip only. Every row and column it touches must exist; k ≥ 1.
//
//go:noescape
func atb8x32F32AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int)

// atb4x16F32AVX2 is atb8x32F32AVX512 for 4 rows and cols ≤ 16, with AVX2
// and FMA: the same operations per entry, so the same bits.
//
//go:noescape
func atb4x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int)

// dot8x1StrideF32AVX512 is the AVX-512 matrix-vector kernel of MulAv32
// (mv32_amd64.s): y[i] = Σ_{p<k} a[i·lda+p]·x[p] for i < 8 in the order of
// kern32.go; every row, x and y must be long enough, k ≥ 1.
//
//go:noescape
func dot8x1StrideF32AVX512(k int, a *float32, lda int, x, y *float32)

// dot4x1StrideF32AVX2 is dot8x1StrideF32AVX512 for 4 rows with AVX2 and
// FMA, with the same bits.
//
//go:noescape
func dot4x1StrideF32AVX2(k int, a *float32, lda int, x, y *float32)

// tanhAVX512 is the AVX-512 tanh kernel (tanh512_amd64.s): tanhAVX2 on 8
// values per instruction, with the same bits, for len(src) a multiple of 8.
//
//go:noescape
func tanhAVX512(dst, src []float64)

// tanhF32AVX512 is tanhF32AVX2 on 8 values per instruction, with the same
// bits, for len(src) a multiple of 8.
//
//go:noescape
func tanhF32AVX512(dst, src []float32)

// dotPanelF32AVX512 is the packed mat-vec kernel of Packed32.MulV
// (mv32_amd64.s): one panel of 8 rows against x, with the bits of
// dot8x1StrideF32AVX512.
//
//go:noescape
func dotPanelF32AVX512(kp int, panel *float32, x *float32, k int, y *float32)

// eulerF32AVX2 is EulerStep32's kernel (elem32_amd64.s) for a length that
// is a multiple of 8.
//
//go:noescape
func eulerF32AVX2(next, x, d []float32, alpha float32)

// fluctF32AVX2 is Fluctuation32's kernel (elem32_amd64.s) for a length
// that is a multiple of 8; an empty d updates x̄ only.
//
//go:noescape
func fluctF32AVX2(d, xbar, next []float32, a, b float32)

// powScaleF32AVX2 is PowScale32's kernel (elem32_amd64.s) for a length
// that is a multiple of 8.
//
//go:noescape
func powScaleF32AVX2(dst, src []float32, c float32, l int)

// hornerF32AVX2 is Horner32's kernel (elem32_amd64.s) for a length that
// is a multiple of 8.
//
//go:noescape
func hornerF32AVX2(dst, src, th []float32)

// dot4x8AVX512 is the AVX-512 tile kernel of MulABt (abt512_amd64.s):
// out[8i+j] = Σ_{p<k} a[i·lda+p]·b[j·ldb+p] for i < 4, j < 8, with the
// bits of dot3x4AVX2 for every entry. The 4 rows of A and 8 of B must hold
// k values each; k ≥ 1.
//
//go:noescape
func dot4x8AVX512(k int, a *float64, lda int, b *float64, ldb int, out *[32]float64)

// dotPanelAVX512 is the packed mat-vec kernel of Packed.MulV
// (mv64_amd64.s): one panel of 8 rows against x, with the bits of
// dot8x1StrideAVX2.
//
//go:noescape
func dotPanelAVX512(kp int, panel *float64, x *float64, k int, y *float64)

// atb6x16F32AVX2 is atb4x16F32AVX2 for 6 rows and exactly 16 columns,
// without masks, with the same bits.
//
//go:noescape
func atb6x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, skip, add int)

// dotPanel4F32AVX2 is the AVX2 packed mat-vec kernel of Packed32.MulV
// (mv32_amd64.s): one panel of 4 rows against x, with the bits of
// dot4x1StrideF32AVX2.
//
//go:noescape
func dotPanel4F32AVX2(kp int, panel *float32, x *float32, k int, y *float32)

// eulerF64AVX2 is EulerStep's kernel (elem64_amd64.s) for a length that is
// a multiple of 4.
//
//go:noescape
func eulerF64AVX2(next, x, d []float64, alpha float64)

// fluctF64AVX2 is FluctuationStep's kernel (elem64_amd64.s) for a length
// that is a multiple of 4; an empty d updates x̄ only.
//
//go:noescape
func fluctF64AVX2(d, xbar, next []float64, a, b float64)

// atb3x16AVX512 is the AVX-512 kernel of MulAtB (atb64_amd64.s): one
// block of p for the 3×16 tile of c, with MulABt's sums and order per
// entry.
//
//go:noescape
func atb3x16AVX512(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, cols, skip, add int)
