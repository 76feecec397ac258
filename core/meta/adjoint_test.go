package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"testing"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
)

// agree checks an adjoint result against a forward-mode one: J and the
// rewards bit for bit (both run the same learner), the gradient to tol
// relative norm-wise and per coordinate.
func agree(t *testing.T, adj, fwd *Result, tol float64) {
	t.Helper()
	if adj.J != fwd.J {
		t.Errorf("J = %.17g, forward mode %.17g", adj.J, fwd.J)
	}
	for h := range fwd.Rewards {
		if adj.Rewards[h] != fwd.Rewards[h] {
			t.Errorf("reward[%d] = %.17g, forward mode %.17g", h, adj.Rewards[h], fwd.Rewards[h])
		}
	}
	if len(adj.Grad) != len(fwd.Grad) {
		t.Fatalf("len(grad) = %d, forward mode %d", len(adj.Grad), len(fwd.Grad))
	}
	rel := RelError(adj.Grad, fwd.Grad)
	if rel > tol || math.IsNaN(rel) {
		t.Errorf("relative error %.3g > %.0g\n  adjoint %v\n  forward %v", rel, tol, adj.Grad, fwd.Grad)
	}
	var norm float64
	for _, v := range fwd.Grad {
		norm += v * v
	}
	norm = math.Sqrt(norm)
	if norm == 0 {
		t.Fatal("gradient is zero: the case tests nothing")
	}
	// Per coordinate: relative to the coordinate where it is at least 1e-3
	// of the norm, relative to the norm below that (where the coordinate is
	// mostly cancellation).
	for i := range fwd.Grad {
		d := math.Abs(adj.Grad[i] - fwd.Grad[i])
		scale := math.Abs(fwd.Grad[i])
		if scale < 1e-3*norm {
			scale = norm
		}
		if d > tol*scale {
			t.Errorf("grad[%d] = %.15g, forward mode %.15g (rel %.2g, ‖g‖ %.3g)", i, adj.Grad[i], fwd.Grad[i], d/scale, norm)
		}
	}
	t.Logf("rel error %.2g, ‖g‖ = %.3g", rel, norm)
}

// TestAdjointGolden checks the adjoint against forward mode (to 1e-10) and
// against the independently computed expected gradients (to 1e-9) on the
// three golden cases, with and without log η.
func TestAdjointGolden(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"plain", "options", "shapes"} {
		for _, logEta := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				c := readCaseFile(t, filepath.Join("testdata", "case-"+name+".json"))
				p, rule, err := FromCase(c)
				if err != nil {
					t.Fatal(err)
				}
				opts := Options{LogEta: logEta}
				adj, err := Adjoint(ctx, p, rule, opts)
				if err != nil {
					t.Fatal(err)
				}
				fwd, err := Gradient(ctx, p, rule, opts)
				if err != nil {
					t.Fatal(err)
				}
				agree(t, adj, fwd, 1e-10)
			})
		}
	}
}

