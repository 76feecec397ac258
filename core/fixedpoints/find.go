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
	// Count is the number of initial states whose descent ended here.
	Count int
	// Init is the index of the first of those initial states.
	Init int
}

// Result is the outcome of Find.
type Result struct {
	// Fixed holds the fixed points (q < TolQ) and Slow the slow points
	// (TolQ ≤ q < TolSlow), each in the order of their first initial state.
	Fixed, Slow []Point
	// Inits is the number of descents; Rejected counts those that ended with
	// q ≥ TolSlow (or not finite) and Outliers those dropped as outliers.
	Inits, Rejected, Outliers int
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
		y     []float64
		q     float64
		count int
		init  int
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
	for k, y := range ends {
		q := qs[k]
		switch {
		case !(q < s.TolSlow):
			res.Rejected++
		case s.OutlierScale > 0 && dist(y, centroid) > s.OutlierScale*max(radius, 1):
			res.Outliers++
		case q < s.TolQ:
			fixed = merge(fixed, y, q, k)
		default:
			slow = merge(slow, y, q, k)
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
			points[k] = linearize(net, p, c.y, s.Vectors)
			points[k].Q, points[k].Count, points[k].Init = c.q, c.count, c.init
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
// eigen-decomposition of the Jacobian and the kind.
func linearize(net *rnn.Network, p *problem, y []float64, vectors int) Point {
	n := p.n
	x := make([]float64, net.N)
	net.ApplyClamps(x)
	for a, i := range p.free {
		x[i] = y[a]
	}
	j := mat.NewDense(n, n, nil)
	for a := 0; a < n; a++ {
		for b := 0; b < n; b++ {
			t := math.Tanh(y[b])
			v := p.wff[a*n+b] * (1 - t*t)
			if a == b {
				v--
			}
			j.Set(a, b, v)
		}
	}
	kind := mat.EigenNone
	if vectors > 0 {
		kind = mat.EigenRight
	}
	var eig mat.Eigen
	pt := Point{X: x}
	if !eig.Factorize(j, kind) {
		// The QR iteration failed to converge: report the point with a NaN
		// spectrum, Unstable = −1 and no kind rather than drop it.
		for range y {
			pt.Eigenvalues = append(pt.Eigenvalues, complex(math.NaN(), 0))
		}
		pt.Unstable = -1
		pt.Kind = ""
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
	if vectors > 0 {
		var v mat.CDense
		eig.VectorsTo(&v)
		for _, o := range order[:min(vectors, n)] {
			vec := make([]complex128, net.N)
			for a, i := range p.free {
				vec[i] = v.At(a, o)
			}
			pt.Eigenvectors = append(pt.Eigenvectors, vec)
		}
	}
	return pt
}
