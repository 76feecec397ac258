package plasticity

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// round32 rounds every value of s to float32 in place and returns s.
func round32(s []float64) []float64 {
	for i, v := range s {
		s[i] = float64(float32(v))
	}
	return s
}

// spec32Tol is the relative tolerance of TestLearner32MatchesSpec: the
// largest difference between the float32 learner and the float64
// written-out model, over each quantity (y, e, W, E, R̄), relative to that
// quantity's largest magnitude. Float32 rounds to 2⁻²⁴ ≈ 6·10⁻⁸; a step
// adds an error of about √N·2⁻²⁴ relative in the mat-vec, the T = 25 steps
// of a network of gain 1.4 compound it, and the eligibility sums T cubed
// fluctuations. The measured worst case is 1.6·10⁻⁷ at N = 7 and N = 11
// (logged), so 10⁻⁵ leaves a margin of 60 and still fails on any wrong
// term (an error in the equations changes these quantities at order 1).
const spec32Tol = 1e-5

// TestLearner32MatchesSpec holds the float32 learner to the written-out
// model of docs/MODEL.md §1–3 (specLearner, in float64), over several
// trials with every option on, as TestLearnerMatchesSpec does for the
// float64 learner. Weights and inputs are rounded to float32 first, so the
// two start from the same values and differ by float32 arithmetic only.
func TestLearner32MatchesSpec(t *testing.T) {
	for _, c := range []struct {
		loss Loss
		n    int // 7: the portable mat-vec; 11: the AVX2 one where present
	}{{LossAbs, 7}, {LossMSE, 7}, {LossAbs, 11}, {LossMSE, 11}} {
		loss, n := c.loss, c.n
		t.Run(fmt.Sprintf("%s/N=%d", loss, n), func(t *testing.T) {
			const m, o, T, trials = 2, 2, 25, 6
			rng := rand.New(rand.NewPCG(7, 11))
			net, _ := rnn.NewNetwork(n, m, o)
			rnn.InitRecurrent(rng, net.W, n, 1.4, 0)
			rnn.InitUniform(rng, net.Win, 1)
			rnn.InitUniform(rng, net.Wout, 0.7)
			rnn.InitUniform(rng, net.B, 0.2)
			for _, s := range [][]float64{net.W, net.Win, net.Wout, net.B} {
				round32(s)
			}
			net.ClampIndex, net.ClampValue = []int{2, 5}, []float64{1, -1}
			rule, _ := NewRule(3, 3)
			for k := range rule.Theta {
				rule.Theta[k] = float64(float32(2*rng.Float64() - 1))
			}
			cfg := Config{Eta: 3, Gain: GainBaseline, Clip: 4e-3, WarmupTrials: 1, AlphaR: 0.6,
				Loss: loss, AlphaX: 0.25, TauE: 12}
			dyn := rnn.Dynamics{Dt: 1, Tau: 4}
			l, err := NewLearner32(net, dyn, rule, cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			for k := 3; k < n*n; k += 5 {
				l.Mask[k] = 0
			}
			mask64 := make([]float64, n*n)
			for k, v := range l.Mask {
				mask64[k] = float64(v)
			}
			ref := &specLearner{n: n, m: m, o: o, W: rows(net.W, n, n), Win: rows(net.Win, n, m),
				Wout: rows(net.Wout, o, n), b: append([]float64(nil), net.B...), clampIdx: net.ClampIndex, clampVal: net.ClampValue,
				alpha: dyn.Alpha(), dt: dyn.Dt, alphaX: cfg.AlphaX, lambdaE: 1 - dyn.Dt/cfg.TauE,
				theta: rule.Matrix(), eta: cfg.Eta, clip: cfg.Clip, baselineGain: true, warmup: cfg.WarmupTrials,
				alphaR: cfg.AlphaR, mse: loss == LossMSE, mask: rows(mask64, n, n), Rbar: make([]float64, 2)}
			worst := map[string]float64{}
			check := func(what string, h int, got, want []float64) {
				t.Helper()
				var d, s float64
				for i := range want {
					d = max(d, math.Abs(got[i]-want[i]))
					s = max(s, math.Abs(want[i]))
				}
				rel := d / max(s, 1e-300)
				worst[what] = max(worst[what], rel)
				if rel > spec32Tol {
					t.Fatalf("trial %d: %s differs from the written-out model by %.3g relative to max |%s| = %.3g (tolerance %g)",
						h, what, rel, what, s, spec32Tol)
				}
			}
			var clipped, unclipped int
			for h := 0; h < trials; h++ {
				tr := tasks.NewTrial(h%2, T, m, o)
				for k := range tr.U {
					tr.U[k] = float64(float32(rng.NormFloat64()))
				}
				for k := range tr.Target {
					tr.Target[k] = rng.Float64() - 0.5
				}
				for k := range tr.Mask {
					tr.Mask[k] = float64(k % 3)
				}
				gate := make([]float64, T)
				for k := range gate {
					if k >= 3 && k%4 != 0 {
						gate[k] = 1
					}
				}
				x0 := make([]float64, n)
				net.InitState(rng, x0, 0.1)
				round32(x0)
				xi := make([]float64, T*n)
				for k := range xi {
					xi[k] = float64(float32(0.5 * rng.NormFloat64()))
				}
				wBefore := slices.Clone(l.Net.W)
				out, err := l.Learn(&tr, x0, xi, gate)
				if err != nil {
					t.Fatal(err)
				}
				E, y, e := ref.trial(tr.Condition, x0, rows(tr.U, T, m), rows(xi, T, n), rows(tr.Target, T, o), tr.Mask, gate)
				check("E", h, []float64{out.Error}, []float64{E})
				check("y", h, l.Y, slices.Concat(y...))
				elig := make([]float64, n*n)
				for k, v := range l.Elig {
					elig[k] = float64(v)
				}
				check("e", h, elig, slices.Concat(e...))
				check("W", h, l.Net.Float64().W, slices.Concat(ref.W...))
				check("Rbar", h, l.Baseline, ref.Rbar)
				for k := range wBefore {
					dw := math.Abs(float64(l.Net.W[k] - wBefore[k]))
					if h < cfg.WarmupTrials && dw != 0 {
						t.Fatalf("trial %d is a warm-up trial but W changed", h)
					}
					if h >= cfg.WarmupTrials && l.Mask[k] == 1 {
						// A clipped change is ±clip rounded to float32, then
						// added to W in float32.
						if math.Abs(dw-cfg.Clip) < 1e-3*cfg.Clip {
							clipped++
						} else {
							unclipped++
						}
					}
					if l.Mask[k] == 0 && dw != 0 {
						t.Fatalf("trial %d: masked synapse %d changed", h, k)
					}
				}
			}
			if clipped == 0 || unclipped == 0 {
				t.Fatalf("clipping should be partly active: %d clipped, %d not", clipped, unclipped)
			}
			t.Logf("largest relative differences over %d trials: %v", trials, worst)
		})
	}
}

// TestLearner32IsReproducible checks that two float32 learners given the
// same network and inputs produce the same bits, trial after trial, and
// that the float32 path really differs from the float64 one (it is not the
// float64 learner in disguise).
func TestLearner32IsReproducible(t *testing.T) {
	const n, T = 40, 120
	rng := rand.New(rand.NewPCG(5, 6))
	net, err := rnn.Init(rng, rnn.InitConfig{N: n, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	rule, _ := Named("miconi", 3, 3)
	cfg := Miconi2017()
	cfg.WarmupTrials, cfg.Clip, cfg.Eta = 0, 0.01, 1
	a, _ := NewLearner32(net, rnn.Dynamics{Dt: 1, Tau: 30}, rule, cfg, 2)
	b, _ := NewLearner32(net, rnn.Dynamics{Dt: 1, Tau: 30}, rule, cfg, 2)
	d, _ := NewLearner(net.Float32().Float64(), rnn.Dynamics{Dt: 1, Tau: 30}, rule, cfg, 2)
	task := tasks.NewGoNoGo()
	task.Steps, task.StimStart, task.StimEnd, task.Response = T, 10, 50, 40
	for h := range 8 {
		tr := task.Trial(h%2, nil)
		x0 := make([]float64, n)
		net.InitState(rng, x0, 0.1)
		xi := make([]float64, T*n)
		rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.01, Amp: 4, Start: 4}.Fill(rng, xi, T, n)
		oa, err := a.Learn(&tr, x0, xi, nil)
		if err != nil {
			t.Fatal(err)
		}
		ob, _ := b.Learn(&tr, x0, xi, nil)
		if _, err := d.Learn(&tr, x0, xi, nil); err != nil {
			t.Fatal(err)
		}
		if oa != ob || !slices.Equal(a.Net.W, b.Net.W) || !slices.Equal(a.Trace.X, b.Trace.X) {
			t.Fatalf("trial %d: two float32 learners differ", h)
		}
	}
	if slices.Equal(a.Net.Float64().W, d.Net.W) {
		t.Fatal("the float32 learner's weights equal the float64 learner's bit for bit: not a float32 computation")
	}
}
