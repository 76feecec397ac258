package meta

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/plasticity"
)

// optionCases switches on each option of docs/MODEL.md §1–3 in turn.
func optionCases(t *testing.T) []struct {
	name   string
	c      *Case
	logEta bool
} {
	type tc = struct {
		name   string
		c      *Case
		logEta bool
	}
	with := func(f func(*caseOpts)) caseOpts {
		o := defaultOpts()
		f(&o)
		return o
	}
	cases := []tc{
		{"plain", randomCase(1, defaultOpts()), false},
		{"clamps", randomCase(2, with(func(o *caseOpts) { o.clamps = 2 })), false},
		{"tau_e", randomCase(3, with(func(o *caseOpts) { o.tauE = 6 })), false},
		{"gate", randomCase(4, with(func(o *caseOpts) { o.gate = true })), false},
		{"baseline gain", randomCase(5, with(func(o *caseOpts) { o.gain = plasticity.GainBaseline; o.eta = 1 })), false},
		{"warm-up", randomCase(7, with(func(o *caseOpts) { o.warmup = 3 })), false},
		{"plastic mask", randomCase(8, with(func(o *caseOpts) { o.mask = true; o.clamps = 1 })), false},
		{"abs loss", randomCase(9, with(func(o *caseOpts) { o.loss = plasticity.LossAbs })), false},
		{"log eta", randomCase(10, defaultOpts()), true},
		{"shapes K=1 L=4 O=2", randomCase(11, with(func(o *caseOpts) { o.K, o.L, o.o, o.conds, o.eta = 1, 4, 2, 3, 0.05 })), false},
		{"everything", randomCase(12, with(func(o *caseOpts) {
			o.clamps, o.tauE, o.gate, o.gain, o.warmup, o.mask, o.loss, o.eta = 1, 8, true, plasticity.GainBaseline, 2, true, plasticity.LossAbs, 1
		})), true},
	}
	clipCase := randomCase(6, with(func(o *caseOpts) { o.eta = 0.5 }))
	clipCase.Clip = 1.05 * clipQuantile(t, clipCase, 0.5)
	cases = append(cases, tc{"clip", clipCase, true})
	last := cases[len(cases)-2].c // "everything" gets a partly active clip too
	last.Clip = 1.0213 * clipQuantile(t, last, 0.7)
	return cases
}

// TestGradientMatchesFiniteDifferences checks the exact tangents against
// central differences on common random numbers, one option at a time.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	ctx := context.Background()
	for _, tc := range optionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, rule, err := FromCase(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			k := inspect(t, p, rule)
			if tc.c.Clip > 0 {
				// Partly active, and away from the kink: a step of 1e-6 in Θ
				// moves |ηGAe| by far less than 1% of c_max.
				if k.clipped == 0 || k.clipped == k.entries {
					t.Fatalf("clip %.3g: %d of %d entries clip, want some but not all", tc.c.Clip, k.clipped, k.entries)
				}
				if k.clipMargin < 1e-2 {
					t.Fatalf("an entry lies within %.2g of the clip: finite differences would straddle the kink", k.clipMargin)
				}
				t.Logf("clip: %d of %d entries clip, margin %.2g", k.clipped, k.entries, k.clipMargin)
			}
			if tc.c.Loss == plasticity.LossAbs && k.absMargin < 1e-4 {
				t.Fatalf("an output lies within %.2g of its target: |·| has a kink there", k.absMargin)
			}
			opts := Options{LogEta: tc.logEta}
			g, err := Gradient(ctx, p, rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			fd, err := FiniteDifference(ctx, p, rule, 1e-6, opts)
			if err != nil {
				t.Fatal(err)
			}
			if g.J != fd.J {
				t.Errorf("J differs between Gradient (%v) and FiniteDifference (%v)", g.J, fd.J)
			}
			if len(g.Grad) != len(fd.Grad) {
				t.Fatalf("len(grad) = %d, fd has %d", len(g.Grad), len(fd.Grad))
			}
			rel := RelError(g.Grad, fd.Grad)
			if rel > 1e-6 || math.IsNaN(rel) {
				t.Errorf("relative error %.3g > 1e-6\n  tangent %v\n  fd      %v", rel, g.Grad, fd.Grad)
			}
			var norm float64
			for _, v := range g.Grad {
				norm += v * v
			}
			if norm == 0 {
				t.Errorf("gradient is zero: the case tests nothing")
			}
			t.Logf("rel error %.2g, ‖g‖ = %.3g", rel, math.Sqrt(norm))
		})
	}
}

// TestGradientMatchesDirect compares the fast tangents with the element-wise
// transcription of docs/MODEL.md §5 (direct_test.go) on every option case.
func TestGradientMatchesDirect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range optionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			p, rule, err := FromCase(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{LogEta: tc.logEta}
			g, err := Gradient(ctx, p, rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			D := len(g.Grad)
			dirs := make([][]float64, D)
			for d := range dirs {
				dirs[d] = make([]float64, D)
				dirs[d][d] = 1
			}
			want, err := direct(p, rule, p.Cfg.Eta, dirs, tc.logEta)
			if err != nil {
				t.Fatal(err)
			}
			grouped, err := directMode(p, rule, p.Cfg.Eta, dirs, tc.logEta, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []*directResult{want, grouped} {
				if d := relDiff(g.J, w.J); d > 1e-12 {
					t.Errorf("J = %.15g, direct %.15g", g.J, w.J)
				}
				if rel := RelError(g.Grad, w.JDot); rel > 1e-10 {
					t.Errorf("relative error %.3g > 1e-10\n  fast   %v\n  direct %v", rel, g.Grad, w.JDot)
				}
			}
		})
	}
}

