package sensitivity

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// SVD is the singular value decomposition G = U diag(σ) Vᵀ of an N×N matrix.
type SVD struct {
	N      int
	Values []float64 // σ₁ ≥ σ₂ ≥ … ≥ σ_N ≥ 0
	// U and V are N×N, row-major; column k (U[i*N+k], V[j*N+k]) is the k-th
	// left and right singular vector. Each pair (u_k, v_k) is signed so that
	// the entry of v_k of largest magnitude (the first such) is positive.
	U, V []float64
}

// Spectrum returns the singular value decomposition of g (n×n, row-major),
// e.g. of a sensitivity gradient G_S.
func Spectrum(g []float64, n int) (*SVD, error) {
	if n <= 0 || len(g) != n*n {
		return nil, fmt.Errorf("sensitivity: spectrum of a matrix with %d values as %d×%d: want n ≥ 1 and n² values", len(g), n, n)
	}
	for k, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("sensitivity: spectrum: entry %d is %v: the matrix must be finite", k, v)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(n, n, append([]float64(nil), g...)), mat.SVDFull) {
		return nil, errors.New("sensitivity: spectrum: the SVD did not converge")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	s := &SVD{N: n, Values: svd.Values(nil),
		U: append([]float64(nil), u.RawMatrix().Data...),
		V: append([]float64(nil), v.RawMatrix().Data...)}
	// u and v from gonum are n×n with stride n (freshly allocated).
	for k := range n {
		best, at := -1.0, 0
		for j := range n {
			if a := math.Abs(s.V[j*n+k]); a > best {
				best, at = a, j
			}
		}
		if s.V[at*n+k] < 0 {
			for j := range n {
				s.V[j*n+k] = -s.V[j*n+k]
				s.U[j*n+k] = -s.U[j*n+k]
			}
		}
	}
	return s, nil
}

// Left returns the k-th left singular vector u_k (k = 0 is the top one).
func (s *SVD) Left(k int) []float64 { return column(s.U, s.N, k) }

// Right returns the k-th right singular vector v_k (k = 0 is the top one).
func (s *SVD) Right(k int) []float64 { return column(s.V, s.N, k) }

// Direction returns the rank-one matrix u_k v_kᵀ (N×N, row-major, unit
// Frobenius norm): the k-th singular direction. Moving W along Direction(0)
// changes S fastest among rank-one moves, at rate σ₁.
func (s *SVD) Direction(k int) []float64 {
	n := s.N
	u, v := s.Left(k), s.Right(k)
	d := make([]float64, n*n)
	for i := range n {
		for j := range n {
			d[i*n+j] = u[i] * v[j]
		}
	}
	return d
}

func column(a []float64, n, k int) []float64 {
	c := make([]float64, n)
	for i := range n {
		c[i] = a[i*n+k]
	}
	return c
}

// Alignment returns the cosine ⟨G, ΔW⟩_F / (‖G‖_F ‖ΔW‖_F) between a
// sensitivity gradient g and a weight change dw (same size): +1 when learning
// moved W exactly up the gradient of S, 0 when the change is invisible to S to
// first order, −1 when it moved straight down. It is invariant to positive
// scalings of either argument. A zero matrix has no direction: that is an error.
func Alignment(g, dw []float64) (float64, error) {
	if len(g) != len(dw) {
		return 0, fmt.Errorf("sensitivity: alignment of matrices with %d and %d values: they must have the same size", len(g), len(dw))
	}
	var dot, gg, ww float64
	for i, a := range g {
		dot += a * dw[i]
		gg += a * a
		ww += dw[i] * dw[i]
	}
	if gg == 0 || ww == 0 {
		return 0, fmt.Errorf("sensitivity: alignment: ‖G‖² = %v, ‖ΔW‖² = %v: both matrices must be non-zero", gg, ww)
	}
	return dot / math.Sqrt(gg*ww), nil
}

// TopFraction returns the fraction of ‖ΔW‖²_F in the top-k singular subspace of
// G, ‖U_kᵀ ΔW V_k‖²_F / ‖ΔW‖²_F, where U_k and V_k hold the top k left and right
// singular vectors of G: the part of the weight change that maps the k inputs
// G is most sensitive to onto the k outputs it is most sensitive through. It
// is 1 for ΔW = G when G has rank ≤ k, and k²/N² on average for a random ΔW.
func (s *SVD) TopFraction(dw []float64, k int) (float64, error) {
	n := s.N
	if len(dw) != n*n {
		return 0, fmt.Errorf("sensitivity: top fraction of ΔW with %d values: want N² = %d", len(dw), n*n)
	}
	if k < 1 || k > n {
		return 0, fmt.Errorf("sensitivity: top fraction with k = %d: must be in [1, N = %d]", k, n)
	}
	var ww float64
	for _, v := range dw {
		ww += v * v
	}
	if ww == 0 {
		return 0, errors.New("sensitivity: top fraction of a zero ΔW: the weight change must be non-zero")
	}
	// P = U_kᵀ ΔW V_k (k×k).
	uk := mat.NewDense(n, n, s.U).Slice(0, n, 0, k)
	vk := mat.NewDense(n, n, s.V).Slice(0, n, 0, k)
	var tmp, p mat.Dense
	tmp.Mul(mat.NewDense(n, n, dw), vk)
	p.Mul(uk.T(), &tmp)
	f := mat.Norm(&p, 2)
	return f * f / ww, nil
}
