package meta

import (
	"context"
	"math"
	"strings"
	"testing"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// pgSetup is a small go/no-go learner with Gaussian exploration on every
// step: the setting of the unbiasedness test.
func pgSetup() *train.Setup {
	task := &tasks.GoNoGo{Steps: 20, StimStart: 2, StimEnd: 8, Response: 6, InputAmp: 1, Target: 1}
	s := train.Miconi2017(task, 6)
	s.Init.N = 7
	s.Init.G = 1.2
	s.Dyn = rnn.Dynamics{Dt: 1, Tau: 5}
	s.Perturb = rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 2}
	s.Learner = plasticity.Defaults()
	s.Learner.Eta = 0.3
	s.Learner.Loss = plasticity.LossMSE
	s.Learner.AlphaX = 0.5
	s.Learner.GateStart = 0
	s.Rule, _ = plasticity.NewRule(2, 2)
	s.Rule.Set(1, 1, -0.5)
	s.Rule.Set(2, 1, 0.3)
	s.Rule.Set(1, 2, 0.2)
	s.Rule.Set(0, 0, 0.01)
	return s
}

// meanSE returns the per-coordinate mean and standard error of samples.
func meanSE(samples [][]float64) (mean, se []float64) {
	D, S := len(samples[0]), float64(len(samples))
	mean, se = make([]float64, D), make([]float64, D)
	for _, s := range samples {
		for d, v := range s {
			mean[d] += v / S
		}
	}
	for _, s := range samples {
		for d, v := range s {
			se[d] += (v - mean[d]) * (v - mean[d]) / (S - 1)
		}
	}
	for d := range se {
		se[d] = math.Sqrt(se[d] / S)
	}
	return mean, se
}

// TestPolicyGradientUnbiased checks E_ξ[ĝ] = ∇_Θ E_ξ[J]: over many learner
// seeds (independent W⁰, conditions, x⁰ and Gaussian ξ), the mean of the
// paired difference between the policy-gradient estimate and the exact
// (pathwise) gradient lies within 3 standard errors of zero in every
// coordinate, log η included. It also checks that the test has power: the
// same samples reject a sign-flipped estimate by more than 5 standard
// errors (the estimator's variance is large — about 10⁴ times that of the
// exact gradient here — so the test needs thousands of learners).
func TestPolicyGradientUnbiased(t *testing.T) {
	s := pgSetup()
	const seeds = 6000
	if testing.Short() {
		t.Skip("the unbiasedness test averages 6000 learners")
	}
	ctx := context.Background()
	opts := Options{LogEta: true}
	var good, flip [][]float64
	for seed := uint64(1); seed <= seeds; seed++ {
		p, err := FromSetup(s, seed, 4, 0.9)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := Gradient(ctx, p, s.Rule, opts)
		if err != nil {
			t.Fatal(err)
		}
		pg, err := PolicyGradient(ctx, p, s.Rule, s.Perturb, opts)
		if err != nil {
			t.Fatal(err)
		}
		if pg.J != ex.J {
			t.Fatalf("seed %d: J = %v, exact pass gives %v", seed, pg.J, ex.J)
		}
		d, f := make([]float64, len(ex.Grad)), make([]float64, len(ex.Grad))
		for i, g := range ex.Grad {
			d[i] = pg.Grad[i] - g
			f[i] = -pg.Grad[i] - g
		}
		good, flip = append(good, d), append(flip, f)
	}
	m, se := meanSE(good)
	for d := range m {
		if se[d] == 0 {
			t.Fatalf("coordinate %d: zero standard error — the test would be vacuous", d)
		}
		t.Logf("coordinate %2d: mean(ĝ − ∇J) = %+.4g ± %.3g (z = %+.2f)", d, m[d], se[d], m[d]/se[d])
		if math.Abs(m[d]) > 3*se[d] {
			t.Errorf("coordinate %d: mean(ĝ − ∇J) = %.4g is %.1f standard errors from 0", d, m[d], math.Abs(m[d])/se[d])
		}
	}
	fm, fse := meanSE(flip)
	z, at := 0.0, -1
	for d := range fm {
		if v := math.Abs(fm[d]) / fse[d]; v > z {
			z, at = v, d
		}
	}
	t.Logf("sign-flipped estimate: largest |z| = %.1f (coordinate %d)", z, at)
	if z < 5 {
		t.Errorf("a sign-flipped estimate is only %.1f standard errors off the exact gradient: the test cannot tell a wrong estimator", z)
	}
}