// TestObjectiveMatchesDirect checks the primal against written-out loops.
func TestObjectiveMatchesDirect(t *testing.T) {
	ctx := context.Background()
	for _, tc := range optionCases(t) {
		p, rule, err := FromCase(tc.c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Objective(ctx, p, rule, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := direct(p, rule, p.Cfg.Eta, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Rewards) != p.H {
			t.Fatalf("%s: %d rewards, want H=%d", tc.name, len(got.Rewards), p.H)
		}
		for h := range want.Rewards {
			if d := relDiff(got.Rewards[h], want.Rewards[h]); d > 1e-12 {
				t.Errorf("%s: reward[%d] = %.15g, direct %.15g", tc.name, h, got.Rewards[h], want.Rewards[h])
			}
		}
		if d := relDiff(got.J, want.J); d > 1e-12 {
			t.Errorf("%s: J = %.15g, direct %.15g", tc.name, got.J, want.J)
		}
	}
}

// TestProjection checks the random-projection estimator against the exact
// gradient: each directional derivative equals g·u, the mean over many
// draws is within 3 standard errors of g per coordinate, and the mean of
// ‖ĝ‖² matches the exact second moment (docs/METAGRAD.md):
// Rademacher ‖g‖² + (P−1)‖g‖²/Ω, Gaussian ‖g‖² + (P+1)‖g‖²/Ω.
func TestProjection(t *testing.T) {
	ctx := context.Background()
	o := defaultOpts()
	o.n, o.T, o.H = 5, 10, 4
	o.K, o.L = 2, 2
	c := randomCase(21, o)
	c.Trials = c.Trials[:o.H]
	p, rule, err := FromCase(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dist   Distribution
		logEta bool
		extra  float64 // E‖ĝ‖² = ‖g‖² + (P + extra)‖g‖²/Ω
	}{{Rademacher, false, -1}, {Gaussian, true, 1}} {
		t.Run(string(tc.dist), func(t *testing.T) {
			opts := Options{LogEta: tc.logEta}
			exact, err := Gradient(ctx, p, rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			g := exact.Grad
			P := len(g)
			var g2 float64
			for _, v := range g {
				g2 += v * v
			}
			const omega, draws = 3, 1500
			rng := rand.New(rand.NewPCG(5, 6))
			mean := make([]float64, P)
			sq := make([]float64, P)
			var m2, m4 float64
			for r := 0; r < draws; r++ {
				res, err := Projection(ctx, p, rule, omega, tc.dist, rng, opts)
				if err != nil {
					t.Fatal(err)
				}
				if r == 0 {
					if res.J != exact.J || len(res.Samples) != omega || len(res.Directions) != omega {
						t.Fatalf("projection J %v (exact %v), %d samples, %d directions", res.J, exact.J, len(res.Samples), len(res.Directions))
					}
					for w, u := range res.Directions {
						var gu float64
						for i := range u {
							gu += g[i] * u[i]
						}
						if d := math.Abs(res.Derivs[w] - gu); d > 1e-10*math.Sqrt(g2*float64(P)) {
							t.Errorf("J̇ along u^%d = %.15g, want g·u = %.15g", w, res.Derivs[w], gu)
						}
					}
				}
				var n2 float64
				for i, v := range res.Grad {
					mean[i] += v / draws
					sq[i] += v * v / draws
					n2 += v * v
				}
				m2 += n2 / draws
				m4 += n2 * n2 / draws
			}
			for i := range g {
				se := math.Sqrt((sq[i] - mean[i]*mean[i]) / draws)
				if math.Abs(mean[i]-g[i]) > 3*se {
					t.Errorf("coordinate %d: mean estimate %.6g, exact %.6g, 3 s.e. = %.3g", i, mean[i], g[i], 3*se)
				}
			}
			want := g2 + (float64(P)+tc.extra)*g2/omega
			se := math.Sqrt((m4 - m2*m2) / draws)
			if math.Abs(m2-want) > 4*se {
				t.Errorf("E‖ĝ‖² = %.6g ± %.2g, formula %.6g (docs/MODEL.md §5's rough form (P/Ω)‖g‖² = %.6g)", m2, se, want, float64(P)/omega*g2)
			}
			t.Logf("E‖ĝ‖² = %.6g ± %.2g, formula %.6g", m2, se, want)
		})
	}
}

// TestDivergence checks that an exploding learner is reported as a
// *plasticity.DivergenceError, never as NaN.
func TestDivergence(t *testing.T) {
	o := defaultOpts()
	o.eta = 1e6
	c := randomCase(31, o)
	p, rule, err := FromCase(c)
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() (*Result, error){
		"objective": func() (*Result, error) { return Objective(context.Background(), p, rule, Options{}) },
		"gradient":  func() (*Result, error) { return Gradient(context.Background(), p, rule, Options{}) },
		"projection": func() (*Result, error) {
			return Projection(context.Background(), p, rule, 2, Rademacher, rand.New(rand.NewPCG(1, 2)), Options{})
		},
	} {
		res, err := f()
		var de *plasticity.DivergenceError
		if !errors.As(err, &de) {
			t.Errorf("%s: err = %v (result %v), want a *plasticity.DivergenceError", name, err, res)
		}
	}
}

// TestCancel checks that a cancelled context stops the evaluation.
func TestCancel(t *testing.T) {
	p, rule, err := FromCase(randomCase(1, defaultOpts()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Gradient(ctx, p, rule, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestEpisodeErrors checks that a generator yielding too few or malformed
// episodes is reported.
func TestEpisodeErrors(t *testing.T) {
	p, rule, err := FromCase(randomCase(1, defaultOpts()))
	if err != nil {
		t.Fatal(err)
	}
	short := *p
	short.H = p.H + 1
	if _, err := Objective(context.Background(), &short, rule, Options{}); err == nil {
		t.Error("H beyond the generator's episodes: no error")
	}
	bad := *p
	inner := p.Episodes
	bad.Episodes = func(yield func(int, *Episode) bool) {
		inner(func(h int, ep *Episode) bool {
			e := *ep
			e.X0 = e.X0[:1]
			return yield(h, &e)
		})
	}
	if _, err := Gradient(context.Background(), &bad, rule, Options{}); err == nil {
		t.Error("x0 of the wrong length: no error")
	}
}

// TestConcurrentUse evaluates one problem from several goroutines, as a
// meta-optimizer averaging learners does; results must be identical.
func TestConcurrentUse(t *testing.T) {
	s := shortDNMS(12, 6)
	p, err := FromSetup(s, 5, 6, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Gradient(context.Background(), p, s.Rule, Options{LogEta: true})
	if err != nil {
		t.Fatal(err)
	}
	const workers = 4
	got := make([]*Result, workers)
	errs := make([]error, workers)
	done := make(chan int)
	for w := 0; w < workers; w++ {
		go func() {
			got[w], errs[w] = Gradient(context.Background(), p, s.Rule, Options{LogEta: true})
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

// TestRealisticAndVariableT checks the tangents on a problem drawn from a
// task (Miconi's setup on a short DNMS: clamped bias units, decoupled
// perturbations, gate from step 3, baseline gain, clipping, abs loss,
// warm-up) and on a case whose trials have different lengths, against the
// direct transcription and against finite differences.
func TestRealisticAndVariableT(t *testing.T) {
	ctx := context.Background()
	s := shortDNMS(12, 8)
	dnms, err := FromSetup(s, 11, 8, 0.98)
	if err != nil {
		t.Fatal(err)
	}
	varT := randomCase(41, defaultOpts())
	for h := range varT.Trials {
		tr := &varT.Trials[h]
		T := 14 - h
		tr.U, tr.Xi, tr.Target, tr.Mask = tr.U[:T], tr.Xi[:T], tr.Target[:T], tr.Mask[:T]
		tr.Mask[T-1] = 1
	}
	vp, vrule, err := FromCase(varT)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    *Problem
		rule plasticity.Rule
	}{{"dnms", dnms, s.Rule}, {"variable T", vp, vrule}} {
		t.Run(tc.name, func(t *testing.T) {
			k := inspect(t, tc.p, tc.rule)
			t.Logf("clip: %d of %d entries, margin %.2g; abs margin %.2g", k.clipped, k.entries, k.clipMargin, k.absMargin)
			opts := Options{LogEta: true}
			g, err := Gradient(ctx, tc.p, tc.rule, opts)
			if err != nil {
				t.Fatal(err)
			}
			D := len(g.Grad)
			dirs := make([][]float64, D)
			for d := range dirs {
				dirs[d] = make([]float64, D)
				dirs[d][d] = 1
			}
			want, err := direct(tc.p, tc.rule, tc.p.Cfg.Eta, dirs, true)
			if err != nil {
				t.Fatal(err)
			}
			if rel := RelError(g.Grad, want.JDot); rel > 1e-10 || relDiff(g.J, want.J) > 1e-12 {
				t.Errorf("vs direct: relative error %.3g, J %v vs %v", rel, g.J, want.J)
			}
			if (tc.p.Cfg.Clip > 0 && k.clipMargin < 1e-2) || k.absMargin < 1e-4 {
				t.Fatalf("too close to a kink for finite differences")
			}
			fd, err := FiniteDifference(ctx, tc.p, tc.rule, 1e-6, opts)
			if err != nil {
				t.Fatal(err)
			}
			if rel := RelError(g.Grad, fd.Grad); rel > 1e-6 {
				t.Errorf("vs finite differences: relative error %.3g\n  tangent %v\n  fd      %v", rel, g.Grad, fd.Grad)
			}
		})
	}
}
