package fixedpoints

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rnn"
)

// Kind is the type of a point by its unstable dimensions. It is empty, with
// Unstable = −1 and NaN eigenvalues, in the rare case where the eigenvalue
// iteration fails to converge.
type Kind string

// The kinds of points.
const (
	Stable   Kind = "stable"   // no eigenvalue with a positive real part
	Saddle   Kind = "saddle"   // some, but not all, unstable; Unstable is its index
	Unstable Kind = "unstable" // every direction unstable
)

// Point is one fixed or slow point with its linearization.
type Point struct {
	// X is the full state (N values, clamped units at their values).
	X []float64
	// Q is q(X) = ½‖F(X)‖² over the free coordinates.
	Q float64
	// Eigenvalues of the Jacobian −I + W_ff diag(φ'(x)) over the free
	// coordinates, by decreasing real part (then decreasing imaginary part).
	Eigenvalues []complex128
	// Eigenvectors holds the right eigenvectors of the first
	// len(Eigenvectors) eigenvalues (Settings.Vectors), each with N entries
	// (zero on clamped units) and unit Euclidean norm.
	Eigenvectors [][]complex128
	// Unstable is the number of eigenvalues with a positive real part: the
	// index of a saddle.
	Unstable int
	// Kind is Stable, Saddle or Unstable.
	Kind Kind
	// Count is the number of initial states whose plain (undeflated)
	// descent ended here; 0 for a point only deflated searches found.
	Count int
	// Init is the index of the first of those initial states (for a point
	// only deflated searches found: the initial state of the first
	// deflated search that ended here).
	Init int
	// Deflated is the number of deflated searches (Settings.Deflations)
	// that found this point as a new root; always 0 for a slow point.
	Deflated int

	// MapUnstable is the number of unstable directions of the Euler map
	// x ← x + αF(x) the network is simulated with (MapUnstable of the
	// eigenvalues and Settings.Alpha): eigenvalues with |1 + αλ| > 1. It
	// is −1 when Settings.Alpha is 0 or the eigenvalues are NaN.
	MapUnstable int
	// Henrici and HenriciRel are the departure from normality of the
	// Jacobian and its ratio to ‖J‖_F (Henrici).
	Henrici, HenriciRel float64
	// ReadoutOverlap[o][i] is the overlap (Overlaps) of readout o — row o
	// of W_out on the free coordinates — with the right eigenvector of
	// Eigenvalues[i].
	ReadoutOverlap [][]float64
	// Response[k] is the linear response (−J)⁻¹ W_in e_k of the point to
	// input channel k (LinearResponse): N values, zero on clamped units,
	// NaN when J is singular.
	Response [][]float64
}

// Result is the outcome of Find.
type Result struct {
	// Fixed holds the fixed points (q < TolQ) and Slow the slow points
	// (TolQ ≤ q < TolSlow), each in the order of their first initial state.
	Fixed, Slow []Point
	// Inits is the number of descents; Rejected counts those that ended with
	// q ≥ TolSlow (or not finite) and Outliers those dropped as outliers.
	Inits, Rejected, Outliers int
	// Deflations is the number of deflated searches run (at most
	// Settings.Deflations per initial state).
	Deflations int
}

