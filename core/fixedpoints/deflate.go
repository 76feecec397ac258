package fixedpoints

import (
	"math"

	"rulescape/core/internal/kern"
)

// deflation is the deflation operator of Brown & Gearhart (1971) in the
// form of Farrell, Birkisson & Funke (2015),
//
//	M(y) = Π_i (‖y − r_i‖^(−p) + σ),
//
// over the roots r_i found so far. The deflated residual G = M F has the
// roots of F except the r_i (near r_i, M grows as ‖y − r_i‖^(−p) while F
// shrinks only linearly, for p ≥ 1 and a simple root), and far from every
// r_i it is σ^k F, so the shift σ > 0 keeps the search from being drawn
// to infinity, where M → 0 for σ = 0.
type deflation struct {
	power, shift float64
	roots        [][]float64 // the roots r_i; read only
}

// logM returns log M(y) and writes ∇ log M(y) = Σ_i −p‖d_i‖^(−p−2) d_i /
// (‖d_i‖^(−p) + σ), d_i = y − r_i, into g. It returns +Inf at a root.
func (d *deflation) logM(y, g []float64) float64 {
	clear(g)
	lm := 0.0
	for _, r := range d.roots {
		s := 0.0
		for a, v := range y {
			e := v - r[a]
			s += e * e
		}
		if s == 0 {
			return math.Inf(1)
		}
		inv := math.Pow(s, -d.power/2) // ‖d‖^(−p)
		m := inv + d.shift
		lm += math.Log(m)
		c := -d.power * inv / s / m
		for a, v := range y {
			g[a] += c * (v - r[a])
		}
	}
	return lm
}

// descendDeflated moves y (overwritten) towards a root of the deflated
// residual G = M F by Levenberg–Marquardt on ½‖G‖² with the Gauss–Newton
// model of G. With g = ∇ log M its Jacobian is M (J + F gᵀ); dividing the
// normal equations by M², the step solves
//
//	(AᵀA + μI) δ = −Aᵀ F,   A = J + F gᵀ,
//	AᵀA = JᵀJ + h gᵀ + g hᵀ + ‖F‖² g gᵀ,   Aᵀ F = h + ‖F‖² g,   h = Jᵀ F,
//
// a rank-two update of the Gram matrix the plain descent builds. A step is
// accepted when log ‖G‖ = log M + ½ log ‖F‖² decreases (μ ← μ/3), else μ
// doubles. It stops as descend does (q ≤ 10⁻²⁸, a tiny step, μ > 10²⁰,
// maxIter factorizations, stop) and returns q(y) of the undeflated problem.
func (ws *workspace) descendDeflated(y []float64, d *deflation, maxIter int, stop func() bool) float64 {
	n := ws.p.n
	q := ws.eval(y, ws.f)
	lm := d.logM(y, ws.dg)
	merit := lm + 0.5*math.Log(2*q)
	if math.IsInf(lm, 0) || math.IsNaN(merit) {
		return q
	}
	mu := 0.0
	fresh := true
	for iter := 0; iter < maxIter; {
		if !(q > qFloor) || stop() {
			break
		}
		if fresh {
			ws.gramian(y)
			kern.MulAv(n, n, ws.jt, n, ws.f, ws.g) // h = Jᵀ F
			f2 := 2 * q
			for i := 0; i < n; i++ {
				hi, gi := ws.g[i], ws.dg[i]
				row := ws.jtj[i*n : i*n+i+1]
				for j := range row {
					row[j] += hi*ws.dg[j] + gi*ws.g[j] + f2*gi*ws.dg[j]
				}
			}
			for i := range ws.h {
				ws.h[i] = -(ws.g[i] + f2*ws.dg[i]) // −Aᵀ F
			}
			if mu == 0 {
				dmax := 0.0
				for j := 0; j < n; j++ {
					dmax = max(dmax, ws.jtj[j*n+j])
				}
				mu = max(1e-3*dmax, 1e-12)
			}
			fresh = false
		}
		iter++
		copy(ws.sym, ws.jtj)
		for j := 0; j < n; j++ {
			ws.sym[j*n+j] += mu
		}
		if !cholesky(n, ws.sym, ws.tmp) {
			mu *= 2
			if mu > lambdaMax {
				break
			}
			continue
		}
		copy(ws.delta, ws.h)
		cholSolve(n, ws.sym, ws.delta)
		dmax, ymax := 0.0, 0.0
		for j, v := range ws.delta {
			ws.yn[j] = y[j] + v
			dmax = max(dmax, math.Abs(v))
			ymax = max(ymax, math.Abs(y[j]))
		}
		qn := ws.eval(ws.yn, ws.fn)
		lmn := d.logM(ws.yn, ws.dgn)
		mn := lmn + 0.5*math.Log(2*qn)
		if mn < merit && !math.IsInf(lmn, 0) && !math.IsNaN(qn) && !math.IsInf(qn, 0) {
			copy(y, ws.yn)
			ws.f, ws.fn = ws.fn, ws.f
			ws.dg, ws.dgn = ws.dgn, ws.dg
			q, merit = qn, mn
			fresh = true
			mu = max(mu/3, lambdaMin)
			if dmax <= stepTol*(1+ymax) {
				break
			}
			continue
		}
		mu *= 2
		if mu > lambdaMax {
			break
		}
	}
	return q
}

