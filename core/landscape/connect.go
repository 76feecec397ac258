package landscape

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rnn"
)

// None marks a branch of a saddle's unstable manifold that reaches no known
// attractor.
const None = -1

// flow evaluates F(x) = −x + Wφ(x) + W_in ū + b of one network under one
// constant input, clamped coordinates held (their F is 0).
type flow struct {
	net    *rnn.Network
	drive  []float64 // W_in ū + b
	free   []bool
	r      []float64 // φ(x) scratch
	f      []float64 // F(x) scratch
	n      int
	frozen int // number of clamped units
}

func newFlow(net *rnn.Network, u []float64) (*flow, error) {
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("landscape: %w", err)
	}
	if len(u) != net.M {
		return nil, fmt.Errorf("landscape: input has %d values, the network %d inputs", len(u), net.M)
	}
	n := net.N
	fl := &flow{net: net, drive: make([]float64, n), free: make([]bool, n), r: make([]float64, n), f: make([]float64, n), n: n}
	for i := range n {
		d := net.B[i]
		for j, v := range u {
			d += net.Win[i*net.M+j] * v
		}
		fl.drive[i] = d
		fl.free[i] = !net.IsClamped(i)
		if !fl.free[i] {
			fl.frozen++
		}
	}
	return fl, nil
}

// eval sets fl.f = F(x) and returns ½‖F‖² over the free coordinates.
func (fl *flow) eval(x []float64) float64 {
	n, w := fl.n, fl.net.W
	for j, v := range x {
		fl.r[j] = math.Tanh(v)
	}
	q := 0.0
	for i := range n {
		if !fl.free[i] {
			fl.f[i] = 0
			continue
		}
		row := w[i*n : i*n+n]
		s := fl.drive[i] - x[i]
		for j, rj := range fl.r {
			s += row[j] * rj
		}
		fl.f[i] = s
		q += s * s
	}
	return q / 2
}

// unstableDirection returns the unit eigenvector (N values, zero on clamped
// units) of the largest positive real eigenvalue of the Jacobian at x, and
// that eigenvalue. The eigenvalue must be real: that of an index-1 saddle
// is.
func (fl *flow) unstableDirection(x []float64) ([]float64, float64, error) {
	n := fl.n
	idx := make([]int, 0, n)
	for i := range n {
		if fl.free[i] {
			idx = append(idx, i)
		}
	}
	m := len(idx)
	if m == 0 {
		return nil, 0, errors.New("landscape: every unit is clamped: no dynamics to follow")
	}
	j := mat.NewDense(m, m, nil)
	for a, i := range idx {
		for b, k := range idx {
			t := math.Tanh(x[k])
			v := fl.net.W[i*n+k] * (1 - t*t)
			if a == b {
				v--
			}
			j.Set(a, b, v)
		}
	}
	var eig mat.Eigen
	if !eig.Factorize(j, mat.EigenRight) {
		return nil, 0, errors.New("landscape: the eigenvalue iteration of the Jacobian did not converge")
	}
	vals := eig.Values(nil)
	best := 0
	for k, v := range vals {
		if real(v) > real(vals[best]) {
			best = k
		}
	}
	lam := vals[best]
	if real(lam) <= 0 {
		return nil, 0, fmt.Errorf("landscape: largest eigenvalue %v has no positive real part: not a saddle", lam)
	}
	if math.Abs(imag(lam)) > 1e-9*max(1, math.Abs(real(lam))) {
		return nil, 0, fmt.Errorf("landscape: unstable eigenvalue %v is complex: the point's unstable manifold is at least 2-dimensional", lam)
	}
	var vecs mat.CDense
	eig.VectorsTo(&vecs)
	dir := make([]float64, n)
	norm := 0.0
	for a, i := range idx {
		dir[i] = real(vecs.At(a, best))
		norm += dir[i] * dir[i]
	}
	norm = math.Sqrt(norm)
	if !(norm > 0) {
		return nil, 0, errors.New("landscape: zero unstable eigenvector")
	}
	for i := range dir {
		dir[i] /= norm
	}
	return dir, real(lam), nil
}

// Branch is where one branch of a saddle's unstable manifold ends.
type Branch struct {
	End      []float64 // the state where integration stopped
	Q        float64   // ½‖F‖² there
	Steps    int       // Euler steps taken
	Settled  bool      // Q fell below Settings.SettleQ
	Target   int       // index in the stable points given to Connect, or None
	Distance float64   // distance from End to Target (NaN for None)
}

// Connect follows the two branches of the unstable manifold of the
// index-1 saddle x of net under the constant input u, starting at
// x + δ·v and x − δ·v (v the unit unstable eigenvector, in that order), and
// matches each end point to the nearest of stable (states of N values)
// within s.MatchTol.
func Connect(net *rnn.Network, u, x []float64, stable [][]float64, s Settings) ([2]Branch, error) {
	var out [2]Branch
	s, err := s.withDefaults()
	if err != nil {
		return out, err
	}
	fl, err := newFlow(net, u)
	if err != nil {
		return out, err
	}
	if len(x) != net.N {
		return out, fmt.Errorf("landscape: saddle has %d coordinates, the network %d units", len(x), net.N)
	}
	v, _, err := fl.unstableDirection(x)
	if err != nil {
		return out, err
	}
	for b, sign := range []float64{1, -1} {
		y := make([]float64, net.N)
		for i := range y {
			y[i] = x[i] + sign*s.Delta*v[i]
		}
		net.ApplyClamps(y)
		out[b] = fl.follow(y, stable, s)
	}
	return out, nil
}

// follow integrates from y (modified in place) and matches the end point.
func (fl *flow) follow(y []float64, stable [][]float64, s Settings) Branch {
	br := Branch{Target: None, Distance: math.NaN()}
	q := fl.eval(y)
	for br.Steps < s.Steps && q >= s.SettleQ && !math.IsNaN(q) && !math.IsInf(q, 0) {
		for i, f := range fl.f {
			y[i] += s.Step * f
		}
		br.Steps++
		q = fl.eval(y)
	}
	br.End, br.Q, br.Settled = y, q, q < s.SettleQ
	best := math.Inf(1)
	for k, p := range stable {
		if d := dist(y, p); d < best {
			best, br.Target = d, k
		}
	}
	if best <= s.MatchTol {
		br.Distance = best
	} else {
		br.Target = None
	}
	return br
}

func dist(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		d := a[i] - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}