// Find runs one descent of q per initial state (each of length net.N; their
// clamped coordinates are ignored), under the constant input u (net.M
// values), then classifies, deduplicates and linearizes the end points as the
// package documentation describes. The result does not depend on s.Workers.
// It returns ctx's error if ctx is cancelled before the search finishes.
func Find(ctx context.Context, net *rnn.Network, u []float64, inits [][]float64, s Settings) (*Result, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := newProblem(net, u)
	if err != nil {
		return nil, err
	}
	if len(inits) == 0 {
		return nil, fmt.Errorf("fixedpoints: no initial states: pass states from SampleInits (or a grid)")
	}
	ys := make([][]float64, len(inits))
	for k, x := range inits {
		if len(x) != net.N {
			return nil, fmt.Errorf("fixedpoints: initial state %d has %d values, want N=%d", k, len(x), net.N)
		}
		ys[k] = p.reduce(x)
		for _, v := range ys[k] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("fixedpoints: initial state %d is not finite", k)
			}
		}
	}
	centroid, radius := spread(ys, p.n)

	// Descents in parallel; each writes only its own slot.
	ends := make([][]float64, len(ys))
	qs := make([]float64, len(ys))
	stop := func() bool { return ctx.Err() != nil }
	parallel(s.Workers, len(ys), func() func(int) {
		ws := newWorkspace(p)
		return func(k int) {
			if stop() {
				return
			}
			y := append([]float64(nil), ys[k]...)
			qs[k] = ws.descend(y, s.MaxIter, stop)
			ends[k] = y
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fixedpoints: search cancelled: %w", err)
	}

	// Classify and deduplicate in init order.
	res := &Result{Inits: len(ys)}
	type cand struct {
		y        []float64
		q        float64
		count    int
		deflated int
		init     int
	}
	var fixed, slow []*cand
	near := func(list []*cand, y []float64) *cand {
		for _, c := range list {
			if dist(c.y, y) < s.TolUnique {
				return c
			}
		}
		return nil
	}
	merge := func(list []*cand, y []float64, q float64, k int) []*cand {
		if c := near(list, y); c != nil {
			c.count++
			if q < c.q {
				c.y, c.q = y, q
			}
			return list
		}
		return append(list, &cand{y: y, q: q, count: 1, init: k})
	}
	outlier := func(y []float64) bool {
		return s.OutlierScale > 0 && dist(y, centroid) > s.OutlierScale*max(radius, 1)
	}
	for k, y := range ends {
		q := qs[k]
		switch {
		case !(q < s.TolSlow):
			res.Rejected++
		case outlier(y):
			res.Outliers++
		case q < s.TolQ:
			fixed = merge(fixed, y, q, k)
		default:
			slow = merge(slow, y, q, k)
		}
	}
	// Deflation rounds: in each, one deflated search per initial state,
	// deflating every fixed point found so far; the new points are merged
	// in init order, so the result does not depend on the workers.
	for round := 0; round < s.Deflations && len(fixed) > 0; round++ {
		d := &deflation{power: s.DeflationPower, shift: s.DeflationShift}
		for _, c := range fixed {
			d.roots = append(d.roots, c.y)
		}
		found := make([][]float64, len(ys))
		foundQ := make([]float64, len(ys))
		parallel(s.Workers, len(ys), func() func(int) {
			ws := newWorkspace(p)
			return func(k int) {
				if stop() {
					return
				}
				if y, q, ok := ws.deflatedSearch(ys[k], d, s, outlier, stop); ok {
					found[k], foundQ[k] = y, q
				}
			}
		})
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fixedpoints: search cancelled: %w", err)
		}
		res.Deflations += len(ys)
		before := len(fixed)
		for k, y := range found {
			if y == nil {
				continue
			}
			if c := near(fixed, y); c != nil {
				c.deflated++
				continue
			}
			fixed = append(fixed, &cand{y: y, q: foundQ[k], deflated: 1, init: k})
		}
		if len(fixed) == before {
			break // a round that finds nothing new ends the search
		}
	}
	var keptSlow []*cand
	for _, c := range slow {
		if f := near(fixed, c.y); f != nil {
			f.count += c.count
			continue
		}
		keptSlow = append(keptSlow, c)
	}

	// Linearize every kept point, in parallel.
	all := append(append([]*cand(nil), fixed...), keptSlow...)
	points := make([]Point, len(all))
	parallel(s.Workers, len(all), func() func(int) {
		return func(k int) {
			c := all[k]
			points[k] = linearize(net, p, c.y, s.Vectors, s.Alpha)
			points[k].Q, points[k].Count, points[k].Init, points[k].Deflated = c.q, c.count, c.init, c.deflated
		}
	})
	res.Fixed = points[:len(fixed):len(fixed)]
	res.Slow = points[len(fixed):]
	return res, nil
}

// parallel calls the function made by newWorker for every k < n on up to
// workers goroutines; each goroutine makes its own worker function.
func parallel(workers, n int, newWorker func() func(int)) {
	workers = min(workers, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := newWorker()
			for k := range next {
				f(k)
			}
		}()
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}

// spread returns the centroid of ys and their mean Euclidean distance to it.
func spread(ys [][]float64, n int) ([]float64, float64) {
	c := make([]float64, n)
	for _, y := range ys {
		for i, v := range y {
			c[i] += v
		}
	}
	for i := range c {
		c[i] /= float64(len(ys))
	}
	r := 0.0
	for _, y := range ys {
		r += dist(y, c)
	}
	return c, r / float64(len(ys))
}

