package plasticity

import (
	"math"
	"math/rand/v2"
	"testing"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// specLearner is a direct, written-out transcription of docs/MODEL.md §1–3 with
// per-step element-wise updates and math.Pow, sharing no code with the
// package beyond the data types. It is the reference the fast code is held to.
type specLearner struct {
	n, m, o         int
	W, Win, Wout    [][]float64
	b               []float64
	clampIdx        []int
	clampVal        []float64
	alpha, dt       float64
	alphaX, lambdaE float64
	theta           [][]float64
	eta, clip       float64
	baselineGain    bool
	warmup          int
	alphaR          float64
	mse             bool
	mask            [][]float64
	Rbar            []float64
	h               int
}

func pow0(v float64, p int) float64 {
	if p == 0 {
		return 1
	}
	return math.Pow(v, float64(p))
}

// trial runs one trial and learns; returns E, the outputs y^1..y^T and e^T.
func (s *specLearner) trial(cond int, x0 []float64, u, xi [][]float64, target [][]float64, mask, gate []float64) (float64, [][]float64, [][]float64) {
	n := s.n
	T := len(u)
	x := make([][]float64, T+1)
	x[0] = append([]float64(nil), x0...)
	xbar := append([]float64(nil), x0...)
	e := make([][]float64, n)
	for i := range e {
		e[i] = make([]float64, n)
	}
	for t := 0; t < T; t++ {
		r := make([]float64, n)
		for j := range r {
			r[j] = math.Tanh(x[t][j])
		}
		x[t+1] = make([]float64, n)
		for i := 0; i < n; i++ {
			v := -x[t][i] + s.b[i] + xi[t][i]
			for j := 0; j < n; j++ {
				v += s.W[i][j] * r[j]
			}
			for k := 0; k < s.m; k++ {
				v += s.Win[i][k] * u[t][k]
			}
			x[t+1][i] = x[t][i] + s.alpha*v
		}
		for c, i := range s.clampIdx {
			x[t+1][i] = s.clampVal[c]
		}
		delta := make([]float64, n)
		for i := range delta {
			delta[i] = xbar[i] - x[t+1][i]
		}
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				H := 0.0
				for k := range s.theta {
					for l := range s.theta[k] {
						H += s.theta[k][l] * pow0(delta[i], l) * pow0(r[j], k)
					}
				}
				e[i][j] = s.lambdaE*e[i][j] + s.dt*gate[t]*H
			}
		}
		for i := range xbar {
			xbar[i] = s.alphaX*xbar[i] + (1-s.alphaX)*x[t+1][i]
		}
	}
	y := make([][]float64, T)
	var num, den float64
	for t := 1; t <= T; t++ {
		y[t-1] = make([]float64, s.o)
		for q := 0; q < s.o; q++ {
			for j := 0; j < n; j++ {
				y[t-1][q] += s.Wout[q][j] * math.Tanh(x[t][j])
			}
		}
		l := 0.0
		for q := 0; q < s.o; q++ {
			d := y[t-1][q] - target[t-1][q]
			if s.mse {
				l += d * d
			} else {
				l += math.Abs(d)
			}
		}
		num += mask[t-1] * l
		den += mask[t-1]
	}
	E := num / den
	R := -E
	A := R - s.Rbar[cond]
	G := 1.0
	if s.baselineGain {
		G = math.Abs(s.Rbar[cond])
	}
	if s.h >= s.warmup {
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				dw := s.eta * G * A * e[i][j]
				if s.clip > 0 {
					dw = math.Max(-s.clip, math.Min(s.clip, dw))
				}
				s.W[i][j] += dw * s.mask[i][j]
			}
		}
	}
	s.Rbar[cond] = s.alphaR*s.Rbar[cond] + (1-s.alphaR)*R
	s.h++
	return E, y, e
}

func rows(flat []float64, r, c int) [][]float64 {
	m := make([][]float64, r)
	for i := range m {
		m[i] = append([]float64(nil), flat[i*c:(i+1)*c]...)
	}
	return m
}

