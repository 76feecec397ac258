package dsa

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Optimizer sets the search over orthogonal matrices of Distance.
type Optimizer struct {
	// Restarts is the number of starts (≥ 1): identity, reflection,
	// three eigenvector alignments, then Haar-random orthogonal matrices.
	Restarts int
	// Iterations bounds the gradient steps per start (≥ 1).
	Iterations int
	// Seed seeds the PCG generator of the random starts.
	Seed uint64
}

// DefaultOptimizer is 16 starts of at most 500 steps, seed 1.
func DefaultOptimizer() Optimizer { return Optimizer{Restarts: 16, Iterations: 500, Seed: 1} }

// Validate checks o.
func (o Optimizer) Validate() error {
	if o.Restarts < 1 {
		return fmt.Errorf("dsa: restarts = %d: must be at least 1", o.Restarts)
	}
	if o.Iterations < 1 {
		return fmt.Errorf("dsa: iterations = %d: must be at least 1", o.Iterations)
	}
	return nil
}

// Comparison is the result of Distance.
type Comparison struct {
	Angular   float64   // arccos(⟨A, C B Cᵀ⟩ / (‖A‖‖B‖)) ∈ [0, π]
	Frobenius float64   // ‖A − C B Cᵀ‖_F
	C         []float64 // the best orthogonal C found, r × r row-major
}

// Distance is the DSA distance between two operators of the same rank:
// the best orthogonal change of coordinates C found by the optimiser of the
// package comment, with the angular and Frobenius distances at C. When one
// operator is zero the angle is π/2 (both zero: 0).
func Distance(a, b *Operator, o Optimizer) (Comparison, error) {
	if a == nil || b == nil {
		return Comparison{}, fmt.Errorf("dsa: nil operator")
	}
	if a.Rank != b.Rank || len(a.A) != a.Rank*a.Rank || len(b.A) != b.Rank*b.Rank {
		return Comparison{}, fmt.Errorf("dsa: operators of rank %d and %d: compare operators fitted with the same rank", a.Rank, b.Rank)
	}
	return distance(a.A, b.A, a.Rank, o)
}

// DistanceMatrices is Distance for two r × r row-major matrices.
func DistanceMatrices(a, b []float64, r int, o Optimizer) (Comparison, error) {
	if r < 1 || len(a) != r*r || len(b) != r*r {
		return Comparison{}, fmt.Errorf("dsa: matrices of %d and %d values for r = %d: want r·r each", len(a), len(b), r)
	}
	return distance(a, b, r, o)
}

func distance(a, b []float64, r int, o Optimizer) (Comparison, error) {
	if err := o.Validate(); err != nil {
		return Comparison{}, err
	}
	na, nb := norm(a), norm(b)
	if math.IsNaN(na) || math.IsNaN(nb) || math.IsInf(na, 0) || math.IsInf(nb, 0) {
		return Comparison{}, fmt.Errorf("dsa: operator with non-finite entries")
	}
	w := newWork(r)
	best := math.Inf(-1)
	bestC := make([]float64, r*r)
	rng := rand.New(rand.NewPCG(o.Seed, 0x647361)) // "dsa"
	c := make([]float64, r*r)
	for k := range o.Restarts {
		w.start(c, k, a, b, rng)
		f := w.ascend(c, a, b, o.Iterations, na*nb)
		if f > best {
			best = f
			copy(bestC, c)
		}
	}
	res := Comparison{C: bestC}
	switch {
	case na == 0 && nb == 0:
		res.Angular = 0
	case na == 0 || nb == 0:
		res.Angular = math.Pi / 2
	default:
		res.Angular = math.Acos(max(-1, min(1, best/(na*nb))))
	}
	res.Frobenius = math.Sqrt(max(0, na*na+nb*nb-2*best))
	return res, nil
}

// work holds the scratch matrices of one comparison.
type work struct {
	r                      int
	cb, g, m, om, lhs, rhs []float64
	cand, t1               []float64
	piv                    []int
}

