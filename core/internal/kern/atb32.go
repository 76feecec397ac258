package kern

import "fmt"

// atbTile returns the AᵀB kernel's tile under im: rows and columns of c
// per call.
func atbTile(im impl) (rows, cols int) {
	if im == implAVX512 {
		return 8, 32
	}
	return 4, 16
}

// kcAtB is MulAtB32's block of p: one block of a 32-column panel of B
// (16 KiB) stays in L1 while the tiles of c below it pass.
const kcAtB = 128

// MulAtB32 overwrites the m×n block of c with AᵀB:
//
//	c[i*ldc+j] = Σ_{p<k} a[p*lda+i]·b[p*ldb+j]   for i < m, j < n,
//
// for A k×m (row stride lda ≥ m) and B k×n (row stride ldb ≥ n), row-major:
// a sum over the rows of A and B, whose rows are read contiguously.
//
// Each entry sums the blocks p = 0…127, 128…255, … one term at a time in
// increasing p, from zero, and adds the block sums in increasing order, so
// its rounding error is at most (128 + k/128 + 1)·2⁻²⁴·Σ_p|a·b| rather than
// the k·2⁻²⁴ of one running sum. The assembly kernels (AVX-512, or AVX2
// with FMA) add each term with a fused multiply-add and give the same bits
// as each other for any tiling; the portable Go kernel (other CPUs) uses a
// multiply and an add, so it agrees with them to rounding. When k = 0 the
// block is set to zero. It panics on negative sizes, short strides or
// short slices.
func MulAtB32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkAtB32(m, n, k, a, lda, b, ldb, c, ldc)
	mulAtB32(defaultImpl, false, m, n, k, a, lda, b, ldb, c, ldc)
}

// MulAtB32Add is MulAtB32 adding to c: c += AᵀB, the block sums added to
// the old c in increasing order. A product split at multiples of 128 rows
// into MulAtB32 and MulAtB32Add calls gives the bits of one MulAtB32 call.
func MulAtB32Add(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkAtB32(m, n, k, a, lda, b, ldb, c, ldc)
	mulAtB32(defaultImpl, true, m, n, k, a, lda, b, ldb, c, ldc)
}

// mulAtB32 is MulAtB32 (add = false) or MulAtB32Add with the kernel kr,
// for arguments that passed checkAtB32.
func mulAtB32(kr impl, add bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !add {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if kr == implGo {
		atbGeneric(add, m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	th, tw := atbTile(kr)
	if m < th {
		// Too few rows for one tile: run it on copies padded with zero
		// columns (the same operations for every entry that is kept).
		pa := make([]float32, k*th)
		for p := range k {
			copy(pa[p*th:p*th+m], a[p*lda:p*lda+m])
		}
		pc := make([]float32, th*n)
		if add {
			for i := range m {
				copy(pc[i*n:(i+1)*n], c[i*ldc:i*ldc+n])
			}
		}
		mulAtB32(kr, add, th, n, k, pa, th, b, ldb, pc, n)
		for i := range m {
			copy(c[i*ldc:i*ldc+n], pc[i*n:(i+1)*n])
		}
		return
	}
	for p0 := 0; p0 < k; p0 += kcAtB {
		kb := min(kcAtB, k-p0)
		addBlock := 0
		if add || p0 > 0 {
			addBlock = 1
		}
		for j0 := 0; j0 < n; j0 += tw {
			cols := min(tw, n-j0)
			if kr == implAVX2 && cols == 16 && m >= 6 {
				// Whole panels of 16 columns: 6 rows per call, unmasked.
				for i0 := 0; i0 < m; i0 += 6 {
					start := min(i0, m-6)
					atb6x16F32AVX2(kb, &a[p0*lda+start], lda, &b[p0*ldb+j0], ldb, &c[start*ldc+j0], ldc, i0-start, addBlock)
				}
				continue
			}
			for i0 := 0; i0 < m; i0 += th {
				// The last tile ends at row m, overlapping the one before:
				// its first skip rows are computed but not stored.
				start := min(i0, m-th)
				skip := i0 - start
				ap, bp, cp := &a[p0*lda+start], &b[p0*ldb+j0], &c[start*ldc+j0]
				if kr == implAVX512 {
					atb8x32F32AVX512(kb, ap, lda, bp, ldb, cp, ldc, cols, skip, addBlock)
				} else {
					atb4x16F32AVX2(kb, ap, lda, bp, ldb, cp, ldc, cols, skip, addBlock)
				}
			}
		}
	}
}

// atbGeneric is the portable kernel: each block of p is accumulated row
// of A by row of A into a scratch row of c, so each entry is summed in the
// order of the assembly's.
func atbGeneric(add bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	s := make([]float32, n)
	for i := range m {
		ci := c[i*ldc : i*ldc+n]
		for p0 := 0; p0 < k; p0 += kcAtB {
			clear(s)
			for p := p0; p < min(p0+kcAtB, k); p++ {
				ai := a[p*lda+i]
				for j, bj := range b[p*ldb : p*ldb+n] {
					s[j] += ai * bj
				}
			}
			if p0 == 0 && !add {
				copy(ci, s)
			} else {
				for j, v := range s {
					ci[j] += v
				}
			}
		}
	}
}

// checkAtB32 panics, naming the argument, when the sizes, strides or
// slices of MulAtB32 do not fit.
func checkAtB32(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	checkAtBShapes(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
}

// checkAtBShapes is checkAtB32 on the slices' lengths.
func checkAtBShapes(m, n, k, la, lda, lb, ldb, lc, ldc int) {
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("kern: negative size m=%d n=%d k=%d", m, n, k))
	case lda < max(m, 1):
		panic(fmt.Sprintf("kern: lda=%d is less than m=%d; the row stride of A (k×m) must be at least m", lda, m))
	case ldb < max(n, 1):
		panic(fmt.Sprintf("kern: ldb=%d is less than n=%d; the row stride of B (k×n) must be at least n", ldb, n))
	case ldc < max(n, 1):
		panic(fmt.Sprintf("kern: ldc=%d is less than n=%d; the row stride of c must be at least n", ldc, n))
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	if l := need(k, m, lda); la < l {
		panic(fmt.Sprintf("kern: len(a)=%d is too short for a %d×%d matrix with stride %d (need %d)", la, k, m, lda, l))
	}
	if l := need(k, n, ldb); lb < l {
		panic(fmt.Sprintf("kern: len(b)=%d is too short for a %d×%d matrix with stride %d (need %d)", lb, k, n, ldb, l))
	}
	if l := need(m, n, ldc); lc < l {
		panic(fmt.Sprintf("kern: len(c)=%d is too short for a %d×%d matrix with stride %d (need %d)", lc, m, n, ldc, l))
	}
}
