package fixedpoints

import (
	"math"
	"math/cmplx"

	"gonum.org/v1/gonum/mat"
)

// Measures of the linearized dynamics at a point (model specification §6;
// docs/ANALYSIS.md, "Fixed points"). They take the Jacobian J as an n×n
// row-major matrix and know nothing of networks, so that they can be
// checked against closed forms on any matrix.

// Henrici returns Henrici's departure from normality of the n×n row-major
// matrix j with eigenvalues eigs,
//
//	dep(J) = sqrt(‖J‖_F² − Σ_i |λ_i|²),
//
// and its normalized form dep(J)/‖J‖_F ∈ [0, 1]. dep is zero exactly when J
// is normal (JJᵀ = JᵀJ, e.g. symmetric) and equals the Frobenius norm of the
// strictly upper part of any Schur form of J. A difference that rounding
// makes slightly negative is reported as 0; rel is 0 for J = 0. Both are NaN
// when an eigenvalue is NaN.
func Henrici(n int, j []float64, eigs []complex128) (dep, rel float64) {
	fro := 0.0
	for _, v := range j[:n*n] {
		fro += v * v
	}
	ev := 0.0
	for _, l := range eigs {
		a := cmplx.Abs(l)
		ev += a * a
	}
	if math.IsNaN(ev) {
		return math.NaN(), math.NaN()
	}
	dep = math.Sqrt(max(fro-ev, 0))
	if fro == 0 {
		return dep, 0
	}
	return dep, dep / math.Sqrt(fro)
}

// Overlaps returns, for each vector v_i of vecs, the overlap of the real
// vector w with it,
//
//	|⟨w, v_i⟩| / (‖w‖ ‖v_i‖),   ⟨w, v⟩ = Σ_k w_k v_k,
//
// the absolute cosine of the angle between w and v_i for a real v_i. For a
// complex eigenvector v = a + ib it is sqrt((w·a)² + (w·b)²)/(‖w‖‖v‖), the
// same for v and its conjugate, so the two members of a complex pair get
// the same overlap. An overlap is NaN when w or v_i is zero or not finite.
func Overlaps(w []float64, vecs [][]complex128) []float64 {
	wn := 0.0
	for _, v := range w {
		wn += v * v
	}
	wn = math.Sqrt(wn)
	out := make([]float64, len(vecs))
	for i, v := range vecs {
		var dot complex128
		vn := 0.0
		for k, z := range v {
			dot += complex(w[k], 0) * z
			a := cmplx.Abs(z)
			vn += a * a
		}
		vn = math.Sqrt(vn)
		o := cmplx.Abs(dot) / (wn * vn)
		if wn == 0 || vn == 0 || math.IsInf(o, 0) {
			o = math.NaN()
		}
		out[i] = o
	}
	return out
}

// condMax is the condition number above which LinearResponse calls J
// singular (gonum's mat.ConditionTolerance).
const condMax = mat.ConditionTolerance

// LinearResponse returns R = (−J)⁻¹ B for the n×n row-major matrix j and
// the n×m row-major matrix b, as n×m row-major values: the displacement of
// a fixed point of dx/dt = F(x, u) per unit change of a constant input u,
// dx*/du = −J⁻¹ ∂F/∂u (implicit function theorem), where B = ∂F/∂u (W_in for
// the rate network). ok is false, and every value NaN, when J is singular
// to working precision (condition number above 1e16): the point then moves
// without bound, or not smoothly, with u.
func LinearResponse(n int, j []float64, m int, b []float64) (r []float64, ok bool) {
	r = make([]float64, n*m)
	if m == 0 {
		return r, true
	}
	nj := mat.NewDense(n, n, nil)
	for k, v := range j[:n*n] {
		nj.Set(k/n, k%n, -v)
	}
	var lu mat.LU
	lu.Factorize(nj)
	singular := !(lu.Cond() <= condMax)
	if !singular {
		// SolveTo reports a mat.Condition only above condMax, checked above.
		singular = lu.SolveTo(mat.NewDense(n, m, r), false, mat.NewDense(n, m, append([]float64(nil), b[:n*m]...))) != nil
	}
	if singular {
		for k := range r {
			r[k] = math.NaN()
		}
		return r, false
	}
	return r, true
}

// MapUnstable returns the number of unstable directions of the Euler map
// x ← x + α F(x) at a point whose Jacobian J of F has eigenvalues eigs: the
// map's Jacobian is I + αJ, with eigenvalues 1 + αλ, and a direction is
// unstable when |1 + αλ| > 1. Every eigenvalue with Re λ > 0 counts, and so
// does one with Re λ < 0 but |λ|² > −2 Re λ / α (a fast rotation that the
// step overshoots), so the count is at least the continuous-time index. It
// is −1 when α is not positive or an eigenvalue is NaN.
func MapUnstable(eigs []complex128, alpha float64) int {
	if !(alpha > 0) {
		return -1
	}
	k := 0
	for _, l := range eigs {
		if cmplx.IsNaN(l) {
			return -1
		}
		if cmplx.Abs(1+complex(alpha, 0)*l) > 1 {
			k++
		}
	}
	return k
}

// Completeness is the completeness estimate of a set of fixed points found
// from independent starts (docs/ANALYSIS.md, "Fixed points"): the starts
// are samples of the basins of attraction of the descent, each point's
// Count the number of samples that landed on it, and the Chao1 estimator
// of species richness estimates how many points the descent can reach.
type Completeness struct {
	// Starts is the number of plain (undeflated) descents.
	Starts int
	// Observed is the number of fixed points at least one plain descent
	// ended at (S_obs).
	Observed int
	// F1 and F2 are the numbers of those found by exactly one and exactly
	// two plain descents.
	F1, F2 int
	// Chao1 is S_obs + f1²/(2 f2) when f2 > 0 and the bias-corrected
	// S_obs + f1(f1 − 1)/2 when f2 = 0; it equals S_obs when no point was
	// found only once.
	Chao1 float64
	// Deflated is the number of fixed points only deflated searches found
	// (Count = 0); they are not samples and do not enter Chao1.
	Deflated int
}

// Chao1 returns the Chao1 estimate from the counts of the points found
// (zero counts are ignored): S_obs + f1²/(2 f2), or S_obs + f1(f1 − 1)/2
// when f2 = 0, with S_obs the number of non-zero counts and f1, f2 the
// numbers of counts equal to 1 and 2.
func Chao1(counts []int) (est float64, observed, f1, f2 int) {
	for _, c := range counts {
		switch {
		case c <= 0:
			continue
		case c == 1:
			f1++
		case c == 2:
			f2++
		}
		observed++
	}
	s, a, b := float64(observed), float64(f1), float64(f2)
	if f2 > 0 {
		return s + a*a/(2*b), observed, f1, f2
	}
	return s + a*(a-1)/2, observed, f1, f2
}

// Completeness returns the completeness estimate of the result's fixed
// points (slow points are not counted).
func (r *Result) Completeness() Completeness {
	counts := make([]int, len(r.Fixed))
	c := Completeness{Starts: r.Inits}
	for k, p := range r.Fixed {
		counts[k] = p.Count
		if p.Count == 0 {
			c.Deflated++
		}
	}
	c.Chao1, c.Observed, c.F1, c.F2 = Chao1(counts)
	return c
}
