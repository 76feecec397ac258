package fixedpoints

import (
	"fmt"
	"math"

	"rulescape/core/internal/kern"
	"rulescape/core/rnn"
)

// problem is F restricted to the free (unclamped) coordinates:
// F(y) = −y + Wff φ(y) + c.
type problem struct {
	n    int       // free coordinates
	free []int     // their unit indices
	wff  []float64 // n×n, row-major
	wffT []float64 // its transpose
	c    []float64 // constant drive on the free units
}

func newProblem(net *rnn.Network, u []float64) (*problem, error) {
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("fixedpoints: %w", err)
	}
	if len(u) != net.M {
		return nil, fmt.Errorf("fixedpoints: input has %d values, the network has M=%d inputs", len(u), net.M)
	}
	for i, v := range u {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("fixedpoints: input value %d is %v: must be finite", i, v)
		}
	}
	N := net.N
	clampVal := make(map[int]float64, len(net.ClampIndex))
	for k, i := range net.ClampIndex {
		clampVal[i] = net.ClampValue[k]
	}
	p := &problem{}
	for i := 0; i < N; i++ {
		if _, ok := clampVal[i]; !ok {
			p.free = append(p.free, i)
		}
	}
	n := len(p.free)
	if n == 0 {
		return nil, fmt.Errorf("fixedpoints: all %d units are clamped: there is nothing to search", N)
	}
	p.n = n
	p.wff = make([]float64, n*n)
	p.wffT = make([]float64, n*n)
	p.c = make([]float64, n)
	for a, i := range p.free {
		row := net.W[i*N : (i+1)*N]
		for b, j := range p.free {
			p.wff[a*n+b] = row[j]
			p.wffT[b*n+a] = row[j]
		}
		s := net.B[i]
		for k := 0; k < net.M; k++ {
			s += net.Win[i*net.M+k] * u[k]
		}
		// Clamped units in index order, so that the sum is reproducible.
		for _, j := range net.ClampIndex {
			s += row[j] * math.Tanh(clampVal[j])
		}
		p.c[a] = s
	}
	return p, nil
}

// reduce returns the free coordinates of a full state x.
func (p *problem) reduce(x []float64) []float64 {
	y := make([]float64, p.n)
	for a, i := range p.free {
		y[a] = x[i]
	}
	return y
}

// workspace holds one descent's buffers.
type workspace struct {
	p                *problem
	phi, dphi, f, g  []float64
	h, yn, fn, delta []float64
	jt, jtj, sym     []float64
	tmp              []float64
	dg, dgn          []float64 // ∇ log M of a deflated descent at y and at the trial point
}

func newWorkspace(p *problem) *workspace {
	n := p.n
	v := func() []float64 { return make([]float64, n) }
	return &workspace{p: p,
		phi: v(), dphi: v(), f: v(), g: v(), h: v(), yn: v(), fn: v(), delta: v(), dg: v(), dgn: v(),
		jt: make([]float64, n*n), jtj: make([]float64, n*n), sym: make([]float64, n*n),
		tmp: make([]float64, (n+cholBlock)*cholBlock),
	}
}

// eval writes F(y) into f (and φ(y) into phi) and returns q(y).
func (ws *workspace) eval(y, f []float64) float64 {
	p := ws.p
	for a, v := range y {
		ws.phi[a] = math.Tanh(v)
	}
	kern.MulAv(p.n, p.n, p.wff, p.n, ws.phi, f)
	q := 0.0
	for a := range f {
		f[a] += p.c[a] - y[a]
		q += f[a] * f[a]
	}
	return q / 2
}

