package pipelines

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// Params is every parameter of one training setup: task, network,
// dynamics, perturbation, rule, learner, criterion and trials. The yaml and
// json name of a field is its key in a campaign file and in a
// `rulescape train --config` file; the train flag is the key with '_'
// replaced by '-' (task_params ↔ --task-params).
//
// A Params is built into a train.Setup by Build. Values usually start from a
// preset (Preset) and are overridden key by key.
type Params struct {
	Preset string `yaml:"preset" json:"preset"` // preset the other values start from

	Task       string     `yaml:"task" json:"task"`               // registered task name
	TaskParams JSONObject `yaml:"task_params" json:"task_params"` // task struct fields to override

	N       int       `yaml:"n" json:"n"`               // recurrent units
	G       float64   `yaml:"g" json:"g"`               // gain of W⁰
	Density float64   `yaml:"density" json:"density"`   // fraction of non-zero W⁰ entries (0 or 1 = dense)
	InScale float64   `yaml:"in_scale" json:"in_scale"` // W_in ~ U[−in_scale, in_scale]
	Readout string    `yaml:"readout" json:"readout"`   // units or random
	Clamps  FloatList `yaml:"clamps" json:"clamps"`     // values of the clamped bias units

	Dt  float64 `yaml:"dt" json:"dt"`   // time step, ms
	Tau float64 `yaml:"tau" json:"tau"` // membrane time constant, ms

	Perturb      string  `yaml:"perturb" json:"perturb"`             // decoupled, gaussian or none
	PerturbProb  float64 `yaml:"perturb_prob" json:"perturb_prob"`   // decoupled: probability per unit per step
	PerturbAmp   float64 `yaml:"perturb_amp" json:"perturb_amp"`     // decoupled: amplitude A
	PerturbSigma float64 `yaml:"perturb_sigma" json:"perturb_sigma"` // gaussian: standard deviation
	PerturbStart int     `yaml:"perturb_start" json:"perturb_start"` // first perturbed step
	X0Range      float64 `yaml:"x0_range" json:"x0_range"`           // x⁰ ~ U[−x0_range, x0_range]

	K     int    `yaml:"k" json:"k"`         // highest power of the pre-synaptic rate
	L     int    `yaml:"l" json:"l"`         // highest power of the post-synaptic fluctuation
	Rule  string `yaml:"rule" json:"rule"`   // named rule
	Theta Matrix `yaml:"theta" json:"theta"` // explicit (K+1)×(L+1) rule; replaces rule

	Eta       float64 `yaml:"eta" json:"eta"`               // learning rate η
	Gain      string  `yaml:"gain" json:"gain"`             // plain or baseline
	Clip      float64 `yaml:"clip" json:"clip"`             // element-wise clip of ΔW (0 = none)
	Warmup    int     `yaml:"warmup" json:"warmup"`         // trials without weight changes
	AlphaR    float64 `yaml:"alpha_r" json:"alpha_r"`       // baseline smoothing α_R
	Loss      string  `yaml:"loss" json:"loss"`             // abs or mse
	AlphaX    float64 `yaml:"alpha_x" json:"alpha_x"`       // filter coefficient α_x of x̄
	TauE      float64 `yaml:"tau_e" json:"tau_e"`           // eligibility decay time, ms (0 = none)
	GateStart int     `yaml:"gate_start" json:"gate_start"` // eligibility counts steps t ≥ gate_start
	MaxWeight float64 `yaml:"max_weight" json:"max_weight"` // divergence threshold on |W_ij|
	// Precision is the learner's arithmetic: f64 (the default, also "") or
	// f32. Build records f64 as "", and the key is omitted from JSON when
	// empty, so that f64 setups keep the content keys and campaign IDs
	// they had before the setting existed.
	Precision string `yaml:"precision" json:"precision,omitempty"`

	CriterionThreshold float64 `yaml:"criterion_threshold" json:"criterion_threshold"` // error below which a trial counts
	CriterionWindow    int     `yaml:"criterion_window" json:"criterion_window"`       // sliding window, trials
	CriterionFraction  float64 `yaml:"criterion_fraction" json:"criterion_fraction"`   // fraction of the window below threshold

	Trials int `yaml:"trials" json:"trials"` // learning trials per seed
}

