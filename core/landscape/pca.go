package landscape

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// PCA is the principal component analysis of a set of states.
type PCA struct {
	Mean []float64 // N values: the mean state
	// Axes holds the top principal axes, each a unit vector of N values,
	// by decreasing variance, signed so their largest-magnitude entry is
	// positive.
	Axes [][]float64
	// Variance holds the variance along each axis (eigenvalues of the
	// covariance with denominator samples − 1).
	Variance []float64
	// Explained holds each axis's fraction of the total variance (0 when
	// the states do not vary).
	Explained []float64
}

// FitPCA computes the top k principal axes of states (rows of n values).
// k is capped at min(n, len(states)). It needs at least two states.
func FitPCA(states [][]float64, n, k int) (*PCA, error) {
	if n < 1 || k < 1 {
		return nil, fmt.Errorf("landscape: PCA of %d units with %d axes: need at least one of each", n, k)
	}
	if len(states) < 2 {
		return nil, fmt.Errorf("landscape: PCA of %d states: need at least 2 — pass the trajectory states", len(states))
	}
	mean := make([]float64, n)
	for i, s := range states {
		if len(s) != n {
			return nil, fmt.Errorf("landscape: state %d has %d values, want %d", i, len(s), n)
		}
		for j, v := range s {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(states))
	}
	c := mat.NewDense(len(states), n, nil)
	for i, s := range states {
		row := c.RawRowView(i)
		for j, v := range s {
			row[j] = v - mean[j]
		}
	}
	var svd mat.SVD
	if !svd.Factorize(c, mat.SVDThin) {
		return nil, errors.New("landscape: PCA: the singular value decomposition did not converge")
	}
	sv := svd.Values(nil)
	var v mat.Dense
	svd.VTo(&v)
	k = min(k, len(sv))
	denom := float64(len(states) - 1)
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