// TestLearnerMatchesSpec compares the fast learner with the written-out docs/MODEL.md
// §1–3 over several trials on a small network with every option switched on.
func TestLearnerMatchesSpec(t *testing.T) {
	for _, loss := range []Loss{LossAbs, LossMSE} {
		t.Run(string(loss), func(t *testing.T) {
			const n, m, o, T, trials = 7, 2, 2, 25, 6
			rng := rand.New(rand.NewPCG(7, 11))
			net, _ := rnn.NewNetwork(n, m, o)
			rnn.InitRecurrent(rng, net.W, n, 1.4, 0)
			rnn.InitUniform(rng, net.Win, 1)
			rnn.InitUniform(rng, net.Wout, 0.7)
			rnn.InitUniform(rng, net.B, 0.2)
			net.ClampIndex, net.ClampValue = []int{2, 5}, []float64{1, -1}
			rule, _ := NewRule(3, 3)
			for k := range rule.Theta {
				rule.Theta[k] = 2*rng.Float64() - 1
			}
			cfg := Config{Eta: 3, Gain: GainBaseline, Clip: 4e-3, WarmupTrials: 1, AlphaR: 0.6,
				Loss: loss, AlphaX: 0.3, TauE: 12}
			dyn := rnn.Dynamics{Dt: 1, Tau: 5}
			l, err := NewLearner(net.Clone(), dyn, rule, cfg, 2)
			if err != nil {
				t.Fatal(err)
			}
			// A hand-made plastic mask: clamped rows plus a few extra synapses frozen.
			for k := 3; k < n*n; k += 5 {
				l.Mask[k] = 0
			}
			ref := &specLearner{n: n, m: m, o: o, W: rows(net.W, n, n), Win: rows(net.Win, n, m),
				Wout: rows(net.Wout, o, n), b: append([]float64(nil), net.B...), clampIdx: net.ClampIndex, clampVal: net.ClampValue,
				alpha: dyn.Alpha(), dt: dyn.Dt, alphaX: cfg.AlphaX, lambdaE: 1 - dyn.Dt/cfg.TauE,
				theta: rule.Matrix(), eta: cfg.Eta, clip: cfg.Clip, baselineGain: true, warmup: cfg.WarmupTrials,
				alphaR: cfg.AlphaR, mse: loss == LossMSE, mask: rows(l.Mask, n, n), Rbar: make([]float64, 2)}
			var clipped, unclipped int
			for h := 0; h < trials; h++ {
				tr := tasks.NewTrial(h%2, T, m, o)
				for k := range tr.U {
					tr.U[k] = rng.NormFloat64()
				}
				for k := range tr.Target {
					tr.Target[k] = rng.Float64() - 0.5
				}
				for k := range tr.Mask {
					tr.Mask[k] = float64(k % 3) // includes zero and non-unit weights
				}
				gate := make([]float64, T)
				for k := range gate {
					if k >= 3 && k%4 != 0 {
						gate[k] = 1
					}
				}
				x0 := make([]float64, n)
				net.InitState(rng, x0, 0.1)
				xi := make([]float64, T*n)
				for k := range xi {
					xi[k] = 0.5 * rng.NormFloat64()
				}
				wBefore := append([]float64(nil), l.Net.W...)
				out, err := l.Learn(&tr, x0, xi, gate)
				if err != nil {
					t.Fatal(err)
				}
				E, y, e := ref.trial(tr.Condition, x0, rows(tr.U, T, m), rows(xi, T, n), rows(tr.Target, T, o), tr.Mask, gate)
				closeTo(t, "E", h, out.Error, E)
				for ti := range y {
					for q := range y[ti] {
						closeTo(t, "y", h, l.Trace.Y[ti*o+q], y[ti][q])
					}
				}
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						closeTo(t, "e", h, l.Elig[i*n+j], e[i][j])
						closeTo(t, "W", h, l.Net.W[i*n+j], ref.W[i][j])
						dw := math.Abs(l.Net.W[i*n+j] - wBefore[i*n+j])
						if h >= cfg.WarmupTrials && l.Mask[i*n+j] == 1 {
							if math.Abs(dw-cfg.Clip) < 1e-15 {
								clipped++
							} else {
								unclipped++
							}
						}
						if h < cfg.WarmupTrials && dw != 0 {
							t.Fatalf("trial %d is a warm-up trial but W changed", h)
						}
					}
				}
				for c := range ref.Rbar {
					closeTo(t, "Rbar", h, l.Baseline[c], ref.Rbar[c])
				}
			}
			if clipped == 0 || unclipped == 0 {
				t.Fatalf("clipping should be partly active: %d clipped, %d not", clipped, unclipped)
			}
		})
	}
}

func closeTo(t *testing.T, what string, h int, got, want float64) {
	t.Helper()
	if d := math.Abs(got - want); d > 1e-12*math.Max(1, math.Abs(want)) {
		t.Fatalf("trial %d: %s = %.17g, written-out model gives %.17g (diff %.3g)", h, what, got, want, d)
	}
}