// Presets.
const (
	PresetDefault    = "default"
	PresetMiconi2017 = "miconi2017"
)

// PresetNames lists the presets Preset accepts.
func PresetNames() []string { return []string{PresetDefault, PresetMiconi2017} }

// DefaultTrials is the preset number of learning trials per seed.
const DefaultTrials = 3000

// Preset returns the values of a preset. "default" is Miconi (2017): his are
// the literature values the rule space was introduced with.
func Preset(name string) (Params, error) {
	switch name {
	case PresetDefault, PresetMiconi2017:
	default:
		return Params{}, fmt.Errorf("unknown preset %q — choose one of %s", name, strings.Join(PresetNames(), ", "))
	}
	s := train.Miconi2017(nil, DefaultTrials)
	p := Params{
		Preset: name,
		Task:   "dnms",

		N: s.Init.N, G: s.Init.G, Density: s.Init.Density, InScale: s.Init.InScale,
		Readout: string(s.Init.Readout), Clamps: append(FloatList(nil), s.Init.Clamps...),

		Dt: s.Dyn.Dt, Tau: s.Dyn.Tau,

		Perturb: string(s.Perturb.Scheme), PerturbProb: s.Perturb.Prob, PerturbAmp: s.Perturb.Amp,
		PerturbSigma: s.Perturb.Sigma, PerturbStart: s.Perturb.Start, X0Range: s.X0Range,

		K: s.Rule.K, L: s.Rule.L, Rule: "miconi",

		Eta: s.Learner.Eta, Gain: string(s.Learner.Gain), Clip: s.Learner.Clip,
		Warmup: s.Learner.WarmupTrials, AlphaR: s.Learner.AlphaR, Loss: string(s.Learner.Loss),
		AlphaX: s.Learner.AlphaX, TauE: s.Learner.TauE, GateStart: s.Learner.GateStart,
		MaxWeight: s.Learner.MaxWeight,

		CriterionThreshold: s.Criterion.Threshold, CriterionWindow: s.Criterion.Window,
		CriterionFraction: s.Criterion.Fraction,

		Trials: s.Trials,
	}
	if p.MaxWeight == 0 {
		p.MaxWeight = plasticity.DefaultMaxWeight
	}
	return p, nil
}

// paramIndex maps each key to its field index in Params.
var paramIndex = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[Params]()
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("yaml")] = i
	}
	return m
}()