func dist(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		d := v - b[i]
		s += d * d
	}
	return math.Sqrt(s)
}

// linearize builds the point at the free coordinates y: its full state, the
// eigen-decomposition of the Jacobian, the kind and the measures of
// measures.go. alpha is Settings.Alpha.
func linearize(net *rnn.Network, p *problem, y []float64, vectors int, alpha float64) Point {
	n := p.n
	x := make([]float64, net.N)
	net.ApplyClamps(x)
	for a, i := range p.free {
		x[i] = y[a]
	}
	jv := make([]float64, n*n)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			t := math.Tanh(y[b])
			v := p.wff[a*n+b] * (1 - t*t)
			if a == b {
				v--
			}
			jv[a*n+b] = v
		}
	}
	pt := Point{X: x, MapUnstable: -1}
	pt.Response = response(net, p, jv)
	var eig mat.Eigen
	if !eig.Factorize(mat.NewDense(n, n, append([]float64(nil), jv...)), mat.EigenRight) {
		// The QR iteration failed to converge: report the point with a NaN
		// spectrum, Unstable = −1 and no kind rather than drop it.
		for range y {
			pt.Eigenvalues = append(pt.Eigenvalues, complex(math.NaN(), 0))
		}
		pt.Unstable = -1
		pt.Kind = ""
		pt.Henrici, pt.HenriciRel = math.NaN(), math.NaN()
		for range net.O {
			o := make([]float64, n)
			for k := range o {
				o[k] = math.NaN()
			}
			pt.ReadoutOverlap = append(pt.ReadoutOverlap, o)
		}
		return pt
	}
	vals := eig.Values(nil)
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(real(vals[b]), real(vals[a])); c != 0 {
			return c
		}
		return cmp.Compare(imag(vals[b]), imag(vals[a]))
	})
	pt.Eigenvalues = make([]complex128, n)
	for k, o := range order {
		pt.Eigenvalues[k] = vals[o]
		if real(vals[o]) > 0 {
			pt.Unstable++
		}
	}
	switch pt.Unstable {
	case 0:
		pt.Kind = Stable
	case n:
		pt.Kind = Unstable
	default:
		pt.Kind = Saddle
	}
	pt.MapUnstable = MapUnstable(pt.Eigenvalues, alpha)
	pt.Henrici, pt.HenriciRel = Henrici(n, jv, pt.Eigenvalues)

	var v mat.CDense
	eig.VectorsTo(&v)
	free := make([][]complex128, n) // eigenvectors on the free coordinates, sorted
	for k, o := range order {
		free[k] = make([]complex128, n)
		for a := range n {
			free[k][a] = v.At(a, o)
		}
	}
	w := make([]float64, n)
	for o := range net.O {
		for a, i := range p.free {
			w[a] = net.Wout[o*net.N+i]
		}
		pt.ReadoutOverlap = append(pt.ReadoutOverlap, Overlaps(w, free))
	}
	for k := range min(vectors, n) {
		vec := make([]complex128, net.N)
		nrm := 0.0
		for _, z := range free[k] {
			nrm += real(z)*real(z) + imag(z)*imag(z)
		}
		nrm = math.Sqrt(nrm)
		for a, i := range p.free {
			vec[i] = free[k][a] / complex(nrm, 0)
		}
		pt.Eigenvectors = append(pt.Eigenvectors, vec)
	}
	return pt
}

// response returns the linear response (−J)⁻¹ W_in,f of the point with
// Jacobian jv (free coordinates), one N-vector per input channel with zeros
// on the clamped units.
func response(net *rnn.Network, p *problem, jv []float64) [][]float64 {
	n, m := p.n, net.M
	bin := make([]float64, n*m)
	for a, i := range p.free {
		copy(bin[a*m:(a+1)*m], net.Win[i*m:(i+1)*m])
	}
	r, _ := LinearResponse(n, jv, m, bin)
	out := make([][]float64, m)
	for k := range m {
		out[k] = make([]float64, net.N)
		for a, i := range p.free {
			out[k][i] = r[a*m+k]
		}
	}
	return out
}
