package kern

// MulAtB overwrites the m×n block of c with AᵀB for float64 matrices A k×m
// (row stride lda ≥ m) and B k×n (row stride ldb ≥ n), row-major:
//
//	c[i*ldc+j] = Σ_{p<k} a[p*lda+i]·b[p*ldb+j],
//
// with the sums, and the bits, of MulABt on the transposes (the columns of
// A and B are MulABt's rows; see doc.go for the order). On AVX-512 CPUs it
// reads A and B as they are; elsewhere it transposes them into scratch and
// calls MulABt. It panics on bad shapes, as MulAtB32 does.
func MulAtB(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	checkAtB(m, n, k, a, lda, b, ldb, c, ldc)
	mulAtB(defaultImpl, false, m, n, k, a, lda, b, ldb, c, ldc)
}

// MulAtBAdd is MulAtB adding to c, with the bits of MulABtAdd on the
// transposes.
func MulAtBAdd(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	checkAtB(m, n, k, a, lda, b, ldb, c, ldc)
	mulAtB(defaultImpl, true, m, n, k, a, lda, b, ldb, c, ldc)
}

// AtBNative reports whether MulAtB reads A and B as they are (AVX-512). If
// not, it transposes them into scratch, and a caller that can form the
// transposes directly does better to call MulABt itself (the same bits).
func AtBNative() bool { return defaultImpl == implAVX512 }

func mulAtB(im impl, add bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if im != implAVX512 || m < 3 || k == 0 {
		at, bt := transpose(k, m, a, lda), transpose(k, n, b, ldb)
		mulABt(im, add, m, n, k, at, max(k, 1), bt, max(k, 1), c, ldc)
		return
	}
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		addBlock := 0
		if add || p0 > 0 {
			addBlock = 1
		}
		for j0 := 0; j0 < n; j0 += 16 {
			cols := min(16, n-j0)
			for i0 := 0; i0 < m; i0 += 3 {
				start := min(i0, m-3)
				atb3x16AVX512(kb, &a[p0*lda+start], lda, &b[p0*ldb+j0], ldb, &c[start*ldc+j0], ldc, cols, i0-start, addBlock)
			}
		}
	}
}

// transpose returns the k×m matrix a (row stride lda) as m×k.
func transpose(k, m int, a []float64, lda int) []float64 {
	t := make([]float64, m*k)
	for p := range k {
		for i, v := range a[p*lda : p*lda+m] {
			t[i*k+p] = v
		}
	}
	return t
}

// checkAtB is checkAtB32 for float64.
func checkAtB(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	checkAtBShapes(m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
}