// gramian writes φ'(y) into dphi, Jᵀ into jt and the lower triangle of JᵀJ
// (with the diagonal blocks) into jtj.
func (ws *workspace) gramian(y []float64) {
	p, n := ws.p, ws.p.n
	// Jᵀ row j = φ'(y_j)·(column j of Wff) − e_j; JᵀJ = Jᵀ(Jᵀ)ᵀ.
	for j, v := range y {
		t := math.Tanh(v)
		ws.dphi[j] = 1 - t*t
	}
	for j := 0; j < n; j++ {
		d := ws.dphi[j]
		src := p.wffT[j*n : (j+1)*n]
		dst := ws.jt[j*n : (j+1)*n]
		for i, w := range src {
			dst[i] = d * w
		}
		dst[j]--
	}
	// Lower triangle only (with the diagonal blocks), by row blocks.
	for i0 := 0; i0 < n; i0 += cholBlock {
		i1 := min(i0+cholBlock, n)
		kern.MulABt(i1-i0, i1, n, ws.jt[i0*n:], n, ws.jt, n, ws.jtj[i0*n:], n)
	}
}

// Stopping constants of the descent (see the package documentation).
const (
	qFloor    = 1e-28
	stepTol   = 1e-12
	lambdaMax = 1e20
	lambdaMin = 1e-300
)

// descend minimizes q from y (overwritten with the end point) and returns q
// there. It stops early, returning ctx's error via stop, when stop reports true.
func (ws *workspace) descend(y []float64, maxIter int, stop func() bool) float64 {
	p, n := ws.p, ws.p.n
	q := ws.eval(y, ws.f)
	lambda, nu := 0.0, 2.0
	fresh := true // derivatives must be rebuilt at y
	for iter := 0; iter < maxIter; {
		if !(q > qFloor) || math.IsNaN(q) {
			break
		}
		if stop() {
			break
		}
		if fresh {
			ws.gramian(y)
			kern.MulAv(n, n, ws.jt, n, ws.f, ws.g) // ∇q = Jᵀ F
			gmax := 0.0
			for _, v := range ws.g {
				gmax = max(gmax, math.Abs(v))
			}
			if gmax == 0 {
				break
			}
			// Second-order term: diag(φ''(y) ∘ Wffᵀ F).
			kern.MulAv(n, n, p.wffT, n, ws.f, ws.h)
			for j, v := range y {
				t := math.Tanh(v)
				ws.h[j] *= -2 * t * ws.dphi[j]
			}
			if lambda == 0 {
				dmax := 0.0
				for j := 0; j < n; j++ {
					dmax = max(dmax, ws.jtj[j*n+j])
				}
				lambda = max(1e-3*dmax, 1e-12)
			}
			fresh = false
		}
		iter++
		// (∇²q + λI) δ = −∇q by Cholesky (lower triangle).
		copy(ws.sym, ws.jtj)
		for j := 0; j < n; j++ {
			ws.sym[j*n+j] += ws.h[j] + lambda
		}
		if !cholesky(n, ws.sym, ws.tmp) {
			lambda *= nu
			nu *= 2
			if lambda > lambdaMax {
				break
			}
			continue
		}
		for j, v := range ws.g {
			ws.delta[j] = -v
		}
		cholSolve(n, ws.sym, ws.delta)
		dd, gd, dmax, ymax := 0.0, 0.0, 0.0, 0.0
		for j, d := range ws.delta {
			ws.yn[j] = y[j] + d
			dd += d * d
			gd += ws.g[j] * d
			dmax = max(dmax, math.Abs(d))
			ymax = max(ymax, math.Abs(y[j]))
		}
		pred := 0.5 * (lambda*dd - gd)
		qn := ws.eval(ws.yn, ws.fn)
		if !(pred > 0) {
			break // the model predicts no decrease: rounding floor
		}
		rho := (q - qn) / pred
		if rho > 0 && !math.IsNaN(qn) && !math.IsInf(qn, 0) {
			copy(y, ws.yn)
			ws.f, ws.fn = ws.fn, ws.f
			q = qn
			fresh = true
			lambda *= max(1.0/3, 1-math.Pow(2*rho-1, 3))
			lambda = max(lambda, lambdaMin)
			nu = 2
			if dmax <= stepTol*(1+ymax) {
				break
			}
			continue
		}
		lambda *= nu
		nu *= 2
		if lambda > lambdaMax {
			break
		}
	}
	return q
}