// deflatedSearch runs one deflated search from the initial state y0 (free
// coordinates), deflating d's roots, and returns its end point and q there.
// ok is false unless the end point is a new fixed point: q < TolQ, not an
// outlier (outlier reports it), and farther than TolUnique from every
// deflated root.
//
// The search is descendDeflated followed by a plain descent that polishes
// its end point; when that does not give a new fixed point, the deflated
// Newton iteration (descendNewton), polished the same way, is tried from
// y0. The two fail in different places: the first at local minima of ‖G‖,
// the second where undamped steps wander off.
func (ws *workspace) deflatedSearch(y0 []float64, d *deflation, s Settings, outlier func([]float64) bool, stop func() bool) (y []float64, q float64, ok bool) {
	check := func(y []float64, q float64) bool {
		if !(q < s.TolQ) || outlier(y) {
			return false
		}
		for _, r := range d.roots {
			if dist(r, y) < s.TolUnique {
				return false
			}
		}
		return true
	}
	y = append([]float64(nil), y0...)
	ws.descendDeflated(y, d, s.MaxIter, stop)
	if q = ws.descend(y, s.MaxIter, stop); check(y, q) {
		return y, q, true
	}
	copy(y, y0)
	ws.descendNewton(y, d, s.MaxIter, stop)
	q = ws.descend(y, s.MaxIter, stop)
	return y, q, check(y, q)
}

// descendNewton moves y (overwritten) by the deflated Newton iteration of
// Farrell et al.: the Newton step of F (the Gauss–Newton system
// (JᵀJ + εI) δ = −JᵀF, ε = 10⁻¹⁰ of its largest diagonal entry, which is
// −J⁻¹F when J is not singular) becomes the Newton step of G = M F when
// scaled by τ = 1/(1 − δ·∇log M) (Sherman–Morrison on the rank-one term of
// G's Jacobian). The step is taken in full, without a merit test, but no
// longer than 1 + √n (the scale of the box tanh saturates in), so that a
// near-zero 1 − δ·∇log M does not throw the iterate away. It stops when
// q ≤ 10⁻²⁸, at a deflated root, when the system is not positive definite,
// after maxIter steps or when stop reports true, and returns q(y).
func (ws *workspace) descendNewton(y []float64, d *deflation, maxIter int, stop func() bool) float64 {
	n := ws.p.n
	q := ws.eval(y, ws.f)
	for iter := 0; iter < maxIter; iter++ {
		if !(q > qFloor) || stop() {
			break
		}
		lm := d.logM(y, ws.dg)
		if math.IsInf(lm, 0) {
			break
		}
		ws.gramian(y)
		kern.MulAv(n, n, ws.jt, n, ws.f, ws.g)
		dmax := 0.0
		for j := 0; j < n; j++ {
			dmax = max(dmax, ws.jtj[j*n+j])
		}
		copy(ws.sym, ws.jtj)
		for j := 0; j < n; j++ {
			ws.sym[j*n+j] += 1e-10 * dmax
		}
		if !cholesky(n, ws.sym, ws.tmp) {
			break
		}
		for j, v := range ws.g {
			ws.delta[j] = -v
		}
		cholSolve(n, ws.sym, ws.delta)
		gd, nd := 0.0, 0.0
		for j, v := range ws.delta {
			gd += ws.dg[j] * v
			nd += v * v
		}
		tau := 1 / (1 - gd)
		nd = math.Sqrt(nd) * math.Abs(tau)
		if lim := 1 + math.Sqrt(float64(n)); nd > lim {
			tau *= lim / nd
		}
		for j, v := range ws.delta {
			y[j] += tau * v
		}
		q = ws.eval(y, ws.f)
		if math.IsNaN(q) || math.IsInf(q, 0) {
			break
		}
	}
	return q
}