// TestAdjointMatchesForward checks the adjoint against forward mode on
// every option case (each option of docs/MODEL.md §1–3 on in turn, a partly
// active clip, log η, everything at once), and against central differences.
func TestAdjointMatchesForward(t *testing.T) {
	ctx := context.Background()
	for _, tc := range optionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, rule, err := FromCase(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if tc.c.Clip > 0 {
				k := inspect(t, p, rule)
				if k.clipped == 0 || k.clipped == k.entries {
					t.Fatalf("clip %.3g: %d of %d entries clip, want some but not all", tc.c.Clip, k.clipped, k.entries)
				}
				t.Logf("clip: %d of %d entries clip", k.clipped, k.entries)
			}
			opts := Options{LogEta: tc.logEta}
			adj, err := Adjoint(ctx, p, rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			fwd, err := Gradient(ctx, p, rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			agree(t, adj, fwd, 1e-10)
			fd, err := FiniteDifference(ctx, p, rule, 1e-6, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rel := RelError(adj.Grad, fd.Grad); rel > 1e-6 || math.IsNaN(rel) {
				t.Errorf("adjoint vs central differences: relative error %.3g > 1e-6\n  adjoint %v\n  fd      %v", rel, adj.Grad, fd.Grad)
			}
		})
	}
}

// TestAdjointSpecialRules covers rules with zero columns of Θ (the products
// skip them but their gradient must not be zero), the zero rule, K = 0 and
// L = 0, and a warm-up as long as the horizon.
func TestAdjointSpecialRules(t *testing.T) {
	ctx := context.Background()
	with := func(f func(*caseOpts)) caseOpts {
		o := defaultOpts()
		f(&o)
		return o
	}
	for _, tc := range []struct {
		name string
		o    caseOpts
		set  func(c *Case)
	}{
		{"miconi point", defaultOpts(), func(c *Case) {
			for k := range c.Theta {
				clear(c.Theta[k])
			}
			c.Theta[3][3] = -1
		}},
		{"zero rule", defaultOpts(), func(c *Case) {
			for k := range c.Theta {
				clear(c.Theta[k])
			}
		}},
		{"K=0", with(func(o *caseOpts) { o.K = 0 }), nil},
		{"ragged T and an empty mask", with(func(o *caseOpts) { o.gate = true }), func(c *Case) {
			clear(c.Trials[2].Mask)
			tr := &c.Trials[4]
			tr.U, tr.Xi, tr.Target, tr.Mask, tr.Gate = tr.U[:9], tr.Xi[:9], tr.Target[:9], tr.Mask[:9], tr.Gate[:9]
		}},
		{"L=0", with(func(o *caseOpts) { o.L = 0; o.K = 2 }), nil},
		{"clip with zero column", with(func(o *caseOpts) { o.eta = 0.5 }), func(c *Case) {
			for k := range c.Theta {
				c.Theta[k][0] = 0
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := randomCase(21, tc.o)
			if tc.set != nil {
				tc.set(c)
			}
			if tc.name == "clip with zero column" {
				c.Clip = 1.05 * clipQuantile(t, c, 0.4)
			}
			p, rule, err := FromCase(c)
			if err != nil {
				t.Fatal(err)
			}
			if c.Clip > 0 {
				if k := inspect(t, p, rule); k.clipped == 0 || k.clipped == k.entries {
					t.Fatalf("clip %.3g: %d of %d entries clip, want some but not all", c.Clip, k.clipped, k.entries)
				}
			}
			for _, logEta := range []bool{false, true} {
				opts := Options{LogEta: logEta}
				adj, err := Adjoint(ctx, p, rule, opts)
				if err != nil {
					t.Fatal(err)
				}
				fwd, err := Gradient(ctx, p, rule, opts)
				if err != nil {
					t.Fatal(err)
				}
				agree(t, adj, fwd, 1e-10)
			}
		})
	}
	t.Run("warm-up covers the horizon", func(t *testing.T) {
		c := randomCase(22, with(func(o *caseOpts) { o.warmup = 7 }))
		p, rule, err := FromCase(c)
		if err != nil {
			t.Fatal(err)
		}
		adj, err := Adjoint(ctx, p, rule, Options{LogEta: true})
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range adj.Grad {
			if g != 0 {
				t.Errorf("grad[%d] = %v, want 0: no trial learns", i, g)
			}
		}
	})
}

// TestAdjointMemory checks that what the adjoint stores does not grow with
// H·T·N: the checkpoints are (H−1)·N² floats, the episode cache is bounded
// by its budget, and the per-trial scratch by O(T·N·(K+L) + N²). With a
// budget of one checkpoint's floats it re-runs the episode generator
// block by block and still gives the same gradient.
func TestAdjointMemory(t *testing.T) {
	ctx := context.Background()
	const n, K, L = 6, 3, 3
	seen := map[int]adjointStats{} // by T, the stats at the previous H
	for _, sz := range []struct{ T, H int }{{20, 10}, {80, 10}, {20, 80}, {80, 80}} {
		o := defaultOpts()
		o.n, o.T, o.H, o.eta = n, sz.T, sz.H, 0.01
		p, rule, err := FromCase(randomCase(31, o))
		if err != nil {
			t.Fatal(err)
		}
		var def, small adjointStats
		a, err := adjoint(ctx, p, rule, Options{}, adjointSettings{}, &def)
		if err != nil {
			t.Fatal(err)
		}
		b, err := adjoint(ctx, p, rule, Options{}, adjointSettings{cacheFloats: n * n}, &small)
		if err != nil {
			t.Fatal(err)
		}
		for i := range a.Grad {
			if a.Grad[i] != b.Grad[i] {
				t.Errorf("T=%d H=%d: grad[%d] = %v with a small cache, %v with the default", sz.T, sz.H, i, b.Grad[i], a.Grad[i])
			}
		}
		if def.passes != 1 {
			t.Errorf("T=%d H=%d: the default cache ran the generator %d times, want 1", sz.T, sz.H, def.passes)
		}
		if small.passes < sz.H/2 {
			t.Errorf("T=%d H=%d: a one-episode cache ran the generator only %d times", sz.T, sz.H, small.passes)
		}
		if want := (sz.H - 1) * n * n; small.checkpointFloats != want {
			t.Errorf("T=%d H=%d: %d checkpoint floats, want (H−1)·N² = %d", sz.T, sz.H, small.checkpointFloats, want)
		}
		ep := sz.T*(o.m+n+o.o+1) + n // one episode's floats (no gate)
		if small.cacheFloats > ep {
			t.Errorf("T=%d H=%d: cache held %d floats, more than one episode (%d)", sz.T, sz.H, small.cacheFloats, ep)
		}
		// Per-trial scratch: O((T+1)·N·(K+L+c) + N²), not O(H·T·N).
		bound := (sz.T+1)*n*(2*(K+L)+12) + 10*n*n + 2*chunkSteps*n
		if small.scratchFloats > bound {
			t.Errorf("T=%d H=%d: scratch %d floats > bound %d", sz.T, sz.H, small.scratchFloats, bound)
		}
		total := small.checkpointFloats + small.cacheFloats + small.scratchFloats
		if all := sz.H * sz.T * n; sz.H >= 80 && sz.T >= 80 && 2*total >= all {
			t.Errorf("T=%d H=%d: stores %d floats, not less than half the H·T·N = %d of the whole trajectory", sz.T, sz.H, total, all)
		}
		if prev, ok := seen[sz.T]; ok && (prev.scratchFloats != small.scratchFloats || prev.cacheFloats != small.cacheFloats) {
			t.Errorf("T=%d: scratch and cache grow with H: %d and %d floats at the smaller H, %d and %d at H=%d",
				sz.T, prev.scratchFloats, prev.cacheFloats, small.scratchFloats, small.cacheFloats, sz.H)
		}
		seen[sz.T] = small
		t.Logf("T=%d H=%d: checkpoints %d, cache %d (default %d), scratch %d floats; H·T·N = %d; passes %d",
			sz.T, sz.H, small.checkpointFloats, small.cacheFloats, def.cacheFloats, small.scratchFloats, sz.H*sz.T*n, small.passes)
	}
}

// TestAdjointErrors checks divergence, cancellation and a rule of the wrong
// shape.
func TestAdjointErrors(t *testing.T) {
	o := defaultOpts()
	o.eta = 1e6
	p, rule, err := FromCase(randomCase(41, o))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Adjoint(context.Background(), p, rule, Options{})
	var de *plasticity.DivergenceError
	if !errors.As(err, &de) {
		t.Errorf("η = 1e6: err = %v, want a *plasticity.DivergenceError", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, rule, _ = FromCase(randomCase(42, defaultOpts()))
	if _, err := Adjoint(ctx, p, rule, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
	bad := rule.Clone()
	bad.Theta = bad.Theta[:3]
	if _, err := Adjoint(context.Background(), p, bad, Options{}); err == nil {
		t.Error("a rule with 3 coefficients for K = L = 3 was accepted")
	}
}

// TestExactMethod checks ParseMethod, DefaultMethod and that Exact runs the
// method it is given.
func TestExactMethod(t *testing.T) {
	for _, s := range []string{"forward", "adjoint", ""} {
		if m, err := ParseMethod(s); err != nil || string(m) != s {
			t.Errorf("ParseMethod(%q) = %q, %v", s, m, err)
		}
	}
	if _, err := ParseMethod("reverse"); err == nil {
		t.Error("ParseMethod(reverse) succeeded")
	}
	if DefaultMethod(1) != MethodForward || DefaultMethod(2) != MethodForward || DefaultMethod(16) != MethodAdjoint || DefaultMethod(36) != MethodAdjoint {
		t.Errorf("DefaultMethod: 1 → %s, 2 → %s, 16 → %s, 36 → %s", DefaultMethod(1), DefaultMethod(2), DefaultMethod(16), DefaultMethod(36))
	}
	p, rule, err := FromCase(randomCase(1, defaultOpts()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	f, err := Exact(ctx, p, rule, MethodForward, Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, _ := Gradient(ctx, p, rule, Options{})
	a, err := Exact(ctx, p, rule, MethodAdjoint, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Adjoint(ctx, p, rule, Options{})
	for i := range g.Grad {
		if f.Grad[i] != g.Grad[i] || a.Grad[i] != b.Grad[i] {
			t.Fatalf("Exact does not run the method it is given (coordinate %d)", i)
		}
	}
	if _, err := Exact(ctx, p, rule, "sideways", Options{}); err == nil {
		t.Error("Exact with an unknown method succeeded")
	}
}

// benchProblemKL is benchProblem with rule orders K = L = kl: Miconi's
// θ₃₃ = −1 plus small terms everywhere (dense Θ).
func benchProblemKL(b *testing.B, n, T, H, kl int) (*Problem, plasticity.Rule) {
	b.Helper()
	if kl == 3 {
		return benchProblem(b, n, T, H)
	}
	p, r3 := benchProblem(b, n, T, H)
	rule, err := plasticity.NewRule(kl, kl)
	if err != nil {
		b.Fatal(err)
	}
	for k := 0; k <= min(3, kl); k++ {
		for l := 0; l <= min(3, kl); l++ {
			rule.Set(k, l, r3.At(k, l))
		}
	}
	for k := range rule.Theta {
		if rule.Theta[k] == 0 {
			rule.Theta[k] = 0.02 * math.Cos(float64(5*k+2))
		}
	}
	return p, rule
}

// BenchmarkAdjoint compares, on the medium case of BenchmarkMetaGradient
// (N = 100, T = 200, H = 50) with K = L = 3 (P = 16) and K = L = 5
// (P = 36), the adjoint with forward mode and the objective alone.
func BenchmarkAdjoint(b *testing.B) {
	ctx := context.Background()
	for _, kl := range []int{3, 5} {
		for _, sz := range benchSizes {
			name := fmt.Sprintf("N=%d_T=%d_H=%d_K=L=%d", sz.n, sz.T, sz.H, kl)
			p, rule := benchProblemKL(b, sz.n, sz.T, sz.H, kl)
			b.Run(name+"/objective", func(b *testing.B) {
				for b.Loop() {
					if _, err := Objective(ctx, p, rule, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/adjoint", func(b *testing.B) {
				for b.Loop() {
					if _, err := Adjoint(ctx, p, rule, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/forward", func(b *testing.B) {
				for b.Loop() {
					if _, err := Gradient(ctx, p, rule, Options{}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestLearnersAdjoint checks the metaopt estimator "adjoint": the same J and,
// to 1e-10, the same gradient as "exact" (in scaled coordinates, with log η),
// at the cost adjointCost.
func TestLearnersAdjoint(t *testing.T) {
	ctx := context.Background()
	s := goNoGoSetup(t, 25)
	s.Learner.WarmupTrials = 5
	s.Rule.Set(3, 3, -1)
	s.Rule.Set(1, 1, 0.3)
	exact, _ := metaopt.ParseEstimator("exact")
	adj, err := metaopt.ParseEstimator("adjoint")
	if err != nil {
		t.Fatal(err)
	}
	var evals []metaopt.Eval
	for _, est := range []metaopt.Estimator{exact, adj} {
		l := &Learners{Setup: s, H: 25, Gamma: 0.98, Estimator: est, LogEta: true}
		if err := l.Validate(); err != nil {
			t.Fatal(err)
		}
		l.Scale = make([]float64, l.Dim())
		for i := range l.Scale {
			l.Scale[i] = 0.5 + float64(i)/10
		}
		ev, err := l.Eval(ctx, metaopt.Request{Params: l.Params(s.Rule), Seed: 3, WantGrad: true})
		if err != nil {
			t.Fatal(err)
		}
		evals = append(evals, ev)
	}
	if evals[0].J != evals[1].J {
		t.Errorf("J: exact %v, adjoint %v", evals[0].J, evals[1].J)
	}
	if rel := RelError(evals[1].Grad, evals[0].Grad); !(rel <= 1e-10) {
		t.Errorf("gradient: relative error %.3g between adjoint and exact\n  adjoint %v\n  exact   %v", rel, evals[1].Grad, evals[0].Grad)
	}
	var norm float64
	for _, v := range evals[0].Grad {
		norm += v * v
	}
	if norm == 0 {
		t.Error("the gradient is zero: the test compares nothing")
	}
	if evals[1].Cost != adjointCost || evals[0].Cost != 1+17 {
		t.Errorf("cost: exact %v, adjoint %v", evals[0].Cost, evals[1].Cost)
	}
}

// FuzzAdjoint draws small random cases with any combination of options
// (one bit each) and checks that the adjoint and forward mode fail together
// or agree to 1e-9 relative.
func FuzzAdjoint(f *testing.F) {
	for _, s := range []struct {
		seed uint64
		bits uint16
	}{{1, 0}, {2, 0x1ff}, {3, 0x0a5}, {4, 0x15a}, {5, 0x010}, {6, 0x110}} {
		f.Add(s.seed, s.bits)
	}
	f.Fuzz(func(t *testing.T, seed uint64, bits uint16) {
		o := defaultOpts()
		on := func(i int) bool { return bits&(1<<i) != 0 }
		if on(0) {
			o.clamps = 1 + int(seed%2)
		}
		if on(1) {
			o.tauE = 4 + float64(seed%5)
		}
		o.gate = on(2)
		if on(3) {
			o.gain, o.eta = plasticity.GainBaseline, 1
		}
		if on(5) {
			o.warmup = int(seed % 5)
		}
		o.mask = on(6)
		if on(7) {
			o.loss = plasticity.LossAbs
		}
		if on(9) {
			o.K, o.L, o.o = int(seed%3), int(seed/3%4), 1+int(seed%2)
		}
		c := randomCase(seed, o)
		if on(4) {
			v, ok := quantileOfUpdates(c, 0.3+0.4*float64(seed%7)/7)
			if !ok {
				return // diverges without a clip, or nothing learns
			}
			c.Clip = v
		}
		p, rule, err := FromCase(c)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{LogEta: on(8)}
		fwd, errF := Gradient(context.Background(), p, rule, opts)
		adj, errA := Adjoint(context.Background(), p, rule, opts)
		if (errF == nil) != (errA == nil) {
			t.Fatalf("forward mode: %v; adjoint: %v", errF, errA)
		}
		if errF != nil {
			return
		}
		if adj.J != fwd.J {
			t.Errorf("J = %v, forward mode %v", adj.J, fwd.J)
		}
		if rel := RelError(adj.Grad, fwd.Grad); !(rel <= 1e-9) {
			t.Errorf("relative error %.3g\n  adjoint %v\n  forward %v", rel, adj.Grad, fwd.Grad)
		}
	})
}

// quantileOfUpdates is clipQuantile for fuzzing: the q-quantile of
// |ηGAe_ij| over the learning trials of c without clipping, and false when
// that learner diverges or never updates.
func quantileOfUpdates(c *Case, q float64) (float64, bool) {
	c2 := *c
	c2.Clip = 0
	p, rule, err := FromCase(&c2)
	if err != nil {
		return 0, false
	}
	l, err := plasticity.NewLearner(p.Net.Clone(), p.Dyn, rule, p.Cfg, p.Conditions)
	if err != nil {
		return 0, false
	}
	l.Mask = p.Mask
	var vs []float64
	ok := true
	p.Episodes(func(h int, ep *Episode) bool {
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			ok = false
			return false
		}
		if h >= p.Cfg.WarmupTrials {
			for i, e := range l.Elig {
				if v := math.Abs(p.Cfg.Eta * out.Gain * out.Advantage * e); l.Mask[i] != 0 && v > 0 {
					vs = append(vs, v)
				}
			}
		}
		return h+1 < p.H
	})
	if !ok || len(vs) == 0 {
		return 0, false
	}
	sort.Float64s(vs)
	return vs[int(q*float64(len(vs)-1))], true
}

// TestAdjointConcurrentUse runs the adjoint of one FromSetup problem (whose
// generator reuses its buffers) from several goroutines, with the default
// cache and with a one-episode cache that re-runs the generator: every
// result must equal the sequential one bit for bit, and agree with forward
// mode.
func TestAdjointConcurrentUse(t *testing.T) {
	s := shortDNMS(12, 10)
	s.Learner.Clip = 0
	s.Learner.Eta = 0.01
	p, err := FromSetup(s, 5, 10, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{LogEta: true}
	want, err := Adjoint(context.Background(), p, s.Rule, opts)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := Gradient(context.Background(), p, s.Rule, opts)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, want, fwd, 1e-10)
	const workers = 4
	got := make([]*Result, workers)
	errs := make([]error, workers)
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			got[w], errs[w] = adjoint(context.Background(), p, s.Rule, opts, adjointSettings{cacheFloats: w % 2}, nil)
			done <- w
		}()
	}
	for range workers {
		<-done
	}
	for w := range got {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		if got[w].J != want.J || RelError(got[w].Grad, want.Grad) != 0 {
			t.Errorf("goroutine %d: J %v grad %v; sequential J %v grad %v", w, got[w].J, got[w].Grad, want.J, want.Grad)
		}
	}
}
