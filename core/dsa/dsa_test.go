package dsa_test

import (
	"context"
	"errors"
	"math"
	"math/cmplx"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/dsa"
)

// flow is a 2-D vector field.
type flow func(x, y float64) (dx, dy float64)

// Three attractor structures.
var (
	// lineAttractor: every point of the x axis is a fixed point; y decays.
	lineAttractor flow = func(x, y float64) (float64, float64) { return 0, -y }
	// ring: a stable limit cycle r = 1 rotating at angular speed 2.
	ring flow = func(x, y float64) (float64, float64) {
		r2 := x*x + y*y
		return x*(1-r2) - 2*y, y*(1-r2) + 2*x
	}
	// twoPoints: stable fixed points (±1, 0) and a saddle at the origin.
	twoPoints flow = func(x, y float64) (float64, float64) { return x - x*x*x, -y }
)

// simulate runs f by Euler steps of dt from conditions random initial
// states in [−1.5, 1.5]², for steps steps, and returns per condition the
// states mapped into units dimensions by a random orthonormal embedding
// plus a random offset (the coordinates a network would give).
func simulate(f flow, conditions, steps, units int, rng *rand.Rand) [][]float64 {
	emb := orthonormal(units, rng) // units × units; the first two columns embed the plane
	off := make([]float64, units)
	for i := range off {
		off[i] = rng.NormFloat64()
	}
	const dt = 0.05
	out := make([][]float64, conditions)
	for c := range out {
		x, y := 3*rng.Float64()-1.5, 3*rng.Float64()-1.5
		tr := make([]float64, steps*units)
		for t := range steps {
			for i := range units {
				tr[t*units+i] = emb.At(i, 0)*x + emb.At(i, 1)*y + off[i]
			}
			dx, dy := f(x, y)
			x, y = x+dt*dx, y+dt*dy
		}
		out[c] = tr
	}
	return out
}

// orthonormal returns a Haar-random n × n orthogonal matrix.
func orthonormal(n int, rng *rand.Rand) *mat.Dense {
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
	return &q
}

// transform returns s·Q·x + c for every state of trs.
func transform(trs [][]float64, units int, s float64, rng *rand.Rand) [][]float64 {
	q := orthonormal(units, rng)
	c := make([]float64, units)
	for i := range c {
		c[i] = rng.NormFloat64()
	}
	out := make([][]float64, len(trs))
	for k, tr := range trs {
		o := make([]float64, len(tr))
		for t := 0; t < len(tr); t += units {
			for i := range units {
				v := c[i]
				for j := range units {
					v += s * q.At(i, j) * tr[t+j]
				}
				o[t+i] = v
			}
		}
		out[k] = o
	}
	return out
}

var testSettings = dsa.Settings{Delays: 4, Interval: 2, Rank: 6}