func newWork(r int) *work {
	n := r * r
	return &work{r: r, cb: make([]float64, n), g: make([]float64, n), m: make([]float64, n), om: make([]float64, n),
		lhs: make([]float64, n), rhs: make([]float64, n), cand: make([]float64, n), t1: make([]float64, n), piv: make([]int, r)}
}

// alignments is the number of eigenvector-alignment starts.
const alignments = 3

// start sets c to start k: the identity, a reflection, the eigenvector
// alignments of the symmetric parts, of A Aᵀ with B Bᵀ and of Aᵀ A with
// Bᵀ B (each with greedily chosen signs), then Haar-random matrices.
func (w *work) start(c []float64, k int, a, b []float64, rng *rand.Rand) {
	r := w.r
	clear(c)
	switch {
	case k < 2:
		for i := range r {
			c[i*r+i] = 1
		}
		if k == 1 {
			c[0] = -1
		}
	case k < 2+alignments && w.align(c, k-2, a, b):
	default:
		haar(c, r, rng)
	}
}

// align sets c = E_A D E_Bᵀ, taking the eigenvectors E_B of a symmetric
// matrix made from B to those E_A of the same matrix made from A (in
// ascending eigenvalue order): which = 0 the symmetric parts (A + Aᵀ)/2,
// 1 A Aᵀ, 2 Aᵀ A. Eigenvectors have arbitrary signs, so the diagonal sign
// matrix D starts at I and each sign is flipped, in turn, while a flip
// increases ⟨A, C B Cᵀ⟩ (at most r passes). It reports whether both
// decompositions succeeded.
func (w *work) align(c []float64, which int, a, b []float64) bool {
	r := w.r
	ea, ok := symEigenvectors(symOf(a, r, which), r)
	if !ok {
		return false
	}
	eb, ok := symEigenvectors(symOf(b, r, which), r)
	if !ok {
		return false
	}
	ra, rb := ea.RawMatrix(), eb.RawMatrix()
	set := func(d []float64) {
		for i := range r {
			for j := range r {
				s := 0.0
				for k := range r {
					s += ra.Data[i*ra.Stride+k] * d[k] * rb.Data[j*rb.Stride+k]
				}
				c[i*r+j] = s
			}
		}
	}
	d := make([]float64, r)
	for i := range d {
		d[i] = 1
	}
	set(d)
	f := w.objective(c, a, b)
	for range r {
		improved := false
		for k := range r {
			d[k] = -d[k]
			set(d)
			if fn := w.objective(c, a, b); fn > f {
				f, improved = fn, true
				continue
			}
			d[k] = -d[k]
		}
		if !improved {
			break
		}
	}
	set(d)
	return true
}

// symOf returns the symmetric matrix align uses for a: (a + aᵀ)/2, a aᵀ
// or aᵀ a.
func symOf(a []float64, r, which int) []float64 {
	out := make([]float64, r*r)
	switch which {
	case 0:
		for i := range r {
			for j := range r {
				out[i*r+j] = (a[i*r+j] + a[j*r+i]) / 2
			}
		}
	case 1:
		mulABt(out, a, a, r)
	default:
		mulAtB(out, a, a, r)
	}
	return out
}

func symEigenvectors(a []float64, r int) (*mat.Dense, bool) {
	s := mat.NewSymDense(r, nil)
	for i := range r {
		for j := i; j < r; j++ {
			s.SetSym(i, j, (a[i*r+j]+a[j*r+i])/2)
		}
	}
	var e mat.EigenSym
	if !e.Factorize(s, true) {
		return nil, false
	}
	var v mat.Dense
	e.VectorsTo(&v)
	return &v, true
}

