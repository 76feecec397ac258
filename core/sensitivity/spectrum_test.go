package sensitivity

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
)

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func outer(a, b []float64, s float64) []float64 {
	m := make([]float64, len(a)*len(b))
	for i := range a {
		for j := range b {
			m[i*len(b)+j] = s * a[i] * b[j]
		}
	}
	return m
}

func TestSpectrumRankOne(t *testing.T) {
	const n = 7
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := randVec(rng, n), randVec(rng, n)
	m := outer(a, b, -2.5)
	s, err := Spectrum(m, n)
	if err != nil {
		t.Fatal(err)
	}
	want := 2.5 * Norm(a) * Norm(b)
	if math.Abs(s.Values[0]-want) > 1e-12*want {
		t.Errorf("σ₁ = %v, want 2.5‖a‖‖b‖ = %v", s.Values[0], want)
	}
	for k, v := range s.Values[1:] {
		if v > 1e-12*want {
			t.Errorf("σ_%d = %v, want 0 for a rank-one matrix", k+2, v)
		}
	}
	// u₁ = ±a/‖a‖, v₁ = ∓b/‖b‖ (the sign of −2.5), v₁'s largest entry positive.
	u, v := s.Left(0), s.Right(0)
	sa := math.Copysign(1, u[0]*a[0])
	for i := range n {
		if d := math.Abs(u[i] - sa*a[i]/Norm(a)); d > 1e-12 {
			t.Errorf("u₁[%d] = %v, want %v", i, u[i], sa*a[i]/Norm(a))
		}
		if d := math.Abs(v[i] + sa*b[i]/Norm(b)); d > 1e-12 {
			t.Errorf("v₁[%d] = %v, want %v", i, v[i], -sa*b[i]/Norm(b))
		}
	}
	big := 0
	for i := range v {
		if math.Abs(v[i]) > math.Abs(v[big]) {
			big = i
		}
	}
	if v[big] < 0 {
		t.Errorf("largest entry of v₁ is %v: the sign convention makes it positive", v[big])
	}
	// Direction(0) = u₁v₁ᵀ reproduces M/σ₁ and has unit norm.
	d := s.Direction(0)
	if e := relErr(d, outer(a, b, -1/(Norm(a)*Norm(b)))); e > 1e-12 {
		t.Errorf("Direction(0) differs from M/σ₁ by %.3g", e)
	}
}

// Spectrum of a full-rank matrix reconstructs it, with sorted values and
// orthonormal singular vectors.
func TestSpectrumReconstructs(t *testing.T) {
	const n = 6
	rng := rand.New(rand.NewPCG(3, 4))
	m := randVec(rng, n*n)
	s, err := Spectrum(m, n)
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]float64, n*n)
	for k := range n {
		for i, v := range s.Direction(k) {
			rec[i] += s.Values[k] * v
		}
		if k > 0 && s.Values[k] > s.Values[k-1] {
			t.Errorf("σ not sorted: %v", s.Values)
		}
		for l := range n {
			var uu, vv float64
			for i := range n {
				uu += s.U[i*n+k] * s.U[i*n+l]
				vv += s.V[i*n+k] * s.V[i*n+l]
			}
			want := 0.0
			if k == l {
				want = 1
			}
			if math.Abs(uu-want) > 1e-12 || math.Abs(vv-want) > 1e-12 {
				t.Errorf("u_%d·u_%d = %v, v_%d·v_%d = %v, want %v", k, l, uu, k, l, vv, want)
			}
		}
	}
	if e := relErr(rec, m); e > 1e-13 {
		t.Errorf("Σ σ_k u_k v_kᵀ differs from M by %.3g", e)
	}
	for _, bad := range [][]float64{nil, m[:5], append(append([]float64(nil), m[:n*n-1]...), math.NaN())} {
		if _, err := Spectrum(bad, n); err == nil {
			t.Errorf("Spectrum accepted %d values with a NaN or the wrong size", len(bad))
		}
	}
}

