package stats

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// PCA is the principal component analysis of a set of points in R^n.
type PCA struct {
	Mean []float64 // n values: the mean point
	// Axes holds the top principal axes, each a unit vector of n values,
	// by decreasing variance, signed so that its largest-magnitude entry is
	// positive (the first such entry on a tie), which makes the axes — and
	// every projection — unique.
	Axes [][]float64
	// Variance holds the variance along each axis (eigenvalues of the
	// covariance with denominator points − 1).
	Variance []float64
	// Explained holds each axis's fraction of the total variance, the
	// variance of all the axes, not only the kept ones (0 when the points
	// do not vary).
	Explained []float64
}

// FitPCA computes the top k principal axes of points (rows of n values
// each) from the thin SVD of the centred points, X_c = U Σ Vᵀ: the axes are
// the columns of V, the variances σ²/(points − 1). k is capped at
// min(n, points). It needs at least two points.
func FitPCA(points [][]float64, k int) (*PCA, error) {
	if len(points) < 2 {
		return nil, fmt.Errorf("stats: PCA of %d points: need at least 2", len(points))
	}
	n := len(points[0])
	if n < 1 || k < 1 {
		return nil, fmt.Errorf("stats: PCA of %d coordinates with %d axes: need at least one of each", n, k)
	}
	mean := make([]float64, n)
	for i, x := range points {
		if len(x) != n {
			return nil, fmt.Errorf("stats: PCA: point %d has %d coordinates, point 0 has %d", i, len(x), n)
		}
		for j, v := range x {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(points))
	}
	c := mat.NewDense(len(points), n, nil)
	for i, x := range points {
		row := c.RawRowView(i)
		for j, v := range x {
			row[j] = v - mean[j]
		}
	}
	var svd mat.SVD
	if !svd.Factorize(c, mat.SVDThin) {
		return nil, errors.New("stats: PCA: the singular value decomposition did not converge")
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	k = min(k, len(sv))
	denom := float64(len(points) - 1)
	total := 0.0
	for _, s := range sv {
		total += s * s / denom
	}
	p := &PCA{Mean: mean}
	for a := range k {
		axis := make([]float64, n)
		big := 0
		for j := range n {
			axis[j] = v.At(j, a)
			if math.Abs(axis[j]) > math.Abs(axis[big]) {
				big = j
			}
		}
		if axis[big] < 0 {
			for j := range axis {
				axis[j] = -axis[j]
			}
		}
		variance := sv[a] * sv[a] / denom
		frac := 0.0
		if total > 0 {
			frac = variance / total
		}
		p.Axes = append(p.Axes, axis)
		p.Variance = append(p.Variance, variance)
		p.Explained = append(p.Explained, frac)
	}
	return p, nil
}

// Project returns the coordinates of x on the axes: (x − Mean)·axis.
func (p *PCA) Project(x []float64) []float64 {
	out := make([]float64, len(p.Axes))
	for a, axis := range p.Axes {
		s := 0.0
		for j, v := range axis {
			s += (x[j] - p.Mean[j]) * v
		}
		out[a] = s
	}
	return out
}