// haar sets c to a Haar-distributed orthogonal matrix: the Q of the QR
// decomposition of a Gaussian matrix, with the signs of R's diagonal
// folded in.
func haar(c []float64, r int, rng *rand.Rand) {
	g := mat.NewDense(r, r, nil)
	for i := range r {
		for j := range r {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q, rr mat.Dense
	qr.QTo(&q)
	qr.RTo(&rr)
	for i := range r {
		for j := range r {
			v := q.At(i, j)
			if rr.At(j, j) < 0 {
				v = -v
			}
			c[i*r+j] = v
		}
	}
}

// objective returns ⟨A, C B Cᵀ⟩ and leaves C B in w.cb.
func (w *work) objective(c, a, b []float64) float64 {
	r := w.r
	mul(w.cb, c, b, r)
	// ⟨A, (CB) Cᵀ⟩ = Σ_ij A_ij Σ_k (CB)_ik C_jk
	f := 0.0
	for i := range r {
		cbi := w.cb[i*r : (i+1)*r]
		for j := range r {
			cj := c[j*r : (j+1)*r]
			s := 0.0
			for k, v := range cbi {
				s += v * cj[k]
			}
			f += a[i*r+j] * s
		}
	}
	return f
}

// gradTol is the norm of the Riemannian gradient, relative to ‖A‖‖B‖, at
// which a start has converged (the objective is then within ~1e-16 of a
// stationary value, as it is quadratic in the gradient there).
const gradTol = 1e-8

// ascend runs Riemannian gradient ascent of ⟨A, C B Cᵀ⟩ from c (updated in
// place) with Barzilai–Borwein steps and returns the final value. scale =
// ‖A‖‖B‖ sets the stopping tolerance and the first step.
func (w *work) ascend(c, a, b []float64, iterations int, scale float64) float64 {
	f := w.objective(c, a, b)
	if scale == 0 {
		return f
	}
	n := len(c)
	prevC, prevR, rg := make([]float64, n), make([]float64, n), make([]float64, n)
	eta := 1 / scale
	for it := range iterations {
		on := w.gradient(c, a, b)
		if on <= gradTol*scale {
			break
		}
		mul(rg, c, w.om, w.r) // the ascent direction C Ω in ambient coordinates
		if it > 0 {
			// Barzilai–Borwein: s = C_k − C_{k−1}, y = R_k − R_{k−1}
			// (R the ascent direction), alternating the two step formulas.
			ss, sy, yy := 0.0, 0.0, 0.0
			for i := range c {
				sv, yv := c[i]-prevC[i], rg[i]-prevR[i]
				ss += sv * sv
				sy += sv * yv
				yy += yv * yv
			}
			sy = math.Abs(sy)
			if sy > 0 {
				if it%2 == 0 {
					eta = ss / sy
				} else {
					eta = sy / yy
				}
			}
			eta = min(max(eta, 1e-12/scale), 1e6/scale)
		}
		copy(prevC, c)
		copy(prevR, rg)
		accepted := false
		for eta > 1e-16/scale {
			w.cayley(c, eta)
			if fn := w.objective(w.cand, a, b); fn > f {
				f = fn
				copy(c, w.cand)
				accepted = true
				break
			}
			eta /= 2
		}
		if !accepted {
			break
		}
	}
	return f
}

// gradient sets w.om = Ω = M − Mᵀ with M = Cᵀ G, G = A C Bᵀ + Aᵀ C B the
// Euclidean gradient of ⟨A, C B Cᵀ⟩, and returns ‖Ω‖_F.
func (w *work) gradient(c, a, b []float64) float64 {
	r := w.r
	mulABt(w.t1, c, b, r) // C Bᵀ
	mul(w.g, a, w.t1, r)  // A C Bᵀ
	mul(w.t1, c, b, r)    // C B
	mulAtB(w.m, a, w.t1, r)
	for i := range w.g {
		w.g[i] += w.m[i]
	}
	mulAtB(w.m, c, w.g, r)
	on := 0.0
	for i := range r {
		for j := range r {
			v := w.m[i*r+j] - w.m[j*r+i]
			w.om[i*r+j] = v
			on += v * v
		}
	}
	return math.Sqrt(on)
}

// cayley sets w.cand = C (I − hΩ)⁻¹(I + hΩ), h = η/2, Ω = w.om: the Cayley
// transform of ηΩ, orthogonal because Ω is skew. The two factors commute,
// so cand = C (I + hΩ)(I − hΩ)⁻¹ solves cand (I − hΩ) = C (I + hΩ).
func (w *work) cayley(c []float64, eta float64) {
	r := w.r
	h := eta / 2
	// rhs = C (I + hΩ)
	mul(w.rhs, c, w.om, r)
	for i := range w.rhs {
		w.rhs[i] = c[i] + h*w.rhs[i]
	}
	// Solve X L = rhs with L = I − hΩ, i.e. Lᵀ Xᵀ = rhsᵀ; Lᵀ = I + hΩ.
	for i := range r {
		for j := range r {
			v := h * w.om[i*r+j]
			if i == j {
				v += 1
			}
			w.lhs[i*r+j] = v // Lᵀ
		}
	}
	// Transpose rhs into cand, solve in place, transpose back.
	for i := range r {
		for j := range r {
			w.t1[j*r+i] = w.rhs[i*r+j]
		}
	}
	solve(w.lhs, w.t1, r, w.piv)
	for i := range r {
		for j := range r {
			w.cand[i*r+j] = w.t1[j*r+i]
		}
	}
}

// solve overwrites b (r × r, columns are right-hand sides) with L⁻¹ b by
// Gaussian elimination with partial pivoting; l is overwritten.
func solve(l, b []float64, r int, piv []int) {
	for k := range r {
		p := k
		for i := k + 1; i < r; i++ {
			if math.Abs(l[i*r+k]) > math.Abs(l[p*r+k]) {
				p = i
			}
		}
		piv[k] = p
		if p != k {
			for j := range r {
				l[k*r+j], l[p*r+j] = l[p*r+j], l[k*r+j]
				b[k*r+j], b[p*r+j] = b[p*r+j], b[k*r+j]
			}
		}
		d := l[k*r+k]
		for i := k + 1; i < r; i++ {
			m := l[i*r+k] / d
			if m == 0 {
				continue
			}
			for j := k; j < r; j++ {
				l[i*r+j] -= m * l[k*r+j]
			}
			for j := range r {
				b[i*r+j] -= m * b[k*r+j]
			}
		}
	}
	for k := r - 1; k >= 0; k-- {
		d := l[k*r+k]
		for j := range r {
			s := b[k*r+j]
			for i := k + 1; i < r; i++ {
				s -= l[k*r+i] * b[i*r+j]
			}
			b[k*r+j] = s / d
		}
	}
}

// mul sets dst = x y (r × r, row-major); dst must not alias x or y.
func mul(dst, x, y []float64, r int) {
	clear(dst)
	for i := range r {
		di := dst[i*r : (i+1)*r]
		for k := range r {
			v := x[i*r+k]
			if v == 0 {
				continue
			}
			yk := y[k*r : (k+1)*r]
			for j, u := range yk {
				di[j] += v * u
			}
		}
	}
}

// mulABt sets dst = x yᵀ.
func mulABt(dst, x, y []float64, r int) {
	for i := range r {
		xi := x[i*r : (i+1)*r]
		for j := range r {
			yj := y[j*r : (j+1)*r]
			s := 0.0
			for k, v := range xi {
				s += v * yj[k]
			}
			dst[i*r+j] = s
		}
	}
}

// mulAtB sets dst = xᵀ y.
func mulAtB(dst, x, y []float64, r int) {
	clear(dst)
	for k := range r {
		xk := x[k*r : (k+1)*r]
		yk := y[k*r : (k+1)*r]
		for i, v := range xk {
			if v == 0 {
				continue
			}
			di := dst[i*r : (i+1)*r]
			for j, u := range yk {
				di[j] += v * u
			}
		}
	}
}

func norm(a []float64) float64 {
	s := 0.0
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}
