package kern

import "fmt"

// MulAv overwrites y[:m] with the matrix-vector product A·x:
//
//	y[i] = Σ_{p<k} a[i*lda+p]·x[p]   for i < m,
//
// where A is m×k, row-major with row stride lda ≥ k. Each y[i] is summed in 4
// lanes as one k-block of MulABt (see doc.go), but over all k columns at
// once: for k ≤ 256 it equals MulABt(m, 1, k, a, lda, x, k, y, 1) bit for
// bit. It panics on negative sizes, a short stride or short slices.
func MulAv(m, k int, a []float64, lda int, x, y []float64) {
	checkMatVec(m, k, len(a), lda, len(x), len(y))
	mulAv(defaultImpl, m, k, a, lda, x, y)
}

// mulAv is MulAv with the implementation im, for arguments that passed its checks.
func mulAv(im impl, m, k int, a []float64, lda int, x, y []float64) {
	if k == 0 {
		clear(y[:m])
		return
	}
	x = x[:k]
	if im >= implAVX2 && m >= 8 {
		// Blocks of 8 rows read in place; the last block is rows m−8…m−1,
		// recomputing (to the same bits) any rows the block before wrote.
		// MulAv's checks make every row, x and y long enough.
		_, _ = a[(m-1)*lda+k-1], y[m-1]
		for i := 0; i < m; i += 8 {
			i0 := min(i, m-8)
			dot8x1StrideAVX2(k, &a[i0*lda], lda, &x[0], &y[i0])
		}
		return
	}
	mulAvRows(im, m, k, a, lda, x, y)
}

// mulAvRows is mulAv through impl.rows, 8 rows of A at a time, for k ≥ 1
// and len(x) == k.
func mulAvRows(im impl, m, k int, a []float64, lda int, x, y []float64) {
	var (
		rows [8][]float64
		out  [8]float64
	)
	for i := 0; i < m; i += len(rows) {
		n := min(len(rows), m-i)
		// Rows past m repeat row i; their results are discarded.
		for r := range rows {
			ii := i + min(r, n-1)
			rows[r] = a[ii*lda : ii*lda+k]
		}
		im.rows(k, &rows, x, &out)
		copy(y[i:i+n], out[:n])
	}
}

// checkMatVec panics, naming the argument, unless an m×k matrix of la
// values with row stride lda, and vectors x and y of lx and ly values, fit
// a product y = A·x (MulAv, MulAv32, Packed.Pack, Packed32.Pack).
func checkMatVec(m, k, la, lda, lx, ly int) {
	switch {
	case m < 0 || k < 0:
		panic(fmt.Sprintf("kern: negative size m=%d k=%d", m, k))
	case lda < max(k, 1):
		panic(fmt.Sprintf("kern: lda=%d is less than k=%d; the row stride of A must be at least k", lda, k))
	case m > 0 && k > 0 && la < (m-1)*lda+k:
		panic(fmt.Sprintf("kern: len(a)=%d is too short for a %d×%d matrix with stride %d (need %d)", la, m, k, lda, (m-1)*lda+k))
	case lx < k:
		panic(fmt.Sprintf("kern: len(x)=%d is less than k=%d", lx, k))
	case ly < m:
		panic(fmt.Sprintf("kern: len(y)=%d is less than m=%d", ly, m))
	}
}
