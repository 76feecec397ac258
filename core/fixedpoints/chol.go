package fixedpoints

import (
	"math"

	"rulescape/core/internal/kern"
)

// cholBlock is the block size of cholesky: the updates from earlier blocks
// run in kern.MulABt, the rest is scalar.
const cholBlock = 32

// cholesky overwrites the lower triangle of the n×n row-major matrix a with
// its Cholesky factor L (A = LLᵀ), reading only the lower triangle of A. It
// reports false, leaving a partly overwritten, when A is not positive
// definite. tmp needs (n+cholBlock)·cholBlock values.
//
// It is a left-looking blocked factorization: block column J is first
// updated by all earlier columns in one product, A[J:, J] −= L[J:, :J]·L[J, :J]ᵀ,
// then its diagonal block is factored and the panel below it is multiplied
// by the inverse of that block, so that almost all the work is in kern.
func cholesky(n int, a, tmp []float64) bool {
	for j0 := 0; j0 < n; j0 += cholBlock {
		j1 := min(j0+cholBlock, n)
		bj := j1 - j0
		m := n - j0 // rows j0…n−1
		if j0 > 0 {
			kern.MulABt(m, bj, j0, a[j0*n:], n, a[j0*n:], n, tmp, bj)
			for r := range m {
				row := a[(j0+r)*n+j0 : (j0+r)*n+j1]
				t := tmp[r*bj : (r+1)*bj]
				for c := range min(bj, r+1) {
					row[c] -= t[c]
				}
			}
		}
		// Factor the diagonal block.
		for r := j0; r < j1; r++ {
			row := a[r*n : (r+1)*n]
			for c := j0; c <= r; c++ {
				s := row[c]
				rs := row[j0:c]
				ls := a[c*n+j0 : c*n+c]
				ls = ls[:len(rs)]
				for p, v := range rs {
					s -= v * ls[p]
				}
				if r == c {
					if !(s > 0) || math.IsInf(s, 0) {
						return false
					}
					row[c] = math.Sqrt(s)
				} else {
					row[c] = s / a[c*n+c]
				}
			}
		}
		if j1 == n {
			break
		}
		// The panel below: L[j1:, J] = A[j1:, J]·L[J,J]⁻ᵀ, with the inverse of
		// the small diagonal block by forward substitution.
		inv := tmp[(n-j1)*bj:][:bj*bj]
		clear(inv)
		for k := range bj { // column k of L[J,J]⁻¹
			for r := k; r < bj; r++ {
				s := 0.0
				if r == k {
					s = 1
				}
				lr := a[(j0+r)*n+j0:]
				for p := k; p < r; p++ {
					s -= lr[p] * inv[p*bj+k]
				}
				inv[r*bj+k] = s / lr[r]
			}
		}
		mp := n - j1
		for r := range mp {
			copy(tmp[r*bj:(r+1)*bj], a[(j1+r)*n+j0:(j1+r)*n+j1])
		}
		kern.MulABt(mp, bj, bj, tmp, bj, inv, bj, a[j1*n+j0:], n)
	}
	return true
}

// cholSolve overwrites b with the solution of LLᵀx = b, L from cholesky.
func cholSolve(n int, l, b []float64) {
	for i := range n { // L z = b
		row := l[i*n : i*n+i]
		s := b[i]
		for p, v := range row {
			s -= v * b[p]
		}
		b[i] = s / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ x = z
		b[i] /= l[i*n+i]
		xi := b[i]
		for p, v := range l[i*n : i*n+i] {
			b[p] -= v * xi
		}
	}
}
