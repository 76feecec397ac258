package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Metric selects the dissimilarity measure of RDM.
type Metric int

const (
	// Correlation is 1 − Pearson r between two response patterns across units
	// (the default of docs/MODEL.md §6). It ranges over [0, 2].
	Correlation Metric = iota
	// SqEuclideanPerUnit is ‖a − b‖²/N for N units.
	SqEuclideanPerUnit
)

// String returns the metric's name.
func (m Metric) String() string {
	switch m {
	case Correlation:
		return "correlation"
	case SqEuclideanPerUnit:
		return "sqeuclidean"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// Pairs returns the length n(n−1)/2 of a condensed RDM over n stimuli.
func Pairs(n int) int { return n * (n - 1) / 2 }

// PairIndex returns the position of the pair (i, j), i ≠ j, in a condensed
// RDM over n stimuli: pairs are ordered (0,1), (0,2), …, (0,n−1), (1,2), …
func PairIndex(n, i, j int) int {
	if i > j {
		i, j = j, i
	}
	return i*n - i*(i+1)/2 + j - i - 1
}

// Square expands a condensed RDM over n stimuli into the full symmetric
// matrix with a zero diagonal.
func Square(condensed []float64, n int) (*mat.SymDense, error) {
	if len(condensed) != Pairs(n) {
		return nil, fmt.Errorf("rsa: condensed RDM has %d entries, %d stimuli need %d", len(condensed), n, Pairs(n))
	}
	s := mat.NewSymDense(n, nil)
	k := 0
	for i := range n {
		for j := i + 1; j < n; j++ {
			s.SetSym(i, j, condensed[k])
			k++
		}
	}
	return s, nil
}

// RDM returns the condensed representational dissimilarity matrix of resp:
// the upper triangle, row by row (see PairIndex), of the dissimilarities
// between all pairs of stimuli (rows of resp) under metric m.
//
// Correlation distance is undefined for a pattern that is constant across
// units; RDM reports the stimulus instead of returning NaN.
func RDM(resp *Responses, m Metric) ([]float64, error) {
	if err := resp.check("responses"); err != nil {
		return nil, err
	}
	n, units := resp.Stimuli(), resp.Units
	out := make([]float64, 0, Pairs(n))
	switch m {
	case Correlation:
		// z-score every row once; then 1 − r = 1 − ⟨z_i, z_j⟩/N.
		z := make([]float64, len(resp.Data))
		for s := range n {
			if ss := unitNorm(z[s*units:(s+1)*units], resp.Row(s), true); ss == 0 || math.IsNaN(ss) {
				return nil, fmt.Errorf("rsa: stimulus %d (condition %d, bin %d) is constant across units or not finite: correlation distance is undefined; use SqEuclideanPerUnit",
					s, resp.Conditions[s/resp.Bins], s%resp.Bins)
			}
		}
		for i := range n {
			zi := z[i*units : (i+1)*units]
			for j := i + 1; j < n; j++ {
				zj := z[j*units : (j+1)*units]
				r := 0.0
				for u := range zi {
					r += zi[u] * zj[u]
				}
				out = append(out, 1-r)
			}
		}
	case SqEuclideanPerUnit:
		for i := range n {
			a := resp.Row(i)
			for j := i + 1; j < n; j++ {
				b := resp.Row(j)
				d := 0.0
				for u := range a {
					e := a[u] - b[u]
					d += e * e
				}
				out = append(out, d/float64(units))
			}
		}
	default:
		return nil, fmt.Errorf("rsa: unknown metric %v: use Correlation or SqEuclideanPerUnit (CrossnobisRDM for cross-validated distances)", m)
	}
	return out, nil
}

// unitNorm sets dst to src — minus its mean when centre — scaled to unit
// Euclidean norm, and returns the sum of squares before the scaling (when
// it is 0, NaN or infinite, dst is meaningless). Correlation distance and
// the Pearson and Spearman comparisons of CompareAll are dot products of
// such vectors. The sums are sequential loops, not gonum's floats.Sum,
// whose rounding depends on the slices' 16-byte alignment: the datasets'
// numbers must not.
func unitNorm(dst, src []float64, centre bool) float64 {
	mean := 0.0
	if centre {
		for _, v := range src {
			mean += v
		}
		mean /= float64(len(src))
	}
	ss := 0.0
	for i, v := range src {
		dst[i] = v - mean
		ss += dst[i] * dst[i]
	}
	inv := 1 / math.Sqrt(ss)
	for i := range dst {
		dst[i] *= inv
	}
	return ss
}

// CrossnobisRDM returns the condensed cross-validated Mahalanobis RDM
// ("crossnobis") from K ≥ 2 folds of responses averaged over disjoint trials
// (ConditionAverageFolds):
//
//	d(i, j) = 1/(K(K−1)) Σ_{k≠l} (a_i^k − a_j^k)ᵀ P (a_i^l − a_j^l) / N,
//
// where P is the noise precision (NoisePrecision) or, when precision is nil,
// the identity, which makes d the cross-validated squared Euclidean distance
// per unit. Because the noise of different folds is independent, d is an
// unbiased estimate of (μ_i − μ_j)ᵀ P (μ_i − μ_j)/N for the true means μ, and
// is 0 on average (it can be negative) when two stimuli do not differ.
func CrossnobisRDM(folds []*Responses, precision mat.Symmetric) ([]float64, error) {
	if len(folds) < 2 {
		return nil, fmt.Errorf("rsa: %d folds: cross-validation needs at least 2", len(folds))
	}
	for k, f := range folds {
		if err := f.check(fmt.Sprintf("fold %d", k)); err != nil {
			return nil, err
		}
		if f.Stimuli() != folds[0].Stimuli() || f.Units != folds[0].Units {
			return nil, fmt.Errorf("rsa: fold %d is %d×%d, fold 0 is %d×%d: all folds must have the same shape",
				k, f.Stimuli(), f.Units, folds[0].Stimuli(), folds[0].Units)
		}
	}
	n, units, nf := folds[0].Stimuli(), folds[0].Units, len(folds)
	if precision != nil && precision.SymmetricDim() != units {
		return nil, fmt.Errorf("rsa: precision is %d×%d, want units × units = %d×%d",
			precision.SymmetricDim(), precision.SymmetricDim(), units, units)
	}
	quad := func(x []float64) float64 {
		if precision == nil {
			return mat.Dot(mat.NewVecDense(len(x), x), mat.NewVecDense(len(x), x))
		}
		v := mat.NewVecDense(len(x), x)
		return mat.Inner(v, precision, v)
	}
	out := make([]float64, 0, Pairs(n))
	diff := make([]float64, units)
	sum := make([]float64, units)
	for i := range n {
		for j := i + 1; j < n; j++ {
			// Σ_{k≠l} d_kᵀ P d_l = (Σ d_k)ᵀ P (Σ d_k) − Σ d_kᵀ P d_k.
			clear(sum)
			self := 0.0
			for _, f := range folds {
				a, b := f.Row(i), f.Row(j)
				for u := range diff {
					diff[u] = a[u] - b[u]
					sum[u] += diff[u]
				}
				self += quad(diff)
			}
			out = append(out, (quad(sum)-self)/float64(nf*(nf-1)*units))
		}
	}
	return out, nil
}

// NoisePrecision estimates the noise precision for CrossnobisRDM from
// single trials (arguments as for ConditionAverage). The residuals of every
// trial's binned pattern from its condition-and-bin mean give the noise
// covariance Σ̂ (divided by trials·bins − conditions·bins degrees of freedom);
// it is shrunk towards a scaled identity,
//
//	Σ = (1 − λ) Σ̂ + λ (tr Σ̂ / N) I,    0 < λ ≤ 1,
//
// which is invertible for any λ > 0 even when there are fewer residuals
// than units, and the inverse Σ⁻¹ is returned. λ = shrinkage is set by the
// caller (no data-driven choice such as Ledoit–Wolf is made here); λ = 1
// gives the identity scaled by N / tr Σ̂.
func NoisePrecision(states [][]float64, conditions []int, units, bin int, shrinkage float64) (*mat.SymDense, error) {
	if !(shrinkage > 0 && shrinkage <= 1) {
		return nil, fmt.Errorf("rsa: shrinkage = %v: must be in (0, 1]", shrinkage)
	}
	mean, err := ConditionAverage(states, conditions, units, bin)
	if err != nil {
		return nil, err
	}
	index := make(map[int]int, len(mean.Conditions))
	for i, c := range mean.Conditions {
		index[c] = i
	}
	bins := mean.Bins
	dof := len(states)*bins - mean.Stimuli()
	if dof <= 0 {
		return nil, fmt.Errorf("rsa: %d trials of %d conditions leave no residual degrees of freedom: add repeats", len(states), len(mean.Conditions))
	}
	cov := mat.NewSymDense(units, nil)
	res := make([]float64, units)
	rv := mat.NewVecDense(units, res)
	for i, s := range states {
		c := index[conditions[i]]
		for b := range bins {
			m := mean.Row(c*bins + b)
			clear(res)
			for t := b * bin; t < (b+1)*bin; t++ {
				for u, v := range s[t*units : (t+1)*units] {
					res[u] += v
				}
			}
			for u := range res {
				res[u] = res[u]/float64(bin) - m[u]
			}
			cov.SymRankOne(cov, 1, rv)
		}
	}
	cov.ScaleSym(1/float64(dof), cov)
	tr := 0.0
	for u := range units {
		tr += cov.At(u, u)
	}
	if tr == 0 {
		return nil, fmt.Errorf("rsa: the trials have no noise (all residuals are zero): use CrossnobisRDM with a nil precision")
	}
	cov.ScaleSym(1-shrinkage, cov)
	for u := range units {
		cov.SetSym(u, u, cov.At(u, u)+shrinkage*tr/float64(units))
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return nil, fmt.Errorf("rsa: shrunk noise covariance is not positive definite: increase shrinkage")
	}
	prec := mat.NewSymDense(units, nil)
	if err := chol.InverseTo(prec); err != nil {
		return nil, fmt.Errorf("rsa: inverting the noise covariance: %w", err)
	}
	return prec, nil
}
