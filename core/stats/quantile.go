package stats

import (
	"math"
	"slices"
)

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of the non-NaN values of xs
// by linear interpolation between order statistics — Hyndman & Fan's
// type 7, the default of R's quantile, numpy.quantile and pandas: with the
// n values sorted ascending (x_0 … x_{n−1}), h = (n−1)p and
//
//	Q(p) = x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋).
//
// p outside [0, 1] is taken as the nearer end. It is NaN when p is NaN or
// xs has no non-NaN value. xs is not modified.
func Quantile(xs []float64, p float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	p = min(max(p, 0), 1)
	slices.Sort(v)
	h := float64(len(v)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	if h == float64(lo) {
		return v[lo] // exactly an order statistic: no interpolation towards a neighbour that may be ±Inf
	}
	return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
}
