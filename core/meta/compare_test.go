package meta

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// compareSetting is one problem of the estimator comparison of
// docs/METAOPT.md ("Gradient estimators at equal compute").
type compareSetting struct {
	name, rule string
	setup      *train.Setup
	H          int
}

// compareSettings returns go/no-go and DNMS at N = 20 with Gaussian
// exploration on every step: go/no-go at the rule θ₁₃ = −1
// (miconi-linear-pre), DNMS at the zero rule, where meta-optimizations
// start (at θ₁₃ = −1 the DNMS gradient is too small against the learners'
// spread for even 1024 exact learners to pin it down).
func compareSettings() []compareSetting {
	mk := func(task tasks.Task, rule string) *train.Setup {
		s := train.Miconi2017(task, 20)
		s.Init.N = 20
		s.Dyn = rnn.Dynamics{Dt: 1, Tau: 10}
		s.Perturb = rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 1}
		s.Learner.Eta = 1
		s.Learner.Clip = 0.01
		s.Learner.Gain = plasticity.GainPlain
		s.Learner.Loss = plasticity.LossMSE
		s.Learner.WarmupTrials = 2
		s.Rule, _ = plasticity.Named(rule, 3, 3)
		return s
	}
	return []compareSetting{
		{"go/no-go", "miconi-linear-pre", mk(&tasks.GoNoGo{Steps: 60, StimStart: 5, StimEnd: 25, Response: 20, InputAmp: 1, Target: 1}, "miconi-linear-pre"), 20},
		{"DNMS", "zero", mk(&tasks.DNMS{Steps: 80, Stim1Start: 0, Stim1End: 15, Stim2Start: 30, Stim2End: 45, Response: 20, Target: 0.98, InputAmp: 1}, "zero"), 20},
	}
}