func TestAlignment(t *testing.T) {
	const n = 5
	rng := rand.New(rand.NewPCG(5, 6))
	g := randVec(rng, n*n)
	// orth: a random matrix with its component along g removed.
	orth := randVec(rng, n*n)
	var dot, gg float64
	for i := range g {
		dot += g[i] * orth[i]
		gg += g[i] * g[i]
	}
	for i := range orth {
		orth[i] -= dot / gg * g[i]
	}
	other := randVec(rng, n*n)
	scaled := make([]float64, n*n)
	for i := range other {
		scaled[i] = 37.5 * other[i]
	}
	ref, err := Alignment(g, other)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		dw   []float64
		want float64
	}{
		{"same", g, 1},
		{"opposite", outerScale(g, -3), -1},
		{"orthogonal", orth, 0},
		{"scaled", scaled, ref},
	}
	for _, c := range cases {
		got, err := Alignment(g, c.dw)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-14 {
			t.Errorf("%s: alignment %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := Alignment(g, make([]float64, n*n)); err == nil {
		t.Error("Alignment with a zero ΔW: no error")
	}
	if _, err := Alignment(g, g[:3]); err == nil {
		t.Error("Alignment of different sizes: no error")
	}
}

func outerScale(a []float64, s float64) []float64 {
	b := make([]float64, len(a))
	for i, v := range a {
		b[i] = s * v
	}
	return b
}

func TestTopFraction(t *testing.T) {
	const n = 6
	rng := rand.New(rand.NewPCG(7, 8))
	s, err := Spectrum(randVec(rng, n*n), n)
	if err != nil {
		t.Fatal(err)
	}
	mix := make([]float64, n*n) // 3 parts u₁v₁ᵀ, 4 parts u₃v₂ᵀ: ‖·‖² = 9 + 16
	for i := range n {
		for j := range n {
			mix[i*n+j] = 3*s.U[i*n]*s.V[j*n] + 4*s.U[i*n+2]*s.V[j*n+1]
		}
	}
	cases := []struct {
		name string
		dw   []float64
		k    int
		want float64
	}{
		{"top direction", s.Direction(0), 1, 1},
		{"second direction, k=1", s.Direction(1), 1, 0},
		{"second direction, k=2", s.Direction(1), 2, 1},
		{"u₁v₂ᵀ, k=2", outer(s.Left(0), s.Right(1), 2), 2, 1},
		{"mix, k=1", mix, 1, 9.0 / 25},
		{"mix, k=2", mix, 2, 9.0 / 25},
		{"mix, k=3", mix, 3, 1},
		{"anything, k=N", randVec(rng, n*n), n, 1},
	}
	for _, c := range cases {
		got, err := s.TopFraction(c.dw, c.k)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: fraction %v, want %v", c.name, got, c.want)
		}
	}
	for _, k := range []int{0, n + 1} {
		if _, err := s.TopFraction(mix, k); err == nil {
			t.Errorf("k = %d: no error", k)
		}
	}
	if _, err := s.TopFraction(make([]float64, n*n), 1); err == nil {
		t.Error("zero ΔW: no error")
	}
}

