package kern

import "fmt"

// Float32 kernels.
//
// MulABt32 and Tanh32 are the float32 forms of MulABt and Tanh. MulABt32's
// summation order is that of the float64 kernel with 8 lanes instead of
// 4: the columns p = 0…k−1 are split into blocks of kc32 = 512 (the same
// bytes as the 256 doubles of a float64 block); within a block of length
// kb, lane l ∈ {0…7} sums the terms with p ≡ l (mod 8) in increasing p, the
// last kb mod 8 terms going to lanes 0…6 in order; the block's sum is
// ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)), and c_ij accumulates the block
// sums in increasing block order. Sums are kept in float32 throughout.
//
// MulAv32 (and Packed32), MulAtB32 and the element-wise kernels have
// orders of their own, given with them, chosen so that their AVX2 and
// AVX-512 kernels give the same bits: a cluster that mixes the two kinds
// of CPU computes one result.
//
// The assembly kernels add each product with a fused multiply-add, the
// portable Go kernels with a multiply and an add, so the two agree to
// rounding (of order 1e-7 relative to Σ_p |a_ip·b_jp|) and each is
// bit-reproducible on its own.

// kc32 is the k-block length of MulABt32, in floats.
const kc32 = 512

// tile32 is impl.tile for float32.
func (im impl) tile32(k int, a0, a1, a2, b0, b1, b2, b3 []float32, out *[12]float32) {
	if im >= implAVX2 {
		tile32AVX2(k, a0, a1, a2, b0, b1, b2, b3, out)
		return
	}
	tile32Generic(k, a0, a1, a2, b0, b1, b2, b3, out)
}

// MulABt32 is MulABt for float32 matrices: it overwrites the m×n block of
// c with A·Bᵀ, c[i*ldc+j] = Σ_{p<k} a[i*lda+p]·b[j*ldb+p]. It panics on
// negative sizes, short strides or slices too short for the shapes.
func MulABt32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	check32(m, n, k, a, lda, b, ldb, c, ldc)
	mulABt32(defaultImpl, m, n, k, a, lda, b, ldb, c, ldc)
}

// mulABt32 is MulABt32 with the implementation im, for arguments that
// passed check32; the loops are those of mulABt.
func mulABt32(im impl, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	var out [mr * nr]float32
	for p0 := 0; p0 < k; p0 += kc32 {
		kb := min(kc32, k-p0)
		overwrite := p0 == 0
		for i := 0; i < m; i += mr {
			rows := min(mr, m-i)
			var ar [mr][]float32
			for r := range ar {
				ii := i + min(r, rows-1)
				ar[r] = a[ii*lda+p0 : ii*lda+p0+kb]
			}
			for j := 0; j < n; j += nr {
				cols := min(nr, n-j)
				var br [nr][]float32
				for s := range br {
					jj := j + min(s, cols-1)
					br[s] = b[jj*ldb+p0 : jj*ldb+p0+kb]
				}
				im.tile32(kb, ar[0], ar[1], ar[2], br[0], br[1], br[2], br[3], &out)
				for r := range rows {
					ci := c[(i+r)*ldc+j : (i+r)*ldc+j+cols]
					o := out[r*nr : r*nr+cols]
					if overwrite {
						copy(ci, o)
					} else {
						for s, v := range o {
							ci[s] += v
						}
					}
				}
			}
		}
	}
}

