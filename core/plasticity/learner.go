package plasticity

import (
	"errors"
	"fmt"
	"math"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Gain selects the factor G^h of the weight update.
type Gain string

// Gains.
const (
	GainPlain    Gain = "plain"    // G = 1
	GainBaseline Gain = "baseline" // G = |R̄_c| (Miconi 2017)
)

// Loss selects the per-step loss ℓ of the trial error.
type Loss string

// Losses.
const (
	LossAbs Loss = "abs" // ℓ = Σ_o |y_o − y*_o| (Miconi 2017)
	LossMSE Loss = "mse" // ℓ = Σ_o (y_o − y*_o)²
)

// DefaultMaxWeight is the |W_ij| above which a run is declared divergent.
const DefaultMaxWeight = 1e3

// Config holds the parameters of docs/MODEL.md §2–3. The zero value is not useful;
// start from Defaults or Miconi2017.
type Config struct {
	Eta          float64 // learning rate η
	Gain         Gain    // plain or baseline (default plain)
	Clip         float64 // c_max, element-wise clip of η G A e; 0 = no clipping
	WarmupTrials int     // trials h < WarmupTrials change no weight (the baseline still learns)
	AlphaR       float64 // baseline smoothing α_R
	Loss         Loss    // abs or mse (default abs)
	AlphaX       float64 // filter coefficient α_x of x̄
	TauE         float64 // eligibility decay time τ_e, ms; 0 = no decay
	GateStart    int     // g^t = 1 for steps t ≥ GateStart
	MaxWeight    float64 // divergence threshold on |W_ij|; 0 = DefaultMaxWeight
}

// Defaults returns a plain three-factor learner: η = 0.1, plain gain, no
// clipping, no warm-up, α_R = 0.75, abs loss, α_x = 0.05, no decay, gate open.
func Defaults() Config {
	return Config{Eta: 0.1, Gain: GainPlain, AlphaR: 0.75, Loss: LossAbs, AlphaX: 0.05}
}

// Miconi2017 returns Miconi's learner settings: η = 0.1, baseline-scaled gain,
// clip 3e-4, warm-up 100 trials, α_R = 0.75, abs loss, α_x = 0.05, gate t ≥ 3.
func Miconi2017() Config {
	return Config{Eta: 0.1, Gain: GainBaseline, Clip: 3e-4, WarmupTrials: 100, AlphaR: 0.75,
		Loss: LossAbs, AlphaX: 0.05, GateStart: 3}
}

// Validate reports a parameter out of range, naming it.
func (c Config) Validate() error {
	bad := func(name string, v any, want string) error {
		return fmt.Errorf("plasticity: %s = %v: %s", name, v, want)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case !finite(c.Eta) || c.Eta < 0:
		return bad("eta", c.Eta, "must be finite and ≥ 0")
	case c.Gain != GainPlain && c.Gain != GainBaseline && c.Gain != "":
		return bad("gain", c.Gain, "use plain or baseline")
	case !(c.Clip >= 0):
		return bad("clip", c.Clip, "must be ≥ 0 (0 = no clipping)")
	case c.WarmupTrials < 0:
		return bad("warmup", c.WarmupTrials, "must be ≥ 0")
	case !(c.AlphaR >= 0 && c.AlphaR <= 1):
		return bad("alpha_R", c.AlphaR, "must be in [0, 1]")
	case c.Loss != LossAbs && c.Loss != LossMSE && c.Loss != "":
		return bad("loss", c.Loss, "use abs or mse")
	case !(c.AlphaX >= 0 && c.AlphaX <= 1):
		return bad("alpha_x", c.AlphaX, "must be in [0, 1]")
	case !(c.TauE >= 0):
		return bad("tau_e", c.TauE, "must be ≥ 0 ms (0 = no decay)")
	case c.GateStart < 0:
		return bad("gate_start", c.GateStart, "must be ≥ 0")
	case !(c.MaxWeight >= 0):
		return bad("max_weight", c.MaxWeight, "must be ≥ 0 (0 = default)")
	}
	return nil
}

// DivergenceError reports a learner that produced NaN/Inf or exploding weights.
type DivergenceError struct {
	Trial  int    // learning trial h at which divergence was detected
	Reason string // what was seen
}

func (e *DivergenceError) Error() string {
	return fmt.Sprintf("plasticity: learner diverged at trial %d: %s (lower eta, enable clipping, or check the rule)", e.Trial, e.Reason)
}

// ErrDiverged matches any *DivergenceError with errors.Is.
var ErrDiverged = errors.New("plasticity: learner diverged")

// Is makes errors.Is(err, ErrDiverged) true.
func (e *DivergenceError) Is(target error) bool { return target == ErrDiverged }

// TrialError returns E = Σ_t m^t ℓ(y^t − y*^t) / Σ_t m^t for outputs y and
// targets (T×O) and mask (T). An all-zero mask gives 0.
func TrialError(loss Loss, y, target, mask []float64, T, o int) float64 {
	var s, w float64
	for t := 0; t < T; t++ {
		m := mask[t]
		if m == 0 {
			continue
		}
		var l float64
		for k := t * o; k < (t+1)*o; k++ {
			d := y[k] - target[k]
			if loss == LossMSE {
				l += d * d
			} else {
				l += math.Abs(d)
			}
		}
		s += m * l
		w += m
	}
	if w == 0 {
		return 0
	}
	return s / w
}

// DefaultMask returns the plastic mask: all ones except the rows of clamped units.
func DefaultMask(net *rnn.Network) []float64 {
	n := net.N
	mask := make([]float64, n*n)
	for i := range mask {
		mask[i] = 1
	}
	for _, c := range net.ClampIndex {
		clear(mask[c*n : (c+1)*n])
	}
	return mask
}

// Outcome summarises one learning trial.
type Outcome struct {
	Trial     int     // learning-trial index h
	Condition int     // c_h
	Error     float64 // E^h
	Reward    float64 // R^h = −E^h
	Advantage float64 // A^h = R^h − R̄_c (before the baseline update)
	Gain      float64 // G^h
	MaxDW     float64 // max |ΔW_ij| applied
}

// Learner trains one network with one rule, trial by trial (docs/MODEL.md §3).
type Learner struct {
	Net      *rnn.Network
	Dyn      rnn.Dynamics
	Rule     Rule
	Cfg      Config
	Mask     []float64 // N×N plastic mask (DefaultMask if nil at construction)
	Baseline []float64 // R̄_c per condition, starting at 0
	H        int       // number of trials learned so far

	Trace rnn.Trace // the last trial's states and outputs
	Elig  []float64 // the last trial's eligibility e^T (N×N)

	delta, xbar, c []float64
	ws             Workspace
}

// NewLearner checks its arguments and returns a learner with zero baselines.
func NewLearner(net *rnn.Network, dyn rnn.Dynamics, rule Rule, cfg Config, conditions int) (*Learner, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if err := dyn.Validate(); err != nil {
		return nil, err
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if conditions <= 0 {
		return nil, fmt.Errorf("plasticity: %d conditions: need at least one", conditions)
	}
	return &Learner{Net: net, Dyn: dyn, Rule: rule, Cfg: cfg, Mask: DefaultMask(net),
		Baseline: make([]float64, conditions), Elig: make([]float64, net.N*net.N)}, nil
}

// Learn runs trial tr from state x0 with perturbations xi (T×N, nil = none),
// then applies the weight update and the baseline update. gate (length T)
// overrides the configured gate when non-nil.
func (l *Learner) Learn(tr *tasks.Trial, x0, xi, gate []float64) (Outcome, error) {
	net, n, T := l.Net, l.Net.N, tr.T
	h := l.H
	if tr.M != net.M || tr.O != net.O {
		return Outcome{}, fmt.Errorf("plasticity: trial has M=%d inputs, O=%d outputs; network has M=%d, O=%d", tr.M, tr.O, net.M, net.O)
	}
	if tr.Condition < 0 || tr.Condition >= len(l.Baseline) {
		return Outcome{}, fmt.Errorf("plasticity: trial condition %d out of range [0, %d)", tr.Condition, len(l.Baseline))
	}
	net.Run(l.Dyn, x0, tr.U, xi, T, &l.Trace)

	E := TrialError(l.Cfg.Loss, l.Trace.Y, tr.Target, tr.Mask, T, net.O)
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

	l.delta = growSlice(l.delta, T*n)
	l.xbar = growSlice(l.xbar, n)
	l.c = growSlice(l.c, T)
	Fluctuation(l.Trace.X, n, T, l.Cfg.AlphaX, l.delta, l.xbar)
	Weights(l.c, T, l.Dyn.Dt, Decay(l.Dyn.Dt, l.Cfg.TauE), gate, l.Cfg.GateStart)
	l.ws.Eligibility(l.Rule, l.delta, l.Trace.R, l.c, n, T, l.Elig)

	if h >= l.Cfg.WarmupTrials {
		scale := l.Cfg.Eta * G * A
		clip := l.Cfg.Clip
		maxW := l.Cfg.MaxWeight
		if maxW == 0 {
			maxW = DefaultMaxWeight
		}
		var maxDW, maxAbsW float64
		for k, e := range l.Elig {
			dw := scale * e
			if clip > 0 {
				dw = max(-clip, min(clip, dw))
			}
			dw *= l.Mask[k]
			w := net.W[k] + dw
			net.W[k] = w
			maxDW = max(maxDW, math.Abs(dw))
			maxAbsW = max(maxAbsW, math.Abs(w))
		}
		out.MaxDW = maxDW
		if math.IsNaN(maxAbsW) || maxAbsW > maxW {
			return out, &DivergenceError{Trial: h, Reason: fmt.Sprintf("max |W_ij| = %.3g exceeds %.3g", maxAbsW, maxW)}
		}
	}
	l.Baseline[c] = l.Cfg.AlphaR*l.Baseline[c] + (1-l.Cfg.AlphaR)*R
	l.H++
	return out, nil
}
