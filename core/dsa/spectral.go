package dsa

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Spectral is the 1-Wasserstein distance between the eigenvalue sets of
// two operators of the same rank (package comment).
func Spectral(a, b *Operator) (float64, error) {
	if a == nil || b == nil {
		return 0, fmt.Errorf("dsa: nil operator")
	}
	return SpectralSets(a.Eigen, b.Eigen)
}

// SpectralSets is the 1-Wasserstein distance between two equal-size
// multisets of complex numbers as uniform measures: the minimum over
// one-to-one matchings of the mean |x_i − y_π(i)|, solved exactly.
func SpectralSets(x, y []complex128) (float64, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		return 0, fmt.Errorf("dsa: eigenvalue sets of %d and %d values: compare non-empty sets of one size (operators of one rank)", len(x), len(y))
	}
	cost := make([]float64, n*n)
	for i, u := range x {
		for j, v := range y {
			d := cmplx.Abs(u - v)
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return 0, fmt.Errorf("dsa: eigenvalue %v or %v is not finite", u, v)
			}
			cost[i*n+j] = d
		}
	}
	match := hungarian(cost, n)
	s := 0.0
	for i, j := range match {
		s += cost[i*n+j]
	}
	return s / float64(n), nil
}

// hungarian returns a minimum-cost perfect matching of the n × n cost
// matrix (row i to column match[i]) by the O(n³) shortest augmenting path
// form of the Hungarian algorithm with row and column potentials.
func hungarian(cost []float64, n int) []int {
	inf := math.Inf(1)
	// 1-based arrays as in the classical formulation; column 0 is virtual.
	u := make([]float64, n+1)
	v := make([]float64, n+1)
	p := make([]int, n+1) // p[j]: row matched to column j
	way := make([]int, n+1)
	minv := make([]float64, n+1)
	used := make([]bool, n+1)
	for i := 1; i <= n; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = inf
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], inf, 0
			for j := 1; j <= n; j++ {
				if used[j] {
					continue
				}
				cur := cost[(i0-1)*n+j-1] - u[i0] - v[j]
				if cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= n; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	match := make([]int, n)
	for j := 1; j <= n; j++ {
		match[p[j]-1] = j - 1
	}
	return match
}
