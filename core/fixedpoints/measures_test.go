package fixedpoints

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rnn"
)

// eigs returns the eigenvalues of the n×n row-major matrix j.
func eigs(t *testing.T, n int, j []float64) []complex128 {
	t.Helper()
	var e mat.Eigen
	if !e.Factorize(mat.NewDense(n, n, slices.Clone(j)), mat.EigenNone) {
		t.Fatal("eigen-decomposition failed")
	}
	return e.Values(nil)
}

// rotate returns QAQᵀ for a random orthogonal Q (from the QR of a Gaussian
// matrix): a matrix unitarily similar to a, with the same departure from
// normality.
func rotate(n int, a []float64, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 2))
	g := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	var out mat.Dense
	out.Product(&q, mat.NewDense(n, n, slices.Clone(a)), q.T())
	return out.RawMatrix().Data
}

func TestHenrici(t *testing.T) {
	const a = 3.0
	cases := []struct {
		name     string
		n        int
		j        []float64
		dep, rel float64
	}{
		{"symmetric 2x2", 2, []float64{-1, 0.5, 0.5, -2}, 0, 0},
		{"rotation 2x2 (normal, complex)", 2, []float64{-1, -2, 2, -1}, 0, 0},
		{"Jordan-like [[-1,a],[0,-1]]", 2, []float64{-1, a, 0, -1}, a, a / math.Sqrt(2+a*a)},
		{"triangular 3x3", 3, []float64{-1, 1, 2, 0, -2, 2, 0, 0, -3}, 3, 3 / math.Sqrt(14+9)},
		{"rotated triangular 3x3", 3, rotate(3, []float64{-1, 1, 2, 0, -2, 2, 0, 0, -3}, 5), 3, 3 / math.Sqrt(14+9)},
		{"rotated diagonal 3x3 (normal)", 3, rotate(3, []float64{-1, 0, 0, 0, 0.5, 0, 0, 0, 2}, 6), 0, 0},
		{"zero", 2, []float64{0, 0, 0, 0}, 0, 0},
	}
	for _, c := range cases {
		dep, rel := Henrici(c.n, c.j, eigs(t, c.n, c.j))
		// Rounding in Σ|λ|² costs about sqrt(ε)·‖J‖ on a normal matrix.
		if math.Abs(dep-c.dep) > 1e-6 || math.Abs(rel-c.rel) > 1e-6 {
			t.Errorf("%s: dep = %v, rel = %v; want %v, %v", c.name, dep, rel, c.dep, c.rel)
		}
	}
	if dep, rel := Henrici(2, []float64{1, 0, 0, 1}, []complex128{complex(math.NaN(), 0), 1}); !math.IsNaN(dep) || !math.IsNaN(rel) {
		t.Errorf("NaN eigenvalue: %v, %v; want NaN", dep, rel)
	}
}

