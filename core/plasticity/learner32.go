package plasticity

import (
	"fmt"
	"math"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Learner32 is Learner in float32: the network's state, rates, outputs,
// fluctuations, eligibility and weights are float32 and computed with the
// float32 kernels; the trial error, reward, baseline and gain are scalars
// kept in float64, and the update's factor η·G·A is rounded to float32 once
// per trial. It follows the equations of docs/MODEL.md §1–3 as Learner does
// (TestLearner32MatchesSpec), and the same inputs give the same bits on one
// machine.
type Learner32 struct {
	Net      *rnn.Network32
	Dyn      rnn.Dynamics
	Rule     Rule
	Cfg      Config
	Mask     []float32 // N×N plastic mask
	Baseline []float64 // R̄_c per condition, starting at 0
	H        int       // number of trials learned so far

	Trace rnn.Trace32 // the last trial's states and outputs
	Elig  []float32   // the last trial's eligibility e^T (N×N)
	Y     []float64   // the last trial's outputs y^1…y^T (T×O) in float64

	c   []float32
	c64 []float64
	ws  Workspace32
}

// NewLearner32 checks its arguments as NewLearner does and returns a
// float32 learner of net rounded to float32, with zero baselines.
func NewLearner32(net *rnn.Network, dyn rnn.Dynamics, rule Rule, cfg Config, conditions int) (*Learner32, error) {
	l, err := NewLearner(net, dyn, rule, cfg, conditions)
	if err != nil {
		return nil, err
	}
	mask := make([]float32, len(l.Mask))
	for k, v := range l.Mask {
		mask[k] = float32(v)
	}
	return &Learner32{Net: net.Float32(), Dyn: dyn, Rule: rule, Cfg: cfg, Mask: mask,
		Baseline: l.Baseline, Elig: make([]float32, net.N*net.N)}, nil
}

// Learn is Learner.Learn in float32: it runs trial tr from state x0 with
// perturbations xi (T×N, nil = none), both rounded to float32, then applies
// the weight update and the baseline update. gate (length T) overrides
// the configured gate when non-nil.
func (l *Learner32) Learn(tr *tasks.Trial, x0, xi, gate []float64) (Outcome, error) {
	net, n, T := l.Net, l.Net.N, tr.T
	h := l.H
	if tr.M != net.M || tr.O != net.O {
		return Outcome{}, fmt.Errorf("plasticity: trial has M=%d inputs, O=%d outputs; network has M=%d, O=%d", tr.M, tr.O, net.M, net.O)
	}
	if tr.Condition < 0 || tr.Condition >= len(l.Baseline) {
		return Outcome{}, fmt.Errorf("plasticity: trial condition %d out of range [0, %d)", tr.Condition, len(l.Baseline))
	}
	net.Run(l.Dyn, x0, tr.U, xi, T, &l.Trace)
	l.Y = growSlice(l.Y, T*net.O)
	for k, v := range l.Trace.Y {
		l.Y[k] = float64(v)
	}

	E := TrialError(l.Cfg.Loss, l.Y, tr.Target, tr.Mask, T, net.O)
	if math.IsNaN(E) || math.IsInf(E, 0) {
		return Outcome{}, &DivergenceError{Trial: h, Reason: fmt.Sprintf("trial error is %v", E)}
	}
	R := -E
	c := tr.Condition
	A := R - l.Baseline[c]
	G := 1.0
	if l.Cfg.Gain == GainBaseline {
		G = math.Abs(l.Baseline[c])
	}
	out := Outcome{Trial: h, Condition: c, Error: E, Reward: R, Advantage: A, Gain: G}

	l.c = growSlice(l.c, T)
	l.c64 = growSlice(l.c64, T)
	Weights(l.c64, T, l.Dyn.Dt, Decay(l.Dyn.Dt, l.Cfg.TauE), gate, l.Cfg.GateStart)
	for t, v := range l.c64 {
		l.c[t] = float32(v)
	}
	l.ws.Eligibility(l.Rule, l.Trace.X, l.Trace.R, l.c, float32(l.Cfg.AlphaX), n, T, l.Elig)

	if h >= l.Cfg.WarmupTrials {
		scale := float32(l.Cfg.Eta * G * A)
		clip := float32(l.Cfg.Clip)
		maxW := l.Cfg.MaxWeight
		if maxW == 0 {
			maxW = DefaultMaxWeight
		}
		var maxDW, maxAbsW float32
		w := net.W[:len(l.Elig)]
		mask := l.Mask[:len(l.Elig)]
		for k, e := range l.Elig {
			dw := scale * e
			if clip > 0 {
				dw = max(-clip, min(clip, dw))
			}
			dw *= mask[k]
			v := w[k] + dw
			w[k] = v
			maxDW = max(maxDW, abs32(dw))
			maxAbsW = max(maxAbsW, abs32(v))
		}
		out.MaxDW = float64(maxDW)
		if maxAbsW != maxAbsW || float64(maxAbsW) > maxW {
			return out, &DivergenceError{Trial: h, Reason: fmt.Sprintf("max |W_ij| = %.3g exceeds %.3g", maxAbsW, maxW)}
		}
	}
	l.Baseline[c] = l.Cfg.AlphaR*l.Baseline[c] + (1-l.Cfg.AlphaR)*R
	l.H++
	return out, nil
}

// abs32 returns |v|.
func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