// ParamKeys lists the keys of Params in field order.
func ParamKeys() []string {
	t := reflect.TypeFor[Params]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

// ParamUsage is the one-line help of a parameter's flag.
func ParamUsage(key string) string {
	switch key {
	case "k":
		return fmt.Sprintf("highest power K of the pre-synaptic rate, 0…%d (taken from --theta if not set)", plasticity.MaxOrder)
	case "l":
		return fmt.Sprintf("highest power L of the post-synaptic fluctuation, 0…%d (taken from --theta if not set)", plasticity.MaxOrder)
	case "rule":
		return "named rule: " + strings.Join(plasticity.RuleNames(), ", ")
	}
	return paramUsage[key]
}

var paramUsage = map[string]string{
	"preset":              "values to start from: miconi2017, or default (the same: Miconi's values are the literature defaults)",
	"task":                "task `name`",
	"task_params":         `task parameters as a JSON object of the task's fields, e.g. '{"Steps":500}'`,
	"n":                   "recurrent units N",
	"g":                   "gain G of the initial recurrent weights, W⁰ ~ G·N(0,1)/√N",
	"density":             "fraction of non-zero initial recurrent weights (0 or 1 = dense)",
	"in_scale":            "input weights W_in ~ U[−s, s]",
	"readout":             "output weights: units (output o reads unit o) or random (N(0,1)/√N)",
	"clamps":              "values of the clamped bias units, comma-separated, or none",
	"dt":                  "time step dt, ms",
	"tau":                 "membrane time constant τ, ms (≥ dt)",
	"perturb":             "exploration perturbation: decoupled, gaussian or none",
	"perturb_prob":        "decoupled: probability per unit per step",
	"perturb_amp":         "decoupled: amplitude A of A·U[−1,1]",
	"perturb_sigma":       "gaussian: standard deviation σ",
	"perturb_start":       "first step that can be perturbed",
	"x0_range":            "initial states x⁰ ~ U[−a, a]",
	"theta":               "explicit rule Θ as a JSON (K+1)×(L+1) matrix, θ[k][l] (k: pre power, l: post power); replaces --rule",
	"eta":                 "learning rate η",
	"gain":                "gain G of the update: plain (1) or baseline (|R̄_c|)",
	"clip":                "clip of each ΔW_ij to ±c (0 = none)",
	"warmup":              "warm-up trials without weight changes",
	"alpha_r":             "baseline smoothing α_R, 0…1",
	"loss":                "per-step loss: abs or mse",
	"alpha_x":             "filter coefficient α_x of the running average x̄, 0…1",
	"tau_e":               "eligibility decay time τ_e, ms (0 = no decay)",
	"gate_start":          "eligibility counts steps t ≥ this",
	"max_weight":          "a seed diverges when some |W_ij| exceeds this",
	"precision":           "arithmetic of the learner: f64 (default) or f32 (≈ 1.8× faster at N = 200; docs/PERFORMANCE.md)",
	"criterion_threshold": "criterion: trial error below this counts as learned",
	"criterion_window":    "criterion: sliding window, trials (also the window of the final error and accuracy)",
	"criterion_fraction":  "criterion: fraction of the window below the threshold, (0, 1]",
	"trials":              "learning trials per seed",
}

// Field returns the addressable field of p named by key, or an invalid
// reflect.Value for an unknown key.
func (p *Params) Field(key string) reflect.Value {
	i, ok := paramIndex[key]
	if !ok {
		return reflect.Value{}
	}
	return reflect.ValueOf(p).Elem().Field(i)
}

// Format formats the value of key the way error messages show it.
func (p *Params) Format(key string) string {
	f := p.Field(key)
	if !f.IsValid() {
		return ""
	}
	switch v := f.Interface().(type) {
	case string:
		return strconv.Quote(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(f.Interface())
}

// Source tells Build where parameter values came from, so that an error
// names the flag, config key or campaign field at fault.
type Source interface {
	// Ref names where the value of key came from, e.g. "--eta",
	// "eta (in c.yaml)" or "tasks[0].overrides.eta".
	Ref(key string) string
	// Explicit reports whether key was set explicitly rather than taken
	// from the preset (an explicit k or l must agree with theta's shape).
	Explicit(key string) bool
	// Name is how a fix names the parameter key: "--n" on the command
	// line, "n" in a file.
	Name(key string) string
}

// presetSource is the Source of values that all come from the preset.
type presetSource string

func (s presetSource) Ref(key string) string    { return fmt.Sprintf("%s (preset %s)", key, string(s)) }
func (s presetSource) Explicit(key string) bool { return false }
func (s presetSource) Name(key string) string   { return key }

// ParamError is a bad parameter value found by Build.
type ParamError struct {
	Key     string // the parameter at fault ("" when none is)
	Problem string // what is wrong, starting with where the value came from
	Fix     string // how to fix it
	Err     error  // the underlying cause, if any
}

// Error returns "<problem> — <fix>".
func (e *ParamError) Error() string {
	if e.Fix == "" {
		return e.Problem
	}
	return e.Problem + " — " + e.Fix
}

// Unwrap returns the underlying cause.
func (e *ParamError) Unwrap() error { return e.Err }

// Built is a validated training setup and the rule name it reports.
type Built struct {
	Setup    *train.Setup
	RuleName string // the named rule, or "custom" for an explicit theta
}

// builder holds what Build's checks share.
type builder struct {
	p   *Params
	src Source
}

func (b builder) bad(key, what, fix string) error {
	return &ParamError{Key: key, Problem: fmt.Sprintf("%s = %s %s", b.src.Ref(key), b.p.Format(key), what), Fix: fix}
}

// Build validates every parameter, naming the one at fault (as src names
// it; nil means every value is the preset's) and how to fix it, and
// assembles the training setup. Errors are *ParamError. An explicit Theta
// sets K and L from its shape unless src says k or l were set explicitly;
// Build then records them in p.
func (p *Params) Build(src Source) (*Built, error) {
	if src == nil {
		src = presetSource(p.Preset)
	}
	b := builder{p, src}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	oneOf := func(key, v string, valid ...string) error {
		for _, ok := range valid {
			if v == ok {
				return nil
			}
		}
		return b.bad(key, "is not known", "use "+orList(valid))
	}

	task, err := tasks.New(p.Task)
	if err != nil {
		return nil, b.bad("task", "is not a known task", "choose one of "+strings.Join(tasks.Names(), ", "))
	}
	if len(p.TaskParams) > 0 {
		js, _ := json.Marshal(p.TaskParams)
		if err := tasks.Configure(task, js); err != nil {
			return nil, b.taskParamsError(task, err)
		}
	} else if err := tasks.Validate(task); err != nil {
		return nil, &ParamError{Key: "task", Problem: fmt.Sprintf("%s: %v", src.Ref("task"), err), Fix: "set valid task_params", Err: err}
	}

	checks := []struct {
		ok        bool
		key, what string
		fix       string
	}{
		{p.N >= 1, "n", "is too small", "the network needs at least 1 recurrent unit"},
		{finite(p.G) && p.G >= 0, "g", "is out of range", "the gain of W⁰ must be finite and ≥ 0 (Miconi: 1.5)"},
		{p.Density >= 0 && p.Density <= 1, "density", "is out of range", "use a fraction in [0, 1] (0 or 1 = dense)"},
		{finite(p.InScale) && p.InScale > 0, "in_scale", "is out of range", "use a positive input scale (W_in ~ U[−s, s])"},
		{finite(p.Dt) && p.Dt > 0, "dt", "is out of range", "use a positive time step in ms"},
		{finite(p.Tau) && p.Tau >= p.Dt, "tau", "is out of range", fmt.Sprintf("τ must be finite and ≥ dt = %v ms", p.Dt)},
		{p.PerturbProb >= 0 && p.PerturbProb <= 1, "perturb_prob", "is out of range", "use a probability in [0, 1]"},
		{finite(p.PerturbAmp) && p.PerturbAmp >= 0, "perturb_amp", "is out of range", "use a finite amplitude ≥ 0"},
		{finite(p.PerturbSigma) && p.PerturbSigma >= 0, "perturb_sigma", "is out of range", "use a finite standard deviation ≥ 0"},
		{p.PerturbStart >= 0, "perturb_start", "is out of range", "use a step ≥ 0"},
		{finite(p.X0Range) && p.X0Range >= 0, "x0_range", "is out of range", "use a finite half-width ≥ 0"},
		{p.K >= 0 && p.K <= plasticity.MaxOrder, "k", "is out of range", fmt.Sprintf("K must be in [0, %d]", plasticity.MaxOrder)},
		{p.L >= 0 && p.L <= plasticity.MaxOrder, "l", "is out of range", fmt.Sprintf("L must be in [0, %d]", plasticity.MaxOrder)},
		{finite(p.Eta) && p.Eta >= 0, "eta", "is out of range", "use a finite learning rate ≥ 0"},
		{finite(p.Clip) && p.Clip >= 0, "clip", "is out of range", "use a clip ≥ 0 (0 = no clipping)"},
		{p.Warmup >= 0, "warmup", "is out of range", "use a number of trials ≥ 0"},
		{p.AlphaR >= 0 && p.AlphaR <= 1, "alpha_r", "is out of range", "use a smoothing factor in [0, 1]"},
		{p.AlphaX >= 0 && p.AlphaX <= 1, "alpha_x", "is out of range", "use a filter coefficient in [0, 1]"},
		{finite(p.TauE) && p.TauE >= 0, "tau_e", "is out of range", "use a decay time ≥ 0 ms (0 = no decay)"},
		{p.GateStart >= 0, "gate_start", "is out of range", "use a step ≥ 0"},
		{p.MaxWeight > 0, "max_weight", "is out of range", "use a positive bound on |W_ij|"},
		{finite(p.CriterionThreshold), "criterion_threshold", "is not finite", "use an error threshold such as 0.5"},
		{p.CriterionWindow >= 1, "criterion_window", "is too small", "use a window of at least 1 trial"},
		{p.CriterionFraction > 0 && p.CriterionFraction <= 1, "criterion_fraction", "is out of range", "use a fraction in (0, 1]"},
		{p.Trials >= 1, "trials", "is too small", "train for at least 1 trial"},
	}
	for _, c := range checks {
		if !c.ok {
			return nil, b.bad(c.key, c.what, c.fix)
		}
	}
	for i, v := range p.Clamps {
		if !finite(v) {
			return nil, b.bad("clamps", fmt.Sprintf("has a non-finite value at position %d", i+1), "use finite values, e.g. 1,1,-1")
		}
	}
	if err := oneOf("readout", p.Readout, string(rnn.ReadoutUnits), string(rnn.ReadoutRandom)); err != nil {
		return nil, err
	}
	if err := oneOf("perturb", p.Perturb, string(rnn.Decoupled), string(rnn.Gaussian), string(rnn.None)); err != nil {
		return nil, err
	}
	if err := oneOf("gain", p.Gain, string(plasticity.GainPlain), string(plasticity.GainBaseline)); err != nil {
		return nil, err
	}
	if err := oneOf("loss", p.Loss, string(plasticity.LossAbs), string(plasticity.LossMSE)); err != nil {
		return nil, err
	}
	if p.Precision != "" {
		if err := oneOf("precision", p.Precision, train.PrecisionNames()...); err != nil {
			return nil, err
		}
	}
	if train.Precision(p.Precision) == train.F64 {
		p.Precision = ""
	}
	spec := task.Spec()
	if p.Readout == string(rnn.ReadoutUnits) && p.N < spec.Outputs+len(p.Clamps) {
		return nil, b.bad("n", fmt.Sprintf("is too small for %d readout unit(s) and %d clamped unit(s)", spec.Outputs, len(p.Clamps)),
			fmt.Sprintf("use %s ≥ %d or fewer %s", src.Name("n"), spec.Outputs+len(p.Clamps), src.Name("clamps")))
	}
	if p.Readout == string(rnn.ReadoutRandom) && p.N < len(p.Clamps) {
		return nil, b.bad("n", fmt.Sprintf("is too small for %d clamped unit(s)", len(p.Clamps)),
			fmt.Sprintf("use %s ≥ %d or fewer %s", src.Name("n"), len(p.Clamps), src.Name("clamps")))
	}

	rule, ruleName, err := b.rule()
	if err != nil {
		return nil, err
	}

	s := &train.Setup{
		Task: task,
		Init: rnn.InitConfig{N: p.N, G: p.G, Density: p.Density, InScale: p.InScale,
			Readout: rnn.Readout(p.Readout), Clamps: append([]float64(nil), p.Clamps...)},
		Dyn: rnn.Dynamics{Dt: p.Dt, Tau: p.Tau},
		Perturb: rnn.Perturbation{Scheme: rnn.Scheme(p.Perturb), Prob: p.PerturbProb, Amp: p.PerturbAmp,
			Sigma: p.PerturbSigma, Start: p.PerturbStart},
		Rule: rule,
		Learner: plasticity.Config{Eta: p.Eta, Gain: plasticity.Gain(p.Gain), Clip: p.Clip,
			WarmupTrials: p.Warmup, AlphaR: p.AlphaR, Loss: plasticity.Loss(p.Loss), AlphaX: p.AlphaX,
			TauE: p.TauE, GateStart: p.GateStart, MaxWeight: p.MaxWeight},
		X0Range:   p.X0Range,
		Trials:    p.Trials,
		Precision: train.Precision(p.Precision),
		Criterion: train.Criterion{Threshold: p.CriterionThreshold, Window: p.CriterionWindow, Fraction: p.CriterionFraction},
	}
	if err := s.Validate(); err != nil {
		// Every field was checked above; this is a backstop for checks
		// added to the engine later.
		return nil, &ParamError{Problem: fmt.Sprintf("invalid setup: %v", err), Fix: "check the parameters named there", Err: err}
	}
	return &Built{Setup: s, RuleName: ruleName}, nil
}

// RequireF64 refuses a float32 setup for what (a command or stage) whose
// computations are float64 only, naming the parameter as src names it;
// fix replaces the default advice when not empty.
func (p *Params) RequireF64(src Source, what, fix string) error {
	if train.Precision(p.Precision) != train.F32 {
		return nil
	}
	if src == nil {
		src = presetSource(p.Preset)
	}
	return &ParamError{Key: "precision",
		Problem: fmt.Sprintf("%s = \"f32\" is not supported by %s (its meta-gradients are float64 only)", src.Ref("precision"), what),
		Fix:     cmp.Or(fix, fmt.Sprintf("drop %s or set it to f64", src.Name("precision")))}
}

// rule returns the rule Θ from theta or the named rule, with K and L
// taken from theta's shape unless they were set explicitly.
func (b builder) rule() (plasticity.Rule, string, error) {
	p, src := b.p, b.src
	if p.Theta == nil {
		if p.Rule == "" {
			return plasticity.Rule{}, "", &ParamError{Key: "rule", Problem: "no rule given",
				Fix: fmt.Sprintf("set %s NAME (%s) or %s MATRIX", src.Name("rule"), strings.Join(plasticity.RuleNames(), ", "), src.Name("theta"))}
		}
		if !contains(plasticity.RuleNames(), p.Rule) {
			return plasticity.Rule{}, "", b.bad("rule", "is not a named rule", "choose one of "+strings.Join(plasticity.RuleNames(), ", ")+", or give "+src.Name("theta"))
		}
		rule, err := plasticity.Named(p.Rule, p.K, p.L)
		if err != nil {
			return plasticity.Rule{}, "", &ParamError{Key: "rule", Err: err,
				Problem: fmt.Sprintf("%s = %q: %s", src.Ref("rule"), p.Rule, strings.TrimPrefix(err.Error(), "plasticity: ")),
				Fix:     fmt.Sprintf("raise %s/%s or choose another rule", src.Name("k"), src.Name("l"))}
		}
		return rule, p.Rule, nil
	}
	rows := len(p.Theta)
	cols := 0
	if rows > 0 {
		cols = len(p.Theta[0])
	}
	for k, row := range p.Theta {
		if len(row) != cols {
			return plasticity.Rule{}, "", &ParamError{Key: "theta",
				Problem: fmt.Sprintf("%s has rows of different lengths (row 0: %d, row %d: %d)", src.Ref("theta"), cols, k, len(row)),
				Fix:     "give a rectangular (K+1)×(L+1) matrix, e.g. [[0,0],[0,-1]]"}
		}
	}
	if rows == 0 || cols == 0 {
		return plasticity.Rule{}, "", &ParamError{Key: "theta", Problem: fmt.Sprintf("%s is empty", src.Ref("theta")),
			Fix: "give a (K+1)×(L+1) matrix, e.g. [[0,0],[0,-1]] for K = L = 1"}
	}
	for _, d := range []struct {
		key  string
		have int
		got  int
	}{{"k", p.K, rows - 1}, {"l", p.L, cols - 1}} {
		if src.Explicit(d.key) && d.have != d.got {
			return plasticity.Rule{}, "", &ParamError{Key: "theta",
				Problem: fmt.Sprintf("%s is %d×%d, which needs K = %d, L = %d, but %s = %d", src.Ref("theta"), rows, cols, rows-1, cols-1, src.Ref(d.key), d.have),
				Fix:     fmt.Sprintf("give a %d×%d matrix or drop %s", p.K+1, p.L+1, src.Name(d.key))}
		}
	}
	if rows-1 > plasticity.MaxOrder || cols-1 > plasticity.MaxOrder {
		return plasticity.Rule{}, "", &ParamError{Key: "theta", Problem: fmt.Sprintf("%s is %d×%d", src.Ref("theta"), rows, cols),
			Fix: fmt.Sprintf("K and L must be ≤ %d, so at most %d×%d", plasticity.MaxOrder, plasticity.MaxOrder+1, plasticity.MaxOrder+1)}
	}
	p.K, p.L = rows-1, cols-1
	rule, err := plasticity.FromMatrix(p.Theta)
	if err != nil {
		return plasticity.Rule{}, "", &ParamError{Key: "theta", Problem: fmt.Sprintf("%s: %v", src.Ref("theta"), err), Err: err}
	}
	return rule, "custom", nil
}

// taskParamsError explains a task parameter error; the tasks package's
// message lists the task's parameter names.
func (b builder) taskParamsError(task tasks.Task, err error) error {
	msg := strings.TrimPrefix(err.Error(), "tasks: ")
	ref := b.src.Ref("task_params")
	if strings.Contains(msg, "unknown parameter") {
		// The message already lists the valid parameters.
		return &ParamError{Key: "task_params", Problem: fmt.Sprintf("%s: %s", ref, msg), Fix: "use one of those names (see docs/TASKS.md)", Err: err}
	}
	fix := "adjust them so they fit together (see docs/TASKS.md for " + task.Name() + "'s parameters)"
	if strings.Contains(msg, "json: ") || strings.Contains(msg, "JSON") {
		fix = task.Name() + " takes a JSON object of its parameters, e.g. {\"steps\": 500}"
	}
	return &ParamError{Key: "task_params", Problem: fmt.Sprintf("%s: %s", ref, msg), Fix: fix, Err: err}
}

// RandomRule returns a rule of orders K, L with θ_kl ~ N(0, scale²) drawn
// from a PCG stream of seed (the same draw as `rulescape metaopt --init
// random`).
func RandomRule(k, l int, scale float64, seed uint64) (plasticity.Rule, error) {
	rule, err := plasticity.NewRule(k, l)
	if err != nil {
		return rule, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x3001))
	for i := range rule.Theta {
		rule.Theta[i] = scale * rng.NormFloat64()
	}
	return rule, nil
}

// errNoSeeds and friends are the messages of ParseSeeds.
const seedsFix = `write seeds as a list of numbers and low-high ranges, e.g. "1-8", "1,3,5" or "1-4,10"`

// MaxSeeds bounds the number of seeds of one run or campaign.
const MaxSeeds = 100000

// ParseSeeds parses a seed list such as "1-8", "1,3,5" or "1-4,10" into
// distinct seeds in the order given.
func ParseSeeds(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no seeds — " + seedsFix)
	}
	var seeds []uint64
	seen := map[uint64]bool{}
	add := func(v uint64) error {
		if seen[v] {
			return fmt.Errorf("seed %d is listed twice — list each seed once", v)
		}
		if len(seeds) == MaxSeeds {
			return fmt.Errorf("more than %d seeds — split the run", MaxSeeds)
		}
		seen[v] = true
		seeds = append(seeds, v)
		return nil
	}
	num := func(part, v string) (uint64, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a seed or a range — %s", part, seedsFix)
		}
		return n, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := num(part, lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = num(part, hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("range %q runs backwards — write it low-high, e.g. %d-%d", strings.TrimSpace(part), b, a)
			}
			if b-a >= MaxSeeds {
				return nil, fmt.Errorf("range %q has more than %d seeds — split the run", strings.TrimSpace(part), MaxSeeds)
			}
		}
		for v := a; ; v++ {
			if err := add(v); err != nil {
				return nil, err
			}
			if v == b {
				break
			}
		}
	}
	return seeds, nil
}

// Nearest returns the candidate within edit distance 2 of s, if any: the
// "did you mean" of unknown keys.
func Nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// orList formats "a, b or c".
func orList(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	return strings.Join(v[:len(v)-1], ", ") + " or " + v[len(v)-1]
}
