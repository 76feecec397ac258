package fixedpoints

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// bisect returns the root of f in [a, b], where f(a) and f(b) differ in sign.
func bisect(f func(float64) float64, a, b float64) float64 {
	fa := f(a)
	for range 200 {
		m := (a + b) / 2
		fm := f(m)
		if fm == 0 {
			return m
		}
		if (fm < 0) == (fa < 0) {
			a, fa = m, fm
		} else {
			b = m
		}
	}
	return (a + b) / 2
}

func newNet(t testing.TB, n, m int) *rnn.Network {
	t.Helper()
	net, err := rnn.NewNetwork(n, m, 1)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// grid returns every state whose coordinates are taken from vals.
func grid(n int, vals []float64) [][]float64 {
	out := [][]float64{{}}
	for range n {
		var next [][]float64
		for _, x := range out {
			for _, v := range vals {
				next = append(next, append(slices.Clone(x), v))
			}
		}
		out = next
	}
	return out
}

// Three independent bistable units x = 2 tanh x: 27 fixed points, each
// coordinate in {0, ±x*}; the number of zero coordinates is the index.
func TestIndependentBistableUnits(t *testing.T) {
	net := newNet(t, 3, 0)
	for i := range 3 {
		net.W[i*3+i] = 2
	}
	xs := bisect(func(x float64) float64 { return 2*math.Tanh(x) - x }, 1, 3)
	// Jacobian entries: −1 + 2(1 − tanh² x*) at ±x*, +1 at 0.
	lamStar := -1 + 2*(1-math.Tanh(xs)*math.Tanh(xs))

	inits := grid(3, []float64{-2.5, -1.2, -0.3, 0.05, 0.4, 1.1, 2.7})
	res, err := Find(context.Background(), net, nil, inits, Settings{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 27 || len(res.Slow) != 0 {
		t.Fatalf("%d fixed and %d slow points, want 27 and 0", len(res.Fixed), len(res.Slow))
	}
	byIndex := map[int]int{}
	byKind := map[Kind]int{}
	seen := map[[3]int]bool{}
	total := 0
	for _, p := range res.Fixed {
		var key [3]int
		zeros := 0
		for i, v := range p.X {
			switch {
			case math.Abs(v) < 1e-8:
				zeros++
			case math.Abs(v-xs) < 1e-8:
				key[i] = 1
			case math.Abs(v+xs) < 1e-8:
				key[i] = -1
			default:
				t.Fatalf("point %v: coordinate %d = %v is not 0 or ±%v", p.X, i, v, xs)
			}
		}
		if seen[key] {
			t.Fatalf("point %v found twice", p.X)
		}
		seen[key] = true
		if p.Unstable != zeros {
			t.Errorf("point %v: %d unstable dimensions, want %d", p.X, p.Unstable, zeros)
		}
		// Eigenvalues: +1 for each zero coordinate, λ* for the others, sorted.
		for k, ev := range p.Eigenvalues {
			want := lamStar
			if k < zeros {
				want = 1
			}
			if cmplx.Abs(ev-complex(want, 0)) > 1e-8 {
				t.Errorf("point %v: eigenvalue %d = %v, want %v", p.X, k, ev, want)
			}
		}
		if p.Q >= 1e-12 {
			t.Errorf("point %v: q = %g", p.X, p.Q)
		}
		byIndex[p.Unstable]++
		byKind[p.Kind]++
		total += p.Count
	}
	if want := map[int]int{0: 8, 1: 12, 2: 6, 3: 1}; !maps(byIndex, want) {
		t.Errorf("points by index %v, want %v", byIndex, want)
	}
	if want := map[Kind]int{Stable: 8, Saddle: 18, Unstable: 1}; !maps(byKind, want) {
		t.Errorf("points by kind %v, want %v", byKind, want)
	}
	if total+res.Rejected+res.Outliers != len(inits) {
		t.Errorf("counts %d + rejected %d + outliers %d ≠ %d inits", total, res.Rejected, res.Outliers, len(inits))
	}
}

func maps[K comparable](a, b map[K]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// written-out F and Jacobian for the tests.
func velocity(net *rnn.Network, x, u []float64) []float64 {
	n, m := net.N, net.M
	f := make([]float64, n)
	for i := range n {
		s := -x[i] + net.B[i]
		for j := range n {
			s += net.W[i*n+j] * math.Tanh(x[j])
		}
		for k := range m {
			s += net.Win[i*m+k] * u[k]
		}
		f[i] = s
	}
	return f
}

func jacobian(net *rnn.Network, x []float64) *mat.Dense {
	n := net.N
	j := mat.NewDense(n, n, nil)
	for a := range n {
		for b := range n {
			t := math.Tanh(x[b])
			v := net.W[a*n+b] * (1 - t*t)
			if a == b {
				v--
			}
			j.Set(a, b, v)
		}
	}
	return j
}

// A contracting network (spectral radius ≈ 0.3) has one stable fixed point:
// it matches an independent Newton solve, the linear solution
// (I − W)x = W_in ū + b to third order, and its eigenpairs satisfy Jv = λv.
func TestLinearRegime(t *testing.T) {
	const n, m = 12, 2
	rng := rand.New(rand.NewPCG(3, 4))
	net := newNet(t, n, m)
	rnn.InitRecurrent(rng, net.W, n, 0.3, 0)
	rnn.InitUniform(rng, net.Win, 1)
	rnn.InitUniform(rng, net.B, 0.01)
	u := []float64{0.02, -0.01}

	// Independent Newton on F with gonum's dense solve.
	x := make([]float64, n)
	for range 50 {
		f := mat.NewVecDense(n, velocity(net, x, u))
		var d mat.VecDense
		if err := d.SolveVec(jacobian(net, x), f); err != nil {
			t.Fatal(err)
		}
		for i := range x {
			x[i] -= d.AtVec(i)
		}
	}
	// The linear approximation: (I − W) x_lin = W_in ū + b.
	a := mat.NewDense(n, n, nil)
	rhs := mat.NewVecDense(n, nil)
	for i := range n {
		for j := range n {
			a.Set(i, j, -net.W[i*n+j])
		}
		a.Set(i, i, a.At(i, i)+1)
		s := net.B[i]
		for k := range m {
			s += net.Win[i*m+k] * u[k]
		}
		rhs.SetVec(i, s)
	}
	var xl mat.VecDense
	if err := xl.SolveVec(a, rhs); err != nil {
		t.Fatal(err)
	}

	inits := make([][]float64, 20)
	for k := range inits {
		inits[k] = make([]float64, n)
		for i := range n {
			inits[k][i] = rng.NormFloat64()
		}
	}
	res, err := Find(context.Background(), net, u, inits, Settings{Vectors: n})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 1 || len(res.Slow) != 0 {
		t.Fatalf("%d fixed and %d slow points, want 1 and 0", len(res.Fixed), len(res.Slow))
	}
	p := res.Fixed[0]
	if p.Kind != Stable || p.Unstable != 0 || p.Count != len(inits) {
		t.Errorf("kind %s, %d unstable, count %d: want stable, 0, %d", p.Kind, p.Unstable, p.Count, len(inits))
	}
	xmax := 0.0
	for i := range n {
		if d := math.Abs(p.X[i] - x[i]); d > 1e-12 {
			t.Errorf("x[%d] = %.15g, Newton gives %.15g", i, p.X[i], x[i])
		}
		xmax = max(xmax, math.Abs(x[i]))
	}
	// tanh x = x − x³/3 + …: the linear solution is off by O(‖x‖³).
	bound := 10 * xmax * xmax * xmax
	for i := range n {
		if d := math.Abs(p.X[i] - xl.AtVec(i)); d > bound {
			t.Errorf("x[%d] = %g, linear solution %g: differ by %g > %g", i, p.X[i], xl.AtVec(i), d, bound)
		}
	}
	// Eigenpairs of the written-out Jacobian.
	j := jacobian(net, x)
	if len(p.Eigenvectors) != n {
		t.Fatalf("%d eigenvectors, want %d", len(p.Eigenvectors), n)
	}
	for k, v := range p.Eigenvectors {
		lam := p.Eigenvalues[k]
		norm := 0.0
		for a := range n {
			var s complex128
			for b := range n {
				s += complex(j.At(a, b), 0) * v[b]
			}
			if cmplx.Abs(s-lam*v[a]) > 1e-10 {
				t.Errorf("eigenpair %d: (Jv)[%d] = %v, λv = %v", k, a, s, lam*v[a])
			}
			norm += real(v[a] * cmplx.Conj(v[a]))
		}
		if math.Abs(norm-1) > 1e-10 {
			t.Errorf("eigenvector %d has squared norm %v", k, norm)
		}
		if k > 0 && real(p.Eigenvalues[k]) > real(p.Eigenvalues[k-1]) {
			t.Errorf("eigenvalues not sorted by real part: %v", p.Eigenvalues)
		}
		if real(lam) >= 0 {
			t.Errorf("eigenvalue %v of a contracting network", lam)
		}
	}
}

// x' = −x + 2 tanh x + c with c just below −max(2 tanh x − x): the velocity
// almost touches zero at x_m = acosh √2 (a positive local minimum of q,
// q = ε²/2) and has one root on the negative side.
func TestSlowPoint(t *testing.T) {
	const eps = 1e-3
	xm := math.Acosh(math.Sqrt2)
	c := -(2*math.Tanh(xm) - xm) - eps
	net := newNet(t, 1, 1)
	net.W[0] = 2
	net.Win[0] = 1
	u := []float64{c}
	root := bisect(func(x float64) float64 { return -x + 2*math.Tanh(x) + c }, -5, 0)

	var inits [][]float64
	for x := -3.0; x <= 3; x += 0.25 {
		inits = append(inits, []float64{x})
	}
	res, err := Find(context.Background(), net, u, inits, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 1 || len(res.Slow) != 1 {
		t.Fatalf("%d fixed and %d slow points, want 1 and 1", len(res.Fixed), len(res.Slow))
	}
	if f := res.Fixed[0]; math.Abs(f.X[0]-root) > 1e-10 || f.Kind != Stable {
		t.Errorf("fixed point %v (%s), want %v (stable)", f.X[0], f.Kind, root)
	}
	s := res.Slow[0]
	// 1e-9 needs the second-order term of the Hessian: Gauss–Newton alone
	// stalls about 3e-9 away, where J ≈ 0 makes its steps tiny.
	if math.Abs(s.X[0]-xm) > 1e-9 {
		t.Errorf("slow point at %v, want %v", s.X[0], xm)
	}
	if math.Abs(s.Q-eps*eps/2) > 1e-12 || !(s.Q > 1e-12 && s.Q < 1e-4) {
		t.Errorf("slow point q = %g, want %g", s.Q, eps*eps/2)
	}
	// The Jacobian vanishes at the tangency.
	if cmplx.Abs(s.Eigenvalues[0]) > 1e-5 {
		t.Errorf("slow point eigenvalue %v, want ≈ 0", s.Eigenvalues[0])
	}
	// With a tighter TolSlow the slow point is rejected, not promoted.
	res2, err := Find(context.Background(), net, u, inits, Settings{TolSlow: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Fixed) != 1 || len(res2.Slow) != 0 || res2.Rejected == 0 {
		t.Errorf("TolSlow 1e-8: %d fixed, %d slow, %d rejected; want 1, 0, > 0", len(res2.Fixed), len(res2.Slow), res2.Rejected)
	}
}

// Clamped units keep their values, are excluded from the search and act as
// biases: a unit clamped to c on a bistable unit through weight w shifts its
// fixed points to the roots of −x + 2 tanh x + w tanh c.
func TestClamps(t *testing.T) {
	net := newNet(t, 3, 0)
	net.W[0*3+0] = 2
	net.W[0*3+2] = 0.3  // clamped unit 2 drives unit 0
	net.W[2*3+0] = 5    // would move unit 2 if it were free
	net.W[1*3+1] = -0.5 // unit 1 decays to 0
	net.ClampIndex = []int{2}
	net.ClampValue = []float64{-1}
	drive := 0.3 * math.Tanh(-1)
	f := func(x float64) float64 { return -x + 2*math.Tanh(x) + drive }

	inits := grid(3, []float64{-2.5, -0.3, 0.3, 2.5})
	res, err := Find(context.Background(), net, nil, inits, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	var want []float64
	for _, br := range [][2]float64{{-4, -1}, {-1, 0.5}, {0.5, 4}} {
		want = append(want, bisect(f, br[0], br[1]))
	}
	if len(res.Fixed) != 3 {
		t.Fatalf("%d fixed points, want 3", len(res.Fixed))
	}
	var got []float64
	for _, p := range res.Fixed {
		if p.X[2] != -1 {
			t.Errorf("clamped unit at %v, want -1", p.X[2])
		}
		if math.Abs(p.X[1]) > 1e-12 {
			t.Errorf("unit 1 at %v, want 0", p.X[1])
		}
		if len(p.Eigenvalues) != 2 {
			t.Errorf("%d eigenvalues, want 2 (free units only)", len(p.Eigenvalues))
		}
		for _, v := range p.Eigenvectors {
			if v[2] != 0 {
				t.Errorf("eigenvector has %v on the clamped unit", v[2])
			}
		}
		got = append(got, p.X[0])
	}
	slices.Sort(got)
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-10 {
			t.Errorf("unit 0 fixed points %v, want %v", got, want)
			break
		}
	}
}

func randomNetwork(t testing.TB, n int, g float64, seed uint64) (*rnn.Network, [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	net := newNet(t, n, 1)
	rnn.InitRecurrent(rng, net.W, n, g, 0)
	rnn.InitUniform(rng, net.Win, 1)
	x0 := make([]float64, n)
	net.InitState(rng, x0, 1)
	const T = 200
	var tr rnn.Trace
	net.Run(rnn.Dynamics{Dt: 1, Tau: 10}, x0, make([]float64, T), nil, T, &tr)
	inits, err := SampleInits(net, []*rnn.Trace{&tr}, Settings{Inits: 64, Seed: seed, Noise: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	return net, inits
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	net, inits := randomNetwork(t, 30, 1.5, 7)
	var first *Result
	for _, w := range []int{1, 2, 5} {
		res, err := Find(context.Background(), net, []float64{0}, inits, Settings{Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Fixed) == 0 {
			t.Fatal("no fixed points")
		}
		if first == nil {
			first = res
			continue
		}
		if !equalResults(first, res) {
			t.Errorf("Workers=%d gives a different result than Workers=1", w)
		}
	}
}

func equalResults(a, b *Result) bool {
	if a.Inits != b.Inits || a.Rejected != b.Rejected || a.Outliers != b.Outliers ||
		len(a.Fixed) != len(b.Fixed) || len(a.Slow) != len(b.Slow) {
		return false
	}
	eq := func(p, q []Point) bool {
		for k := range p {
			if !slices.Equal(p[k].X, q[k].X) || p[k].Q != q[k].Q || p[k].Count != q[k].Count ||
				p[k].Init != q[k].Init || !slices.Equal(p[k].Eigenvalues, q[k].Eigenvalues) {
				return false
			}
		}
		return true
	}
	return eq(a.Fixed, b.Fixed) && eq(a.Slow, b.Slow)
}

func TestCancel(t *testing.T) {
	net, inits := randomNetwork(t, 30, 1.5, 7)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Find(ctx, net, []float64{0}, inits, Settings{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestSampleInits(t *testing.T) {
	net, _ := randomNetwork(t, 5, 1, 1)
	net.ClampIndex, net.ClampValue = []int{4}, []float64{0.7}
	tr := &rnn.Trace{N: 5, T: 1, X: []float64{1, 1, 1, 1, 1, 2, 2, 2, 2, 2}}
	a, err := SampleInits(net, []*rnn.Trace{tr}, Settings{Inits: 50, Noise: -1, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SampleInits(net, []*rnn.Trace{tr}, Settings{Inits: 50, Noise: -1, Seed: 9})
	rows := map[float64]int{}
	for k, x := range a {
		if !slices.Equal(x, b[k]) {
			t.Fatal("same seed, different draws")
		}
		if x[4] != 0.7 {
			t.Errorf("clamped coordinate %v, want 0.7", x[4])
		}
		if x[0] != 1 && x[0] != 2 || !slices.Equal(x[:4], []float64{x[0], x[0], x[0], x[0]}) {
			t.Fatalf("noise-free draw %v is not a trace row", x)
		}
		rows[x[0]]++
	}
	if rows[1] == 0 || rows[2] == 0 {
		t.Errorf("draws %v: both rows should appear", rows)
	}
	// With noise: x[i] − x[0] (i = 1…3, same trace row) is N(0, 2σ²).
	c, _ := SampleInits(net, []*rnn.Trace{tr}, Settings{Inits: 2000, Noise: 0.5, Seed: 9})
	s2 := 0.0
	for _, x := range c {
		for i := 1; i < 4; i++ {
			d := x[i] - x[0]
			s2 += d * d
		}
	}
	if v := s2 / float64(3*len(c)); math.Abs(v-2*0.25) > 0.05 {
		t.Errorf("variance of coordinate differences %v, want %v", v, 2*0.25)
	}
}

func TestSettingsErrors(t *testing.T) {
	net := newNet(t, 2, 1)
	init := [][]float64{{0, 0}}
	cases := []struct {
		name  string
		net   *rnn.Network
		u     []float64
		inits [][]float64
		s     Settings
	}{
		{"TolQ", net, []float64{0}, init, Settings{TolQ: -1}},
		{"TolSlow", net, []float64{0}, init, Settings{TolQ: 1e-6, TolSlow: 1e-8}},
		{"TolUnique", net, []float64{0}, init, Settings{TolUnique: math.NaN()}},
		{"Workers", net, []float64{0}, init, Settings{Workers: -1}},
		{"input", net, nil, init, Settings{}},
		{"inits", net, []float64{0}, nil, Settings{}},
		{"init length", net, []float64{0}, [][]float64{{0}}, Settings{}},
		{"all clamped", &rnn.Network{N: 1, M: 0, O: 1, W: []float64{0}, Wout: []float64{0}, B: []float64{0},
			ClampIndex: []int{0}, ClampValue: []float64{1}}, nil, [][]float64{{0}}, Settings{}},
	}
	for _, c := range cases {
		if _, err := Find(context.Background(), c.net, c.u, c.inits, c.s); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func BenchmarkFindN200(b *testing.B) {
	const n = 200
	rng := rand.New(rand.NewPCG(1, 2))
	net := newNet(b, n, 1)
	rnn.InitRecurrent(rng, net.W, n, 1.5, 0)
	rnn.InitUniform(rng, net.Win, 1)
	x0 := make([]float64, n)
	net.InitState(rng, x0, 1)
	const T = 500
	var tr rnn.Trace
	net.Run(rnn.Dynamics{Dt: 1, Tau: 10}, x0, make([]float64, T), nil, T, &tr)
	inits, err := SampleInits(net, []*rnn.Trace{&tr}, Settings{Inits: 512, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Find(context.Background(), net, []float64{0}, inits, Settings{})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(res.Fixed)), "fixed")
		b.ReportMetric(float64(len(res.Slow)), "slow")
	}
}

// The outlier rule: a point farther from the centroid of the initial states
// than OutlierScale·max(mean distance, 1) is dropped.
func TestOutliers(t *testing.T) {
	net := newNet(t, 1, 0)
	net.W[0] = 2
	xs := bisect(func(x float64) float64 { return 2*math.Tanh(x) - x }, 1, 3)
	inits := [][]float64{{-1.5}, {1.5}} // centroid 0, mean distance 1.5
	for _, c := range []struct {
		scale           float64
		fixed, outliers int
	}{
		{xs/1.5 - 0.01, 0, 2},
		{xs/1.5 + 0.01, 2, 0},
		{-1, 2, 0},
	} {
		res, err := Find(context.Background(), net, nil, inits, Settings{OutlierScale: c.scale})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Fixed) != c.fixed || res.Outliers != c.outliers {
			t.Errorf("scale %v: %d fixed, %d outliers; want %d, %d", c.scale, len(res.Fixed), res.Outliers, c.fixed, c.outliers)
		}
	}
	// A tight cloud of initial states (mean distance 0.05, the point at
	// 0.165) is measured against distance 1.
	res, err := Find(context.Background(), net, nil, [][]float64{{1.7}, {1.8}}, Settings{OutlierScale: 2.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 1 || res.Outliers != 0 {
		t.Errorf("tight cloud: %d fixed, %d outliers; want 1, 0", len(res.Fixed), res.Outliers)
	}
}

func TestPointJSON(t *testing.T) {
	p := Point{X: []float64{1, -2}, Q: 1e-20, Eigenvalues: []complex128{complex(0.5, 1), complex(0.5, -1)},
		Eigenvectors: [][]complex128{{complex(0.6, 0), complex(0, 0.8)}}, Unstable: 2, Kind: Unstable, Count: 3, Init: 4,
		Deflated: 1, MapUnstable: 2, Henrici: 0.5, HenriciRel: 0.25, ReadoutOverlap: [][]float64{{0.5, 0.5}},
		Response: [][]float64{{1, -2}, {0.5, 3}}}
	b, err := json.Marshal(Result{Fixed: []Point{p}})
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Fixed) != 1 || !reflect.DeepEqual(r.Fixed[0], p) {
		t.Errorf("round trip %s gives %+v, want %+v", b, r.Fixed, p)
	}
	// A measure that could not be computed (NaN) is null and reads back NaN.
	p.Henrici, p.Response = math.NaN(), [][]float64{{math.NaN(), 1}}
	b, err = json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var q Point
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(q.Henrici) || !math.IsNaN(q.Response[0][0]) || q.Response[0][1] != 1 {
		t.Errorf("NaN round trip %s gives %+v", b, q)
	}
}

// Cancelling while the descents run stops them and returns the context's error.
func TestCancelInFlight(t *testing.T) {
	net, _ := randomNetwork(t, 100, 1.5, 3)
	rng := rand.New(rand.NewPCG(8, 8))
	inits := make([][]float64, 400)
	for k := range inits {
		inits[k] = make([]float64, net.N)
		for i := range inits[k] {
			inits[k][i] = 2 * rng.NormFloat64()
		}
	}
	// The full search takes seconds; the deadline falls early in it.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := Find(ctx, net, []float64{0}, inits, Settings{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want context.DeadlineExceeded", err)
	}
}

// FindInputs: a bistable unit with no input has three fixed points; a
// strong input leaves one.
func TestFindInputs(t *testing.T) {
	net := newNet(t, 1, 1)
	net.W[0], net.Win[0] = 2, 1
	var inits [][]float64
	for x := -3.0; x <= 3; x += 0.5 {
		inits = append(inits, []float64{x + 0.1})
	}
	ls, err := FindInputs(context.Background(), net, []tasks.ConstantInput{
		{Name: "none", U: []float64{0}}, {Name: "push", U: []float64{3}}}, inits, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].Input != "none" || len(ls[0].Fixed) != 3 || ls[1].Input != "push" || len(ls[1].Fixed) != 1 {
		t.Fatalf("landscapes %+v: want none with 3 fixed points, push with 1", ls)
	}
	if _, err := FindInputs(context.Background(), net, []tasks.ConstantInput{{Name: "bad", U: []float64{1, 2}}}, inits, Settings{}); err == nil {
		t.Error("input of the wrong length: no error")
	}
}