// TestCompareEstimators measures the quality of each gradient estimator at
// equal compute: the cosine of its estimate with a reference gradient (the
// mean exact gradient of independent learners) and its normalized error
// ‖ĝ − g*‖²/‖g*‖², when a budget of B objective evaluations is spent on as
// many learners as the estimator's measured cost allows. It prints the
// table of docs/METAOPT.md. Run it with
//
//	RULESCAPE_COMPARE_ESTIMATORS=1 go test ./core/meta -run TestCompareEstimators -v -timeout 30m
//
// (RULESCAPE_COMPARE_ONLY=DNMS runs one setting).
func TestCompareEstimators(t *testing.T) {
	if os.Getenv("RULESCAPE_COMPARE_ESTIMATORS") == "" {
		t.Skip("set RULESCAPE_COMPARE_ESTIMATORS=1 to run the estimator comparison (a few minutes)")
	}
	const (
		nRef    = 1024 // learners of the reference gradient
		esSigma = 0.05 // ES perturbation in z units (metaopt's default)
	)
	// Learners per estimator pool (ES: antithetic pairs), sized so that
	// each budget is repeated on several disjoint groups of learners.
	nPool := map[metaopt.EstimatorKind]int{metaopt.EstimatorExact: 96, metaopt.EstimatorAdjoint: 384, metaopt.EstimatorProjection: 384,
		metaopt.EstimatorPolicyGradient: 768, metaopt.EstimatorES: 512}
	budgets := []float64{32, 128}
	ctx := context.Background()
	for _, cs := range compareSettings() {
		if only := os.Getenv("RULESCAPE_COMPARE_ONLY"); only != "" && !strings.Contains(cs.name, only) {
			continue
		}
		l := &Learners{Setup: cs.setup, H: cs.H, Gamma: 1, Estimator: metaopt.Estimator{Kind: metaopt.EstimatorExact}}
		scale, err := l.AutoScale(ctx, []uint64{1, 2, 3, 4}, 5)
		if err != nil {
			t.Fatal(err)
		}
		l.Scale = scale
		params := l.Params(cs.setup.Rule)
		eval := func(est metaopt.Estimator, params []float64, seed, estSeed uint64, grad bool) (metaopt.Eval, time.Duration) {
			e := *l
			e.Estimator = est
			start := time.Now()
			ev, err := e.Eval(ctx, metaopt.Request{Params: params, Seed: seed, EstimatorSeed: estSeed, WantGrad: grad})
			if err != nil {
				t.Fatalf("%s %s seed %d: %v", cs.name, est, seed, err)
			}
			return ev, time.Since(start)
		}
		exact := metaopt.Estimator{Kind: metaopt.EstimatorExact}
		// Reference: seeds 1…nRef; the pools use disjoint seeds.
		var refs [][]float64
		var refJ float64
		var primal time.Duration
		for s := uint64(1); s <= nRef; s++ {
			ev, _ := eval(exact, params, s, 0, true)
			refs = append(refs, ev.Grad)
			refJ += ev.J / nRef
			_, d := eval(exact, params, s, 0, false)
			primal += d
		}
		primal /= nRef
		ref, refSE := meanSE(refs)
		var refNoise float64 // E‖g* − ∇E[J]‖² estimated by Σ_i se_i²
		for _, v := range refSE {
			refNoise += v * v
		}
		// An estimator's cost is the median over its learners of its time
		// over the time of the same learner's objective, measured right
		// before: robust to the load of a shared machine.
		type pool struct {
			name   string
			proxy  float64 // Eval's cost (tangent-system units)
			ratios []float64
			sample [][]float64
		}
		var pools []*pool
		for k, est := range []metaopt.Estimator{exact, {Kind: metaopt.EstimatorAdjoint}, {Kind: metaopt.EstimatorProjection, Directions: 4}, {Kind: metaopt.EstimatorPolicyGradient}} {
			p := &pool{name: est.String()}
			for i := range nPool[est.Kind] {
				seed := uint64(100000*(k+1) + i)
				_, d0 := eval(exact, params, seed, 0, false)
				ev, d := eval(est, params, seed, seed, true)
				p.proxy, p.ratios = ev.Cost, append(p.ratios, float64(d)/float64(d0))
				p.sample = append(p.sample, ev.Grad)
			}
			pools = append(pools, p)
		}
		es := &pool{name: fmt.Sprintf("es (σ = %g, antithetic pair)", esSigma), proxy: 2}
		rng := rand.New(rand.NewPCG(99, 1))
		for i := range nPool[metaopt.EstimatorES] {
			seed := uint64(900000 + i)
			eps := make([]float64, len(params))
			plus, minus := make([]float64, len(params)), make([]float64, len(params))
			for q := range eps {
				eps[q] = rng.NormFloat64()
				plus[q], minus[q] = params[q]+esSigma*eps[q], params[q]-esSigma*eps[q]
			}
			a, _ := eval(exact, plus, seed, 0, false)
			b, _ := eval(exact, minus, seed, 0, false)
			es.ratios = append(es.ratios, 2) // two objective evaluations
			g := make([]float64, len(eps))
			for q, e := range eps {
				g[q] = (a.J - b.J) / (2 * esSigma) * e
			}
			es.sample = append(es.sample, g)
		}
		pools = append(pools, es)
		fmt.Printf("\n%s (rule %s): N = %d, T = %d, H = %d, P = %d, mean J = %.3f; reference g*: %d exact learners, ‖g*‖ = %.4g (z units), its own noise √(Σ se²)/‖g*‖ = %.2f; objective %.1f ms a learner\n\n",
			cs.name, cs.rule, cs.setup.Init.N, cs.setup.Task.Spec().Steps, cs.H, len(params), refJ, nRef, norm(ref), math.Sqrt(refNoise)/norm(ref), ms(primal))
		fmt.Printf("| estimator | cost (objective evals) | cost proxy | budget B | learners | cos(ĝ, g*) | ‖ĝ − g*‖²/‖g*‖² | repeats |\n")
		fmt.Printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for _, p := range pools {
			cost := median(p.ratios)
			for _, B := range budgets {
				k := max(1, int(B/cost))
				groups := len(p.sample) / k
				if groups < 3 {
					fmt.Printf("| %s | %.1f | %g | %g | %d | (pool too small) | | |\n", p.name, cost, p.proxy, B, k)
					continue
				}
				var cosines, errs []float64
				for gI := range groups {
					mean := make([]float64, len(ref))
					for _, s := range p.sample[gI*k : (gI+1)*k] {
						for i, v := range s {
							mean[i] += v / float64(k)
						}
					}
					cosines = append(cosines, cosine(mean, ref))
					d := 0.0
					for i := range mean {
						d += (mean[i] - ref[i]) * (mean[i] - ref[i])
					}
					errs = append(errs, d/(norm(ref)*norm(ref)))
				}
				cm, cse := meanSE1(cosines)
				em, ese := meanSE1(errs)
				fmt.Printf("| %s | %.1f | %g | %g | %d | %.2f ± %.2f | %.3g ± %.2g | %d |\n", p.name, cost, p.proxy, B, k, cm, cse, em, ese, groups)
			}
		}
	}
}

func norm(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s)
}

func cosine(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s / (norm(a) * norm(b))
}

func meanSE1(v []float64) (float64, float64) {
	var m, s float64
	for _, x := range v {
		m += x / float64(len(v))
	}
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)-1) / float64(len(v)))
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