// PerturbationEffect: along the top singular direction S changes by εσ₁ to
// first order (the error shrinks like ε²), and by more than along random
// directions of the same norm.
func TestPerturbationEffect(t *testing.T) {
	net := smallNet(t, 21, 12, 1.3)
	b := randomBatch(net, 22, 6, 40, rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.3})
	ctx := context.Background()
	s0, g, err := Gradient(ctx, net, b, plasticity.LossMSE)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := Spectrum(g, net.N)
	if err != nil {
		t.Fatal(err)
	}
	sigma := spec.Values[0]
	dir := spec.Direction(0)
	var prev float64
	for k, eps := range []float64{1e-2, 5e-3, 2.5e-3} {
		eff, err := PerturbationEffect(ctx, net, b, plasticity.LossMSE, dir, eps, rand.New(rand.NewPCG(1, 1)))
		if err != nil {
			t.Fatal(err)
		}
		if eff.S != s0 || eff.Eps != eps {
			t.Fatalf("Effect S = %v, ε = %v, want %v, %v", eff.S, eff.Eps, s0, eps)
		}
		resid := math.Abs(eff.Along.DeltaS - eps*sigma)
		t.Logf("ε = %g: ΔS = %.6g, εσ₁ = %.6g, residual %.3g", eps, eff.Along.DeltaS, eps*sigma, resid)
		if resid > 0.05*eps*sigma {
			t.Errorf("ε = %g: ΔS = %v, εσ₁ = %v: not first-order close", eps, eff.Along.DeltaS, eps*sigma)
		}
		if k > 0 {
			if r := prev / resid; r < 3 || r > 5 {
				t.Errorf("halving ε divided the residual by %.3g, want ≈ 4 (second order)", r)
			}
		}
		prev = resid
	}

	const eps, seeds = 1e-2, 20
	var randDS, randDist float64
	var top *Effect
	for seed := range uint64(seeds) {
		eff, err := PerturbationEffect(ctx, net, b, plasticity.LossMSE, dir, eps, rand.New(rand.NewPCG(seed, 99)))
		if err != nil {
			t.Fatal(err)
		}
		randDS += math.Abs(eff.Random.DeltaS) / seeds
		randDist += eff.Random.Distance / seeds
		top = eff
	}
	t.Logf("top: |ΔS| = %.3g, distance %.3g (relative %.3g); random mean: |ΔS| = %.3g, distance %.3g",
		top.Along.DeltaS, top.Along.Distance, top.Along.Relative, randDS, randDist)
	if !(top.Along.DeltaS > 2*randDS) {
		t.Errorf("ΔS along the top direction %v is not more than twice the mean |ΔS| along random ones %v", top.Along.DeltaS, randDS)
	}
	if !(top.Along.Distance > randDist && top.Along.Relative > 0) {
		t.Errorf("trajectories moved by %v along the top direction, %v on average along random ones: want more along the top one",
			top.Along.Distance, randDist)
	}
}

// Distance is checked against a written-out computation for a single
// perturbed entry.
func TestPerturbationDistance(t *testing.T) {
	net := smallNet(t, 31, 6, 1)
	b := randomBatch(net, 32, 5, 15, rnn.Perturbation{})
	dir := make([]float64, 36)
	dir[4*6+5] = -2 // normalised to −1 inside
	eff, err := PerturbationEffect(context.Background(), net, b, plasticity.LossAbs, dir, 0.3, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	p := net.Clone()
	p.W[4*6+5] -= 0.3
	// Condition means by hand: conditions h%3 of 5 trials.
	mean := func(nt *rnn.Network, c int) []float64 {
		var tr rnn.Trace
		m := make([]float64, 15*6)
		k := 0
		for _, it := range b.Items {
			if it.Trial.Condition != c {
				continue
			}
			nt.Run(b.Dyn, it.X0, it.Trial.U, it.Xi, 15, &tr)
			for i := range m {
				m[i] += tr.R[6+i]
			}
			k++
		}
		for i := range m {
			m[i] /= float64(k)
		}
		return m
	}
	var d, ref float64
	for c := range 3 {
		a, q := mean(net, c), mean(p, c)
		for i := range a {
			d += (q[i] - a[i]) * (q[i] - a[i])
			ref += a[i] * a[i]
		}
	}
	d /= 3 * 15 * 6
	ref /= 3 * 15 * 6
	if math.Abs(eff.Along.Distance-d) > 1e-15 || math.Abs(eff.Along.Relative-d/ref) > 1e-13 {
		t.Errorf("distance %v, relative %v; by hand %v, %v", eff.Along.Distance, eff.Along.Relative, d, d/ref)
	}
	sp, err := Score(context.Background(), p, b, plasticity.LossAbs)
	if err != nil {
		t.Fatal(err)
	}
	if eff.Along.DeltaS != sp-eff.S {
		t.Errorf("ΔS = %v, direct %v", eff.Along.DeltaS, sp-eff.S)
	}
	for _, c := range []struct {
		name string
		dir  []float64
		eps  float64
	}{{"zero direction", make([]float64, 36), 0.1}, {"short", dir[:5], 0.1}, {"eps", dir, 0}} {
		if _, err := PerturbationEffect(context.Background(), net, b, "", c.dir, c.eps, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