func TestOverlaps(t *testing.T) {
	s := 1 / math.Sqrt2
	cases := []struct {
		name string
		w    []float64
		vecs [][]complex128
		want []float64
	}{
		// [[−1, 1], [0, −2]]: v = (1, 0) for −1 and (1, −1)/√2 for −2.
		{"triangular", []float64{2, 0}, [][]complex128{{1, 0}, {1, -1}}, []float64{1, s}},
		{"orthogonal", []float64{0, 1}, [][]complex128{{1, 0}}, []float64{0}},
		// Rotation [[−1, −b], [b, −1]]: v = (1, ∓i)/√2.
		{"complex pair", []float64{1, 0}, [][]complex128{{1, -1i}, {1, 1i}}, []float64{s, s}},
		{"complex, w in the plane", []float64{1, 1}, [][]complex128{{1, -1i}}, []float64{s}},
		{"zero readout", []float64{0, 0}, [][]complex128{{1, 0}}, []float64{math.NaN()}},
	}
	for _, c := range cases {
		got := Overlaps(c.w, c.vecs)
		for i := range got {
			if !(math.Abs(got[i]-c.want[i]) < 1e-14) && !(math.IsNaN(got[i]) && math.IsNaN(c.want[i])) {
				t.Errorf("%s: overlaps %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

func TestLinearResponse(t *testing.T) {
	// J = [[−2, 1], [0, −1]]: (−J)⁻¹ = [[1/2, 1/2], [0, 1]].
	r, ok := LinearResponse(2, []float64{-2, 1, 0, -1}, 2, []float64{1, 0, 0, 1})
	if want := []float64{0.5, 0.5, 0, 1}; !ok || !closeTo(r, want, 1e-15) {
		t.Errorf("response %v (ok %v), want %v", r, ok, want)
	}
	r, ok = LinearResponse(2, []float64{0, 0, 0, -1}, 1, []float64{1, 1})
	if ok || !math.IsNaN(r[0]) || !math.IsNaN(r[1]) {
		t.Errorf("singular J: response %v, ok %v; want NaN, false", r, ok)
	}
}

func closeTo(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !(math.Abs(a[i]-b[i]) <= tol) {
			return false
		}
	}
	return true
}

func TestMapUnstable(t *testing.T) {
	cases := []struct {
		eigs  []complex128
		alpha float64
		want  int
	}{
		{[]complex128{0.5, -1}, 0.1, 1},
		// A fast, weakly damped rotation the Euler step overshoots:
		// |1 + 0.5(−0.1 ± 1.5i)| = |0.95 ± 0.75i| ≈ 1.21.
		{[]complex128{complex(-0.1, 1.5), complex(-0.1, -1.5), -1}, 0.5, 2},
		{[]complex128{complex(-0.1, 1.5), complex(-0.1, -1.5), -1}, 0.01, 0},
		{[]complex128{-3}, 1, 1}, // 1 + α·(−3) = −2: the step overshoots a stable node
		{[]complex128{1}, 0, -1},
	}
	for _, c := range cases {
		if got := MapUnstable(c.eigs, c.alpha); got != c.want {
			t.Errorf("MapUnstable(%v, %v) = %d, want %d", c.eigs, c.alpha, got, c.want)
		}
	}
}

func TestChao1(t *testing.T) {
	cases := []struct {
		counts       []int
		est          float64
		obs, f1, f2  int
		wantComplete bool
	}{
		{[]int{3, 2, 5, 2}, 4, 4, 0, 2, true},             // every point found ≥ 2 times: exact
		{[]int{1, 1, 1, 2, 4}, 5 + 9.0/2, 5, 3, 1, false}, // S + f1²/(2 f2)
		{[]int{1, 1, 3, 0}, 3 + 1, 3, 2, 0, false},        // f2 = 0: S + f1(f1−1)/2; zero counts ignored
		{[]int{1}, 1, 1, 1, 0, false},
		{nil, 0, 0, 0, 0, true},
	}
	for _, c := range cases {
		est, obs, f1, f2 := Chao1(c.counts)
		if est != c.est || obs != c.obs || f1 != c.f1 || f2 != c.f2 {
			t.Errorf("Chao1(%v) = %v, %d, %d, %d; want %v, %d, %d, %d", c.counts, est, obs, f1, f2, c.est, c.obs, c.f1, c.f2)
		}
	}
}

// A linear network at its origin: with b = 0 and ū = 0, x = 0 is a fixed
// point where φ' = 1, so J = W − I exactly, and the point's measures have
// closed forms: Henrici's departure of W − I, the readout overlaps with its
// eigenvectors, and the response (I − W)⁻¹ W_in.
func TestMeasuresAtOrigin(t *testing.T) {
	const a = 0.8
	net := newNet(t, 2, 2)
	copy(net.W, []float64{0, a, 0, -1}) // J = [[−1, a], [0, −2]]
	copy(net.Win, []float64{1, 2, -1, 0.5})
	copy(net.Wout, []float64{1, 0})
	res, err := Find(context.Background(), net, []float64{0, 0}, [][]float64{{0.01, -0.02}}, Settings{Workers: 1, Alpha: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 1 {
		t.Fatalf("%d fixed points, want the origin", len(res.Fixed))
	}
	p := res.Fixed[0]
	if math.Abs(p.X[0])+math.Abs(p.X[1]) > 1e-10 {
		t.Fatalf("point %v, want the origin", p.X)
	}
	// Schur form of [[−1, a], [0, −2]] is itself: dep = |a|.
	if math.Abs(p.Henrici-a) > 1e-6 || math.Abs(p.HenriciRel-a/math.Sqrt(1+4+a*a)) > 1e-6 {
		t.Errorf("Henrici %v (rel %v), want %v (%v)", p.Henrici, p.HenriciRel, a, a/math.Sqrt(5+a*a))
	}
	// Eigenvalues −1 (v = (1, 0)), −2 (v ∝ (a, −1)); w = (1, 0).
	want := []float64{1, a / math.Sqrt(1+a*a)}
	if len(p.ReadoutOverlap) != 1 || !closeTo(p.ReadoutOverlap[0], want, 1e-9) {
		t.Errorf("readout overlaps %v, want [%v]", p.ReadoutOverlap, want)
	}
	// (I − W)⁻¹ = [[1, a/2], [0, 1/2]]; W_in columns (1, −1) and (2, 0.5).
	wantR := [][]float64{{1 - a/2, -0.5}, {2 + a/4, 0.25}}
	for k := range 2 {
		if !closeTo(p.Response[k], wantR[k], 1e-9) {
			t.Errorf("response to channel %d: %v, want %v", k, p.Response[k], wantR[k])
		}
	}
	if p.Unstable != 0 || p.MapUnstable != 0 {
		t.Errorf("index %d, map index %d; want 0, 0", p.Unstable, p.MapUnstable)
	}
}

// At a stable point of a nonlinear network, the linear response is the
// derivative of the point's location with respect to the input: checked
// against central differences of the roots found under ū ± ε e_k.
func TestResponseMatchesFiniteDifferences(t *testing.T) {
	net, inits := randomNetwork(t, 12, 1.2, 11)
	net.Win = make([]float64, 12*2)
	net.M = 2
	rng := rand.New(rand.NewPCG(3, 3))
	rnn.InitUniform(rng, net.Win, 1)
	u0 := []float64{0.3, -0.2}
	res, err := Find(context.Background(), net, u0, inits, Settings{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var p *Point
	for k := range res.Fixed {
		if res.Fixed[k].Kind == Stable {
			p = &res.Fixed[k]
			break
		}
	}
	if p == nil {
		t.Fatal("no stable fixed point")
	}
	const eps = 1e-5
	for k := range 2 {
		at := func(s float64) []float64 {
			u := slices.Clone(u0)
			u[k] += s
			r, err := Find(context.Background(), net, u, [][]float64{p.X}, Settings{Workers: 1, TolQ: 1e-20})
			if err != nil || len(r.Fixed) != 1 {
				t.Fatalf("channel %d, shift %v: %v, %d points", k, s, err, len(r.Fixed))
			}
			return r.Fixed[0].X
		}
		plus, minus := at(eps), at(-eps)
		fd := make([]float64, net.N)
		for i := range fd {
			fd[i] = (plus[i] - minus[i]) / (2 * eps)
		}
		if !closeTo(p.Response[k], fd, 1e-6*(1+norm(fd))) {
			t.Errorf("channel %d: response %v, finite differences %v", k, p.Response[k], fd)
		}
	}
}

func norm(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

// A rotation network whose origin is a stable focus of the continuous
// system but, at α = 0.5, unstable for the Euler map: the two indices
// differ by the complex pair.
func TestMapIndexDiffers(t *testing.T) {
	net := newNet(t, 2, 0)
	copy(net.W, []float64{0.9, -1.5, 1.5, 0.9}) // J = W − I: λ = −0.1 ± 1.5i
	res, err := Find(context.Background(), net, nil, [][]float64{{0.01, 0.01}}, Settings{Workers: 1, Alpha: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Fixed) != 1 {
		t.Fatalf("%d fixed points, want the origin", len(res.Fixed))
	}
	p := res.Fixed[0]
	if p.Unstable != 0 || p.MapUnstable != 2 || p.Kind != Stable {
		t.Errorf("index %d, map index %d, kind %s; want 0, 2, stable", p.Unstable, p.MapUnstable, p.Kind)
	}
	// W − I is normal: no departure from normality.
	if p.Henrici > 1e-6 {
		t.Errorf("Henrici %v, want 0", p.Henrici)
	}
}