// check32 is check for float32 slices.
func check32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("kern: negative size m=%d n=%d k=%d", m, n, k))
	case lda < max(k, 1):
		panic(fmt.Sprintf("kern: lda=%d is less than k=%d; the row stride of A must be at least k", lda, k))
	case ldb < max(k, 1):
		panic(fmt.Sprintf("kern: ldb=%d is less than k=%d; the row stride of B must be at least k", ldb, k))
	case ldc < max(n, 1):
		panic(fmt.Sprintf("kern: ldc=%d is less than n=%d; the row stride of c must be at least n", ldc, n))
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	if l := need(m, k, lda); len(a) < l {
		panic(fmt.Sprintf("kern: len(a)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(a), m, k, lda, l))
	}
	if l := need(n, k, ldb); len(b) < l {
		panic(fmt.Sprintf("kern: len(b)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(b), n, k, ldb, l))
	}
	if l := need(m, n, ldc); len(c) < l {
		panic(fmt.Sprintf("kern: len(c)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(c), m, n, ldc, l))
	}
}

// MulAv32 is MulAv for float32: it overwrites y[:m] with A·x, A m×k
// row-major with row stride lda ≥ k. Its order is its own (not MulAv's
// with 8 lanes): each y_i is summed in 16 lanes, lane l holding the terms
// p ≡ l (mod 16) in increasing p, and the lanes are reduced by halving,
// s_i ← s_i + s_{i+8}, then + s_{i+4}, + s_{i+2}, + s_{i+1}. The AVX-512
// and AVX2 kernels add each term with a fused multiply-add and give the
// same bits; the portable kernel (other CPUs, and fewer than 4 rows) uses
// a multiply and an add. It panics on negative sizes, a short stride or
// short slices.
func MulAv32(m, k int, a []float32, lda int, x, y []float32) {
	checkMatVec(m, k, len(a), lda, len(x), len(y))
	mulAv32(defaultImpl, m, k, a, lda, x, y)
}

// mulAv32 is MulAv32 with the kernels kr. The assembly takes blocks of 8
// (AVX-512) or 4 (AVX2) rows in place, the last block ending at row m−1
// (recomputing, to the same bits, rows the block before wrote).
func mulAv32(kr impl, m, k int, a []float32, lda int, x, y []float32) {
	if k == 0 {
		clear(y[:m])
		return
	}
	x = x[:k]
	if kr == implAVX512 && m < 8 {
		kr = implAVX2
	}
	if kr != implGo && m >= 4 {
		_, _ = a[(m-1)*lda+k-1], y[m-1]
		rows := 4
		if kr == implAVX512 {
			rows = 8
		}
		for i := 0; i < m; i += rows {
			i0 := min(i, m-rows)
			if kr == implAVX512 {
				dot8x1StrideF32AVX512(k, &a[i0*lda], lda, &x[0], &y[i0])
			} else {
				dot4x1StrideF32AVX2(k, &a[i0*lda], lda, &x[0], &y[i0])
			}
		}
		return
	}
	for i := range m {
		y[i] = dot16f32(a[i*lda:i*lda+k], x)
	}
}

// dot16f32 returns Σ a[p]·x[p] (len(x) ≥ len(a)) in float32 in the order
// of MulAv32, with a multiply and an add per term.
func dot16f32(a, x []float32) float32 {
	x = x[:len(a)]
	var l [16]float32
	p := 0
	for ; p+16 <= len(a); p += 16 {
		aa, xx := a[p:p+16:p+16], x[p:p+16:p+16]
		l[0] += aa[0] * xx[0]
		l[1] += aa[1] * xx[1]
		l[2] += aa[2] * xx[2]
		l[3] += aa[3] * xx[3]
		l[4] += aa[4] * xx[4]
		l[5] += aa[5] * xx[5]
		l[6] += aa[6] * xx[6]
		l[7] += aa[7] * xx[7]
		l[8] += aa[8] * xx[8]
		l[9] += aa[9] * xx[9]
		l[10] += aa[10] * xx[10]
		l[11] += aa[11] * xx[11]
		l[12] += aa[12] * xx[12]
		l[13] += aa[13] * xx[13]
		l[14] += aa[14] * xx[14]
		l[15] += aa[15] * xx[15]
	}
	for q := 0; p+q < len(a); q++ {
		l[q] += a[p+q] * x[p+q]
	}
	for h := 8; h >= 1; h /= 2 {
		for i := range h {
			l[i] += l[i+h]
		}
	}
	return l[0]
}

// Tanh32 sets dst[i] = tanh(src[i]) for i < len(src), in float32: each
// value is Tanh of the value converted to float64, rounded back to float32,
// so it is the same on every machine and within 1 ulp (of float32) of the
// exact tanh (TestTanh32). dst may be src itself but must not otherwise
// overlap it. It panics if dst is shorter than src.
//
// The conversion was chosen over a float32 polynomial because it inherits
// Tanh's tested accuracy and special values; the AVX2 kernel converts in
// registers, so a value costs what it costs in Tanh.
func Tanh32(dst, src []float32) {
	if len(dst) < len(src) {
		panic(fmt.Sprintf("kern: len(dst)=%d is less than len(src)=%d", len(dst), len(src)))
	}
	tanh32(defaultImpl, dst[:len(src)], src)
}

// tanh32 is Tanh32 with the implementation im. The assembly widens 8
// (AVX-512) or 4 floats at a time to doubles and rounds the result back,
// in registers (a 1–3 value tail is padded into one more vector); the
// portable code does the same through a buffer on the stack.
func tanh32(im impl, dst, src []float32) {
	if im == implAVX512 {
		n8 := len(src) &^ 7
		if n8 > 0 {
			tanhF32AVX512(dst[:n8], src[:n8])
		}
		dst, src = dst[n8:], src[n8:]
	}
	if im >= implAVX2 {
		n4 := len(src) &^ 3
		if n4 > 0 {
			tanhF32AVX2(dst[:n4], src[:n4])
		}
		if r := len(src) - n4; r > 0 {
			var buf [4]float32
			copy(buf[:], src[n4:])
			tanhF32AVX2(buf[:], buf[:])
			copy(dst[n4:len(src)], buf[:r])
		}
		return
	}
	var buf [256]float64
	for i0 := 0; i0 < len(src); i0 += len(buf) {
		s := src[i0:min(i0+len(buf), len(src))]
		b := buf[:len(s)]
		for i, v := range s {
			b[i] = float64(v)
		}
		tanhSlice(im, b, b)
		d := dst[i0 : i0+len(s)]
		for i, v := range b {
			d[i] = float32(v)
		}
	}
}