func fit(t testing.TB, trs [][]float64, units int, s dsa.Settings) *dsa.Operator {
	t.Helper()
	op, err := dsa.Fit(trs, units, s)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// A system and a rotated, reflected, scaled and shifted copy have DSA
// distance 0. In exact arithmetic the copy's operator is S A Sᵀ for an
// orthogonal S (its principal delay coordinates are A's up to sign and
// rotation within equal singular values), so the optimum is exactly 0; the
// tolerance covers the rounding of the SVDs (~1e-13 relative) and the
// optimiser's stopping rule (‖Ω‖ ≤ 1e-10‖A‖‖B‖, a cosine error ≲ 1e-15,
// i.e. an angle ≲ 1e-7 since θ ≈ sqrt(2(1 − cos θ))).
func TestRotatedCopy(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    flow
	}{{"line", lineAttractor}, {"ring", ring}, {"two points", twoPoints}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			const units = 5
			x := simulate(tc.f, 6, 80, units, rng)
			y := transform(x, units, 3.5, rng)
			a, b := fit(t, x, units, testSettings), fit(t, y, units, testSettings)
			c, err := dsa.Distance(a, b, dsa.DefaultOptimizer())
			if err != nil {
				t.Fatal(err)
			}
			scale := math.Sqrt(dot(a.A, a.A))
			if c.Angular > 1e-6 || c.Frobenius > 1e-6*scale {
				t.Errorf("rotated copy: angular %.3g, Frobenius %.3g (‖A‖ = %.3g), want ≈ 0", c.Angular, c.Frobenius, scale)
			}
			s, err := dsa.Spectral(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if s > 1e-8 {
				t.Errorf("rotated copy: spectral distance %.3g, want ≈ 0", s)
			}
			if !orthogonal(c.C, a.Rank) {
				t.Errorf("C is not orthogonal: %v", c.C)
			}
		})
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func orthogonal(c []float64, r int) bool {
	for i := range r {
		for j := range r {
			s := 0.0
			for k := range r {
				s += c[i*r+k] * c[j*r+k]
			}
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(s-want) > 1e-10 {
				return false
			}
		}
	}
	return true
}

// Systems with different attractor structure are further apart than
// instances of one structure (different initial states, embeddings and
// coordinates), by both DSA and the spectral distance.
func TestAttractorStructuresSeparate(t *testing.T) {
	systems := []struct {
		name string
		f    flow
	}{{"line", lineAttractor}, {"ring", ring}, {"two points", twoPoints}}
	const units, instances = 4, 3
	var ops []*dsa.Operator
	var labels []int
	rng := rand.New(rand.NewPCG(7, 8))
	for k, sys := range systems {
		for range instances {
			ops = append(ops, fit(t, simulate(sys.f, 8, 100, units, rng), units, testSettings))
			labels = append(labels, k)
		}
	}
	ang, _, err := dsa.DistanceAll(t.Context(), ops, dsa.DefaultOptimizer(), 2)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := dsa.SpectralAll(t.Context(), ops, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		name   string
		d      mat.Symmetric
		margin float64
	}{{"dsa", ang, 2}, {"spectral", spec, 1.2}} {
		maxWithin, minBetween := 0.0, math.Inf(1)
		for i := range ops {
			for j := i + 1; j < len(ops); j++ {
				if labels[i] == labels[j] {
					maxWithin = max(maxWithin, m.d.At(i, j))
				} else {
					minBetween = min(minBetween, m.d.At(i, j))
				}
			}
		}
		t.Logf("%s: max within %.4g, min between %.4g", m.name, maxWithin, minBetween)
		if minBetween <= m.margin*maxWithin {
			t.Errorf("%s: min between-structure distance %.4g is not %.1f× the max within-structure distance %.4g",
				m.name, minBetween, m.margin, maxWithin)
		}
	}
}

// objective is ⟨A, C B Cᵀ⟩ for r × r matrices.
func objective(a, b, c []float64, r int) float64 {
	ca := mat.NewDense(r, r, c)
	var m mat.Dense
	m.Product(ca, mat.NewDense(r, r, b), ca.T())
	return dot(a, m.RawMatrix().Data)
}

func randomMatrix(r int, rng *rand.Rand) []float64 {
	a := make([]float64, r*r)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	return a
}

// For r = 2, Distance agrees with a brute-force search over 20,000
// rotations and as many reflections (grid spacing π·1e-4: the grid optimum
// is within ~(π·1e-4)²·‖A‖‖B‖ ≈ 1e-7‖A‖‖B‖ of the true one).
func TestDistanceMatchesBruteForce2(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 12 {
		a, b := randomMatrix(2, rng), randomMatrix(2, rng)
		if trial%4 == 0 {
			// B a rotated copy of A plus a little noise.
			th := rng.Float64() * 2 * math.Pi
			c := []float64{math.Cos(th), -math.Sin(th), math.Sin(th), math.Cos(th)}
			copy(b, a)
			b = conj(c, b, 2)
			for i := range b {
				b[i] += 0.01 * rng.NormFloat64()
			}
		}
		best := math.Inf(-1)
		const grid = 20000
		for k := range grid {
			th := 2 * math.Pi * float64(k) / grid
			cs, sn := math.Cos(th), math.Sin(th)
			best = max(best,
				objective(a, b, []float64{cs, -sn, sn, cs}, 2),
				objective(a, b, []float64{cs, sn, sn, -cs}, 2))
		}
		got, err := dsa.DistanceMatrices(a, b, 2, dsa.DefaultOptimizer())
		if err != nil {
			t.Fatal(err)
		}
		f := objective(a, b, got.C, 2)
		scale := math.Sqrt(dot(a, a) * dot(b, b))
		if f < best-1e-12*scale || f-best > 1e-7*scale {
			t.Errorf("trial %d: optimiser reaches %.12g, brute force %.12g", trial, f, best)
		}
		want := math.Acos(max(-1, min(1, best/scale)))
		if math.Abs(got.Angular-want) > 1e-4 {
			t.Errorf("trial %d: angular %.8g, brute force %.8g", trial, got.Angular, want)
		}
	}
}

// conj returns C B Cᵀ.
func conj(c, b []float64, r int) []float64 {
	cm := mat.NewDense(r, r, c)
	var m mat.Dense
	m.Product(cm, mat.NewDense(r, r, b), cm.T())
	return m.RawMatrix().Data
}

// rot3 is the ZYZ Euler rotation.
func rot3(a, b, g float64) []float64 {
	rz := func(t float64) *mat.Dense {
		return mat.NewDense(3, 3, []float64{math.Cos(t), -math.Sin(t), 0, math.Sin(t), math.Cos(t), 0, 0, 0, 1})
	}
	ry := mat.NewDense(3, 3, []float64{math.Cos(b), 0, math.Sin(b), 0, 1, 0, -math.Sin(b), 0, math.Cos(b)})
	var m mat.Dense
	m.Product(rz(a), ry, rz(g))
	return m.RawMatrix().Data
}

// For r = 3, Distance is at least as good as a brute-force grid over O(3)
// (ZYZ Euler angles at 5° spacing, both components) and not better than
// the grid optimum by more than the grid's resolution allows.
func TestDistanceMatchesBruteForce3(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for trial := range 3 {
		a, b := randomMatrix(3, rng), randomMatrix(3, rng)
		best := math.Inf(-1)
		const step = 5 * math.Pi / 180
		for al := 0.0; al < 2*math.Pi; al += step {
			for be := 0.0; be <= math.Pi; be += step {
				for ga := 0.0; ga < 2*math.Pi; ga += step {
					c := rot3(al, be, ga)
					best = max(best, objective(a, b, c, 3))
					for i := range c {
						c[i] = -c[i] // −C: the other component (det −1)
					}
					best = max(best, objective(a, b, c, 3))
				}
			}
		}
		got, err := dsa.DistanceMatrices(a, b, 3, dsa.DefaultOptimizer())
		if err != nil {
			t.Fatal(err)
		}
		f := objective(a, b, got.C, 3)
		scale := math.Sqrt(dot(a, a) * dot(b, b))
		// A 5° grid misses the optimum by at most ~2(2.5°·√3)²‖A‖‖B‖ ≈ 0.011‖A‖‖B‖.
		if f < best-1e-12*scale || f-best > 0.012*scale {
			t.Errorf("trial %d: optimiser reaches %.8g, grid %.8g (scale %.3g)", trial, f, best, scale)
		}
	}
}

// The answer is the same on every call, and all-pairs matrices do not
// depend on the number of workers.
func TestDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var ops []*dsa.Operator
	for range 5 {
		ops = append(ops, fit(t, simulate(ring, 4, 60, 3, rng), 3, testSettings))
	}
	a1, f1, err := dsa.DistanceAll(t.Context(), ops, dsa.DefaultOptimizer(), 1)
	if err != nil {
		t.Fatal(err)
	}
	a3, f3, err := dsa.DistanceAll(t.Context(), ops, dsa.DefaultOptimizer(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.Equal(a1, a3) || !mat.Equal(f1, f3) {
		t.Error("DistanceAll depends on the number of workers")
	}
	s1, _ := dsa.SpectralAll(t.Context(), ops, 1)
	s3, _ := dsa.SpectralAll(t.Context(), ops, 3)
	if !mat.Equal(s1, s3) {
		t.Error("SpectralAll depends on the number of workers")
	}
}

func randomSet(n int, rng *rand.Rand) []complex128 {
	s := make([]complex128, n)
	for i := range s {
		s[i] = complex(rng.NormFloat64(), rng.NormFloat64())
	}
	return s
}

// bruteSpectral minimises the mean matched distance over all permutations.
func bruteSpectral(x, y []complex128) float64 {
	n := len(x)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	best := math.Inf(1)
	var rec func(k int)
	rec = func(k int) {
		if k == n {
			s := 0.0
			for i, j := range perm {
				s += cmplx.Abs(x[i] - y[j])
			}
			best = min(best, s/float64(n))
			return
		}
		for i := k; i < n; i++ {
			perm[k], perm[i] = perm[i], perm[k]
			rec(k + 1)
			perm[k], perm[i] = perm[i], perm[k]
		}
	}
	rec(0)
	return best
}

// The spectral distance is the exact optimal matching, symmetric, zero on
// identical (reordered) sets, and obeys the triangle inequality.
func TestSpectralProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 200 {
		n := 1 + trial%7
		x, y, z := randomSet(n, rng), randomSet(n, rng), randomSet(n, rng)
		dxy, _ := dsa.SpectralSets(x, y)
		dyx, _ := dsa.SpectralSets(y, x)
		dxz, _ := dsa.SpectralSets(x, z)
		dzy, _ := dsa.SpectralSets(z, y)
		if dxy != dyx && math.Abs(dxy-dyx) > 1e-12 {
			t.Errorf("not symmetric: %v vs %v", dxy, dyx)
		}
		if dxy > dxz+dzy+1e-12 {
			t.Errorf("triangle inequality fails: d(x,y) = %v > d(x,z) + d(z,y) = %v", dxy, dxz+dzy)
		}
		if want := bruteSpectral(x, y); math.Abs(dxy-want) > 1e-12 {
			t.Errorf("n = %d: Hungarian %v, brute force %v", n, dxy, want)
		}
		shuffled := append([]complex128(nil), x...)
		rng.Shuffle(n, func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if d, _ := dsa.SpectralSets(x, shuffled); d != 0 {
			t.Errorf("reordered copy: distance %v, want 0", d)
		}
	}
	if _, err := dsa.SpectralSets(randomSet(3, rng), randomSet(4, rng)); err == nil {
		t.Error("sets of different sizes: no error")
	}
}

// Bad settings fail with one line naming the field and the fix.
func TestSettingsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trs := simulate(ring, 2, 20, 3, rng) // T = 20, 3 units
	for _, tc := range []struct {
		name string
		s    dsa.Settings
		want []string
	}{
		{"no delays", dsa.Settings{Delays: 0, Interval: 1, Rank: 2}, []string{"n_delays = 0", "at least 1"}},
		{"no interval", dsa.Settings{Delays: 2, Interval: 0, Rank: 2}, []string{"delay_interval = 0"}},
		{"no rank", dsa.Settings{Delays: 2, Interval: 1, Rank: 0}, []string{"rank = 0"}},
		{"delay > trial", dsa.Settings{Delays: 10, Interval: 3, Rank: 2}, []string{"n_delays = 10", "delay_interval = 3", "trials have 20", "lower n_delays or delay_interval"}},
		{"rank > dimension", dsa.Settings{Delays: 2, Interval: 1, Rank: 7}, []string{"rank = 7", "embedding dimension", "2 × 3 = 6", "lower rank or raise n_delays"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := dsa.Fit(trs, 3, tc.s)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
	// The largest valid span fits: (n_delays−1)·interval = T − 2.
	if _, err := dsa.Fit(trs, 3, dsa.Settings{Delays: 10, Interval: 2, Rank: 2}); err != nil {
		t.Errorf("span T−1: %v", err)
	}
}

// A linear system's operator is recovered: without delays and at full
// rank, the eigenvalues are those of the map x ↦ Mx.
func TestFitLinearSystem(t *testing.T) {
	m := []float64{0.9, -0.3, 0.2, 0.3, 0.9, 0, 0, 0.1, 0.5}
	rng := rand.New(rand.NewPCG(2, 3))
	var trs [][]float64
	for range 5 {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		var tr []float64
		for range 30 {
			tr = append(tr, x...)
			y := make([]float64, 3)
			for i := range 3 {
				for j := range 3 {
					y[i] += m[i*3+j] * x[j]
				}
			}
			x = y
		}
		trs = append(trs, tr)
	}
	// The affine fit recovers M exactly from the centred coordinates.
	op := fit(t, trs, 3, dsa.Settings{Delays: 1, Interval: 1, Rank: 3})
	var e mat.Eigen
	e.Factorize(mat.NewDense(3, 3, m), mat.EigenNone)
	want := e.Values(nil)
	dsa.SortEigen(want)
	d, err := dsa.SpectralSets(op.Eigen, want)
	if err != nil {
		t.Fatal(err)
	}
	if d > 1e-9 {
		t.Errorf("eigenvalues %v, want ≈ %v (distance %v)", op.Eigen, want, d)
	}
	if op.R2 < 1-1e-12 {
		t.Errorf("R² = %v, want ≈ 1", op.R2)
	}
}

// A cancelled context stops the all-pairs computations with its error;
// operators of different ranks are refused.
func TestAllPairsErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var ops []*dsa.Operator
	for range 3 {
		ops = append(ops, fit(t, simulate(ring, 4, 60, 3, rng), 3, testSettings))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := dsa.DistanceAll(ctx, ops, dsa.DefaultOptimizer(), 1); !errors.Is(err, context.Canceled) {
		t.Errorf("DistanceAll after cancel: %v, want context.Canceled", err)
	}
	if _, err := dsa.SpectralAll(ctx, ops, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("SpectralAll after cancel: %v, want context.Canceled", err)
	}
	other := fit(t, simulate(ring, 4, 60, 3, rng), 3, dsa.Settings{Delays: 4, Interval: 2, Rank: 5})
	_, _, err := dsa.DistanceAll(t.Context(), append(ops, other), dsa.DefaultOptimizer(), 1)
	if err == nil || !strings.Contains(err.Error(), "operator 3 has rank 5, operator 0 has 6") {
		t.Errorf("mixed ranks: %v", err)
	}
	if _, err := dsa.Distance(ops[0], other, dsa.DefaultOptimizer()); err == nil || !strings.Contains(err.Error(), "same rank") {
		t.Errorf("Distance of ranks 6 and 5: %v", err)
	}
	if _, err := dsa.Distance(ops[0], ops[1], dsa.Optimizer{Restarts: 0, Iterations: 5}); err == nil || !strings.Contains(err.Error(), "restarts = 0") {
		t.Errorf("no restarts: %v", err)
	}
}
