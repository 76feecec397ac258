package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/stats"
)

// CompareAll returns the matrix of Compare(rdms[i], rdms[j], m) over all
// pairs (1 on the diagonal; for KendallTauA an RDM with ties has a smaller
// diagonal, its τ_a with itself), evaluated on workers goroutines (0 means
// GOMAXPROCS). Each RDM is prepared once (ranked and standardised, or, for
// Kendall's τ_a, reduced to the signs of its entry differences), so this is
// much faster than calling Compare on every pair.
func CompareAll(rdms [][]float64, m Method, workers int) (*mat.SymDense, error) {
	if len(rdms) == 0 {
		return nil, fmt.Errorf("rsa: no RDMs to compare")
	}
	n := len(rdms[0])
	for k, r := range rdms {
		if len(r) != n {
			return nil, fmt.Errorf("rsa: RDM %d has %d entries, RDM 0 has %d: compare RDMs over the same stimuli", k, len(r), n)
		}
	}
	if n < 2 {
		return nil, fmt.Errorf("rsa: RDMs have %d entries: comparison needs at least 2 (3 stimuli)", n)
	}
	if m == KendallTauA {
		signs := make([][]int8, len(rdms))
		for k, r := range rdms {
			s := make([]int8, 0, n*(n-1)/2)
			for i := range n {
				for j := i + 1; j < n; j++ {
					s = append(s, int8(stats.Sign(r[j]-r[i])))
				}
			}
			signs[k] = s
		}
		pairs := float64(n * (n - 1) / 2)
		return SimilarityMatrix(signs, func(a, b []int8) (float64, error) {
			t := 0
			for i, v := range a {
				t += int(v) * int(b[i])
			}
			return float64(t) / pairs, nil
		}, workers)
	}
	unit := make([][]float64, len(rdms))
	for k, r := range rdms {
		switch m {
		case Spearman:
			r = Ranks(r)
		case Pearson, Cosine:
		default:
			return nil, fmt.Errorf("rsa: unknown comparison method %v: use Spearman, KendallTauA, Pearson or Cosine", m)
		}
		unit[k] = make([]float64, n)
		if ss := unitNorm(unit[k], r, m != Cosine); ss == 0 || math.IsNaN(ss) || math.IsInf(ss, 0) {
			return nil, fmt.Errorf("rsa: RDM %d has no variance (or is zero, or not finite): %v similarity is undefined", k, m)
		}
	}
	return SimilarityMatrix(unit, func(a, b []float64) (float64, error) {
		s := 0.0
		for i, x := range a {
			s += x * b[i]
		}
		return s, nil
	}, workers)
}

// LinearCKAAll returns the matrix of LinearCKA over all pairs of xs,
// computing each centered Gram matrix once.
func LinearCKAAll(xs []mat.Matrix, workers int) (*mat.SymDense, error) {
	grams, err := allGrams(xs)
	if err != nil {
		return nil, err
	}
	for k, g := range grams {
		nrm := math.Sqrt(frob(g, g))
		if nrm == 0 {
			return nil, fmt.Errorf("rsa: response matrix %d has no variance across samples: CKA is undefined", k)
		}
		g.ScaleSym(1/nrm, g)
	}
	return SimilarityMatrix(grams, func(a, b *mat.SymDense) (float64, error) { return frob(a, b), nil }, workers)
}

// ProcrustesAll returns the matrix of ProcrustesDistance (or, when angular,
// ProcrustesAngle) over all pairs of xs, factorizing each response matrix
// once.
func ProcrustesAll(xs []mat.Matrix, angular bool, workers int) (*mat.SymDense, error) {
	grams, err := allGrams(xs)
	if err != nil {
		return nil, err
	}
	factors := make([]*mat.Dense, len(grams))
	for k, g := range grams {
		if factors[k], err = sampleFactor(g, fmt.Sprintf("response matrix %d", k)); err != nil {
			return nil, err
		}
	}
	return SimilarityMatrix(factors, func(a, b *mat.Dense) (float64, error) {
		nu, err := nuclear(a, b)
		if err != nil {
			return 0, err
		}
		if angular {
			return math.Acos(nu), nil
		}
		return math.Sqrt(max(2-2*nu, 0)), nil
	}, workers)
}

func allGrams(xs []mat.Matrix) ([]*mat.SymDense, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("rsa: no response matrices")
	}
	r0, _ := xs[0].Dims()
	grams := make([]*mat.SymDense, len(xs))
	for k, x := range xs {
		if r, _ := x.Dims(); r != r0 {
			return nil, fmt.Errorf("rsa: response matrix %d has %d samples, matrix 0 has %d: rows must be the same stimuli", k, r, r0)
		}
		var err error
		if grams[k], err = centeredGram(x, fmt.Sprintf("response matrix %d", k)); err != nil {
			return nil, err
		}
	}
	return grams, nil
}