func TestCheckPolicyNoise(t *testing.T) {
	for _, c := range []struct {
		noise rnn.Perturbation
		want  string // "" = accepted
	}{
		{rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.3}, ""},
		{rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4}, "perturb = decoupled"},
		{rnn.Perturbation{Scheme: rnn.None}, "perturb = none"},
		{rnn.Perturbation{}, "perturb = none"},
		{rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0}, "perturb_sigma = 0"},
		{rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.3, Start: 4}, "perturb_start = 4"},
	} {
		err := CheckPolicyNoise(c.noise)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.noise, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one naming %q", c.noise, err, c.want)
		case err != nil && strings.Contains(err.Error(), "\n"):
			t.Errorf("%+v: error spans several lines: %q", c.noise, err)
		}
	}
}

// TestLearnersPolicyGradient checks the metaopt adapter: the estimator
// parses, refuses Miconi's decoupled kicks at validation with one line,
// and gives the same J as the exact estimator with its own cost.
func TestLearnersPolicyGradient(t *testing.T) {
	s := pgSetup()
	e, err := metaopt.ParseEstimator(" Policy-Gradient ")
	if err != nil || e.String() != "policy-gradient" || !e.NeedsGradient() {
		t.Fatalf("ParseEstimator: %v, %v", e, err)
	}
	if _, err := metaopt.ParseEstimator("policy-gradient:4"); err == nil {
		t.Fatal("policy-gradient takes no argument")
	}
	if _, err := metaopt.ParseEstimator("reinforce"); err == nil || !strings.Contains(err.Error(), "policy-gradient") {
		t.Fatalf("unknown estimator error %v should list policy-gradient", err)
	}
	bad := *s
	bad.Perturb = rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4}
	if err := (&Learners{Setup: &bad, H: 4, Gamma: 1, Estimator: e}).Validate(); err == nil || !strings.Contains(err.Error(), "decoupled") {
		t.Fatalf("decoupled noise: %v", err)
	}
	ctx := context.Background()
	l := &Learners{Setup: s, H: 4, Gamma: 0.9, Estimator: e, LogEta: true}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	req := metaopt.Request{Params: l.Params(s.Rule), Seed: 5, WantGrad: true}
	ev, err := l.Eval(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	ex := *l
	ex.Estimator = metaopt.Estimator{Kind: metaopt.EstimatorExact}
	want, err := ex.Eval(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if ev.J != want.J || len(ev.Grad) != len(want.Grad) || ev.Cost != PolicyGradientCost {
		t.Fatalf("J %v (exact %v), %d gradient entries (want %d), cost %v", ev.J, want.J, len(ev.Grad), len(want.Grad), ev.Cost)
	}
	// An episode without noise is refused rather than estimated as zero.
	p, err := FromSetup(s, 5, 4, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	inner := p.Episodes
	p.Episodes = func(yield func(int, *Episode) bool) {
		for h, ep := range inner {
			ep.Xi = nil
			if !yield(h, ep) {
				return
			}
		}
	}
	if _, err := PolicyGradient(ctx, p, s.Rule, s.Perturb, Options{}); err == nil || !strings.Contains(err.Error(), "no exploration noise") {
		t.Fatalf("episode without noise: %v", err)
	}
}

// pgRecord is one trial of a learner as it ran: its states and the factors
// of its weight update that depend on the states only.
type pgRecord struct {
	x, r, u, xi, gate []float64
	T                 int
	gain, adv         float64
}

// logDensity returns log p(trial h | trials before; Θ, η) up to a constant,
// replaying the weight updates of the recorded trials with rule and eta:
// Σ_t Σ_{i unclamped} −(x_i^{t+1} − μ_i^t)² / (2α²σ²) with
// μ^t = x^t + α(−x^t + W^h r^t + W_in u^t + b) — docs/MODEL.md §1 and §3
// written out independently of the package code.
func logDensity(p *Problem, rule plasticity.Rule, eta, sigma float64, rec []pgRecord, h int) float64 {
	n, net := p.Net.N, p.Net
	w := append([]float64(nil), net.W...)
	mask := p.Mask
	if mask == nil {
		mask = plasticity.DefaultMask(net)
	}
	var ws plasticity.Workspace
	e := make([]float64, n*n)
	for k := 0; k < h; k++ {
		if k < p.Cfg.WarmupTrials {
			continue
		}
		tr := rec[k]
		delta, xbar, c := make([]float64, tr.T*n), make([]float64, n), make([]float64, tr.T)
		plasticity.Fluctuation(tr.x, n, tr.T, p.Cfg.AlphaX, delta, xbar)
		plasticity.Weights(c, tr.T, p.Dyn.Dt, plasticity.Decay(p.Dyn.Dt, p.Cfg.TauE), tr.gate, p.Cfg.GateStart)
		ws.Eligibility(rule, delta, tr.r, c, n, tr.T, e)
		for i, v := range e {
			dw := eta * tr.gain * tr.adv * v
			if p.Cfg.Clip > 0 {
				dw = max(-p.Cfg.Clip, min(p.Cfg.Clip, dw))
			}
			w[i] += dw * mask[i]
		}
	}
	tr := rec[h]
	alpha, M := p.Dyn.Alpha(), net.M
	clamped := map[int]bool{}
	for _, c := range net.ClampIndex {
		clamped[c] = true
	}
	var lp float64
	for t := 0; t < tr.T; t++ {
		for i := 0; i < n; i++ {
			if clamped[i] {
				continue
			}
			x := tr.x[t*n+i]
			drive := net.B[i]
			for j := 0; j < n; j++ {
				drive += w[i*n+j] * tr.r[t*n+j]
			}
			for m := 0; m < M; m++ {
				drive += net.Win[i*M+m] * tr.u[t*M+m]
			}
			mu := x + alpha*(-x+drive)
			d := tr.x[(t+1)*n+i] - mu
			lp -= d * d / (2 * alpha * alpha * sigma * sigma)
		}
	}
	return lp
}

// TestPolicyScoreMatchesLogDensity checks the score of every trial,
// s^h = ∂ log p(trial h | trials before; Θ)/∂Θ with the states held fixed,
// against central differences of the log-density of the recorded trials
// (log η included), with clamped units, a warm-up trial and the baseline
// gain switched on.
func TestPolicyScoreMatchesLogDensity(t *testing.T) {
	s := pgSetup()
	s.Learner.Gain = plasticity.GainBaseline
	s.Learner.WarmupTrials = 1
	s.Learner.AlphaR = 0.5
	const H = 5
	p, err := FromSetup(s, 11, H, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Net.ClampIndex) == 0 {
		t.Fatal("the setup should have clamped units")
	}
	ctx := context.Background()
	opts := Options{LogEta: true}
	res, scores, _, err := policyScores(ctx, p, s.Rule, s.Perturb, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Record the trials with plasticity.Learner itself.
	l, err := plasticity.NewLearner(p.Net.Clone(), p.Dyn, s.Rule, p.Cfg, p.Conditions)
	if err != nil {
		t.Fatal(err)
	}
	var rec []pgRecord
	for h, ep := range p.Episodes {
		if h == H {
			break
		}
		out, err := l.Learn(&ep.Trial, ep.X0, ep.Xi, ep.Gate)
		if err != nil {
			t.Fatal(err)
		}
		if out.Reward != res.Rewards[h] {
			t.Fatalf("trial %d: reward %v, policyScores gives %v", h, out.Reward, res.Rewards[h])
		}
		T := ep.Trial.T
		rec = append(rec, pgRecord{T: T, gain: out.Gain, adv: out.Advantage,
			x:    append([]float64(nil), l.Trace.X[:(T+1)*p.Net.N]...),
			r:    append([]float64(nil), l.Trace.R[:(T+1)*p.Net.N]...),
			u:    append([]float64(nil), ep.Trial.U...),
			xi:   append([]float64(nil), ep.Xi...),
			gate: append([]float64(nil), ep.Gate...)})
	}
	const step = 1e-5
	P := s.Rule.P()
	nonzero := 0
	for h := 0; h < H; h++ {
		fd := make([]float64, P+1)
		for d := range fd {
			var v [2]float64
			for k, sg := range []float64{1, -1} {
				r, eta := s.Rule.Clone(), s.Learner.Eta
				if d < P {
					r.Theta[d] += sg * step
				} else {
					eta *= math.Exp(sg * step)
				}
				v[k] = logDensity(p, r, eta, s.Perturb.Sigma, rec, h)
			}
			fd[d] = (v[0] - v[1]) / (2 * step)
		}
		for _, v := range scores[h] {
			if v != 0 {
				nonzero++
			}
		}
		if h <= 1 {
			// No update before trial 1 (trial 0 is warm-up): Ẇ = 0.
			for d, v := range scores[h] {
				if v != 0 || math.Abs(fd[d]) > 1e-6 {
					t.Errorf("trial %d, coordinate %d: score %v, finite difference %v; want 0", h, d, v, fd[d])
				}
			}
			continue
		}
		if re := RelError(scores[h], fd); re > 1e-6 {
			t.Errorf("trial %d: score and finite differences of the log-density differ by %.3g (relative)\n%v\n%v", h, re, scores[h], fd)
		}
	}
	if nonzero < 2*(P+1) {
		t.Fatalf("only %d non-zero score entries: the check is too weak", nonzero)
	}
}
