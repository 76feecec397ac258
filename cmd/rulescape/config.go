package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// trainParams is every parameter of `rulescape train`. The yaml name of a
// field is its config-file key; its flag is the key with '_' replaced by '-'
// (task_params ↔ --task-params). Values are layered: preset, then config
// file, then the flags the user actually set.
type trainParams struct {
	Preset string `yaml:"preset"` // preset the other values start from

	Task       string     `yaml:"task"`        // registered task name
	TaskParams jsonObject `yaml:"task_params"` // task struct fields to override

	N       int       `yaml:"n"`        // recurrent units
	G       float64   `yaml:"g"`        // gain of W⁰
	Density float64   `yaml:"density"`  // fraction of non-zero W⁰ entries (0 or 1 = dense)
	InScale float64   `yaml:"in_scale"` // W_in ~ U[−in_scale, in_scale]
	Readout string    `yaml:"readout"`  // units or random
	Clamps  floatList `yaml:"clamps"`   // values of the clamped bias units

	Dt  float64 `yaml:"dt"`  // time step, ms
	Tau float64 `yaml:"tau"` // membrane time constant, ms

	Perturb      string  `yaml:"perturb"`       // decoupled, gaussian or none
	PerturbProb  float64 `yaml:"perturb_prob"`  // decoupled: probability per unit per step
	PerturbAmp   float64 `yaml:"perturb_amp"`   // decoupled: amplitude A
	PerturbSigma float64 `yaml:"perturb_sigma"` // gaussian: standard deviation
	PerturbStart int     `yaml:"perturb_start"` // first perturbed step
	X0Range      float64 `yaml:"x0_range"`      // x⁰ ~ U[−x0_range, x0_range]

	K     int    `yaml:"k"`     // highest power of the pre-synaptic rate
	L     int    `yaml:"l"`     // highest power of the post-synaptic fluctuation
	Rule  string `yaml:"rule"`  // named rule
	Theta matrix `yaml:"theta"` // explicit (K+1)×(L+1) rule; replaces rule

	Eta       float64 `yaml:"eta"`        // learning rate η
	Gain      string  `yaml:"gain"`       // plain or baseline
	Clip      float64 `yaml:"clip"`       // element-wise clip of ΔW (0 = none)
	Warmup    int     `yaml:"warmup"`     // trials without weight changes
	AlphaR    float64 `yaml:"alpha_r"`    // baseline smoothing α_R
	Loss      string  `yaml:"loss"`       // abs or mse
	AlphaX    float64 `yaml:"alpha_x"`    // filter coefficient α_x of x̄
	TauE      float64 `yaml:"tau_e"`      // eligibility decay time, ms (0 = none)
	GateStart int     `yaml:"gate_start"` // eligibility counts steps t ≥ gate_start
	MaxWeight float64 `yaml:"max_weight"` // divergence threshold on |W_ij|

	CriterionThreshold float64 `yaml:"criterion_threshold"` // error below which a trial counts
	CriterionWindow    int     `yaml:"criterion_window"`    // sliding window, trials
	CriterionFraction  float64 `yaml:"criterion_fraction"`  // fraction of the window below threshold

	Trials  int    `yaml:"trials"`  // learning trials per seed
	Seeds   string `yaml:"seeds"`   // e.g. 1-8, 1,3,5, 1-4,10
	Workers int    `yaml:"workers"` // seeds trained in parallel (0 = all cores)
}

// Presets.
const (
	presetDefault    = "default"
	presetMiconi2017 = "miconi2017"
)

var presetNames = []string{presetDefault, presetMiconi2017}

// defaultTrials is the preset number of learning trials per seed.
const defaultTrials = 3000

// presetParams returns the values of a preset. "default" is Miconi (2017):
// his are the literature values the rule space was introduced with.
func presetParams(name string) (trainParams, error) {
	switch name {
	case presetDefault, presetMiconi2017:
	default:
		return trainParams{}, fmt.Errorf("unknown preset %q — choose one of %s", name, strings.Join(presetNames, ", "))
	}
	s := train.Miconi2017(nil, defaultTrials)
	p := trainParams{
		Preset: name,
		Task:   "dnms",

		N: s.Init.N, G: s.Init.G, Density: s.Init.Density, InScale: s.Init.InScale,
		Readout: string(s.Init.Readout), Clamps: append(floatList(nil), s.Init.Clamps...),

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

		Trials: s.Trials, Seeds: "1", Workers: 0,
	}
	if p.MaxWeight == 0 {
		p.MaxWeight = plasticity.DefaultMaxWeight
	}
	return p, nil
}

// paramFields maps each config key to its field index in trainParams.
var paramFields = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[trainParams]()
	for i := range t.NumField() {
		m[t.Field(i).Tag.Get("yaml")] = i
	}
	return m
}()

// paramKeys lists the config keys in field order.
func paramKeys() []string {
	t := reflect.TypeFor[trainParams]()
	keys := make([]string, t.NumField())
	for i := range keys {
		keys[i] = t.Field(i).Tag.Get("yaml")
	}
	return keys
}

func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }
func keyName(flag string) string { return strings.ReplaceAll(flag, "-", "_") }

// resolved is the outcome of layering preset, config file and flags.
type resolved struct {
	trainParams
	ConfigFile string
	source     map[string]string // key → "flag", "config" or "preset"
}

// ref names where a parameter's value came from, for error messages.
func (r *resolved) ref(key string) string {
	switch r.source[key] {
	case "flag":
		return "--" + flagName(key)
	case "config":
		return fmt.Sprintf("%s (in %s)", key, r.ConfigFile)
	default:
		return fmt.Sprintf("%s (preset %s)", key, r.Preset)
	}
}

// value formats a parameter's current value.
func (r *resolved) value(key string) string {
	v := reflect.ValueOf(r.trainParams).Field(paramFields[key]).Interface()
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

// bad returns "<where> = <value> <what> — <fix>".
func (r *resolved) bad(key, what, fix string) error {
	return fmt.Errorf("%s = %s %s — %s", r.ref(key), r.value(key), what, fix)
}

// resolveParams layers the preset, the config file (if any) and the flags
// that were set. flagVals holds the parsed flag values and changed names
// the flags the user set (by config key).
func resolveParams(configPath string, flagVals *trainParams, changed map[string]bool) (*resolved, error) {
	var cfg *configFile
	if configPath != "" {
		var err error
		if cfg, err = readConfig(configPath); err != nil {
			return nil, err
		}
	}
	preset := presetDefault
	presetChanged := changed["preset"]
	switch {
	case presetChanged:
		preset = flagVals.Preset
	case cfg != nil && cfg.preset != "":
		preset = cfg.preset
	}
	base, err := presetParams(preset)
	if err != nil {
		if presetChanged {
			return nil, fmt.Errorf("--preset: %w", err)
		}
		return nil, fmt.Errorf("preset (in %s): %w", configPath, err)
	}
	r := &resolved{trainParams: base, ConfigFile: configPath, source: map[string]string{}}
	if cfg != nil {
		if err := cfg.decodeOnto(&r.trainParams); err != nil {
			return nil, err
		}
		if err := r.layer(cfg.keys, "config"); err != nil {
			return nil, err
		}
	}
	dst := reflect.ValueOf(&r.trainParams).Elem()
	src := reflect.ValueOf(flagVals).Elem()
	var flagKeys []string
	for _, key := range paramKeys() {
		if !changed[key] {
			continue
		}
		flagKeys = append(flagKeys, key)
		i := paramFields[key]
		if key == "task_params" {
			r.TaskParams = r.TaskParams.merged(flagVals.TaskParams)
			continue
		}
		dst.Field(i).Set(src.Field(i))
	}
	r.Preset = preset
	if err := r.layer(flagKeys, "flag"); err != nil {
		return nil, err
	}
	return r, nil
}

// layer records the source of keys set by one layer and makes rule and
// theta replace each other: the layer that names one clears the other.
func (r *resolved) layer(keys []string, source string) error {
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
		r.source[k] = source
	}
	switch {
	case set["rule"] && set["theta"]:
		if source == "flag" {
			return errors.New("--rule and --theta both given — use --rule for a named rule or --theta for an explicit matrix, not both")
		}
		return fmt.Errorf("rule and theta both set in %s — keep one: rule for a named rule, theta for an explicit matrix", r.ConfigFile)
	case set["rule"]:
		r.Theta = nil
	case set["theta"]:
		r.Rule = ""
	}
	return nil
}

// builtSetup is a validated training setup and the names it reports.
type builtSetup struct {
	Setup    *train.Setup
	Seeds    []uint64
	RuleName string // the named rule, or "custom" for an explicit theta
}

// build validates every parameter, naming the flag or config key at fault
// and how to fix it, and assembles the training setup.
func (r *resolved) build() (*builtSetup, error) {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	oneOf := func(key, v string, valid ...string) error {
		if !contains(valid, v) {
			return r.bad(key, "is not known", "use "+orList(valid))
		}
		return nil
	}

	task, err := tasks.New(r.Task)
	if err != nil {
		return nil, r.bad("task", "is not a known task", "choose one of "+strings.Join(tasks.Names(), ", "))
	}
	if len(r.TaskParams) > 0 {
		js, _ := json.Marshal(r.TaskParams)
		if err := tasks.Configure(task, js); err != nil {
			return nil, r.taskParamsError(task, err)
		}
	} else if err := tasks.Validate(task); err != nil {
		return nil, fmt.Errorf("%s: %w — set valid task_params", r.ref("task"), err)
	}

	checks := []struct {
		ok        bool
		key, what string
		fix       string
	}{
		{r.N >= 1, "n", "is too small", "the network needs at least 1 recurrent unit"},
		{finite(r.G) && r.G >= 0, "g", "is out of range", "the gain of W⁰ must be finite and ≥ 0 (Miconi: 1.5)"},
		{r.Density >= 0 && r.Density <= 1, "density", "is out of range", "use a fraction in [0, 1] (0 or 1 = dense)"},
		{finite(r.InScale) && r.InScale > 0, "in_scale", "is out of range", "use a positive input scale (W_in ~ U[−s, s])"},
		{finite(r.Dt) && r.Dt > 0, "dt", "is out of range", "use a positive time step in ms"},
		{finite(r.Tau) && r.Tau >= r.Dt, "tau", "is out of range", fmt.Sprintf("τ must be finite and ≥ dt = %v ms", r.Dt)},
		{r.PerturbProb >= 0 && r.PerturbProb <= 1, "perturb_prob", "is out of range", "use a probability in [0, 1]"},
		{finite(r.PerturbAmp) && r.PerturbAmp >= 0, "perturb_amp", "is out of range", "use a finite amplitude ≥ 0"},
		{finite(r.PerturbSigma) && r.PerturbSigma >= 0, "perturb_sigma", "is out of range", "use a finite standard deviation ≥ 0"},
		{r.PerturbStart >= 0, "perturb_start", "is out of range", "use a step ≥ 0"},
		{finite(r.X0Range) && r.X0Range >= 0, "x0_range", "is out of range", "use a finite half-width ≥ 0"},
		{r.K >= 0 && r.K <= plasticity.MaxOrder, "k", "is out of range", fmt.Sprintf("K must be in [0, %d]", plasticity.MaxOrder)},
		{r.L >= 0 && r.L <= plasticity.MaxOrder, "l", "is out of range", fmt.Sprintf("L must be in [0, %d]", plasticity.MaxOrder)},
		{finite(r.Eta) && r.Eta >= 0, "eta", "is out of range", "use a finite learning rate ≥ 0"},
		{finite(r.Clip) && r.Clip >= 0, "clip", "is out of range", "use a clip ≥ 0 (0 = no clipping)"},
		{r.Warmup >= 0, "warmup", "is out of range", "use a number of trials ≥ 0"},
		{r.AlphaR >= 0 && r.AlphaR <= 1, "alpha_r", "is out of range", "use a smoothing factor in [0, 1]"},
		{r.AlphaX >= 0 && r.AlphaX <= 1, "alpha_x", "is out of range", "use a filter coefficient in [0, 1]"},
		{finite(r.TauE) && r.TauE >= 0, "tau_e", "is out of range", "use a decay time ≥ 0 ms (0 = no decay)"},
		{r.GateStart >= 0, "gate_start", "is out of range", "use a step ≥ 0"},
		{r.MaxWeight > 0, "max_weight", "is out of range", "use a positive bound on |W_ij|"},
		{finite(r.CriterionThreshold), "criterion_threshold", "is not finite", "use an error threshold such as 0.5"},
		{r.CriterionWindow >= 1, "criterion_window", "is too small", "use a window of at least 1 trial"},
		{r.CriterionFraction > 0 && r.CriterionFraction <= 1, "criterion_fraction", "is out of range", "use a fraction in (0, 1]"},
		{r.Trials >= 1, "trials", "is too small", "train for at least 1 trial"},
		{r.Workers >= 0, "workers", "is negative", "use 0 for all cores or a positive number"},
	}
	for _, c := range checks {
		if !c.ok {
			return nil, r.bad(c.key, c.what, c.fix)
		}
	}
	for i, v := range r.Clamps {
		if !finite(v) {
			return nil, r.bad("clamps", fmt.Sprintf("has a non-finite value at position %d", i+1), "use finite values, e.g. 1,1,-1")
		}
	}
	if err := oneOf("readout", r.Readout, string(rnn.ReadoutUnits), string(rnn.ReadoutRandom)); err != nil {
		return nil, err
	}
	if err := oneOf("perturb", r.Perturb, string(rnn.Decoupled), string(rnn.Gaussian), string(rnn.None)); err != nil {
		return nil, err
	}
	if err := oneOf("gain", r.Gain, string(plasticity.GainPlain), string(plasticity.GainBaseline)); err != nil {
		return nil, err
	}
	if err := oneOf("loss", r.Loss, string(plasticity.LossAbs), string(plasticity.LossMSE)); err != nil {
		return nil, err
	}
	spec := task.Spec()
	if r.Readout == string(rnn.ReadoutUnits) && r.N < spec.Outputs+len(r.Clamps) {
		return nil, r.bad("n", fmt.Sprintf("is too small for %d readout unit(s) and %d clamped unit(s)", spec.Outputs, len(r.Clamps)),
			fmt.Sprintf("use --n ≥ %d or fewer --clamps", spec.Outputs+len(r.Clamps)))
	}
	if r.Readout == string(rnn.ReadoutRandom) && r.N < len(r.Clamps) {
		return nil, r.bad("n", fmt.Sprintf("is too small for %d clamped unit(s)", len(r.Clamps)),
			fmt.Sprintf("use --n ≥ %d or fewer --clamps", len(r.Clamps)))
	}

	rule, ruleName, err := r.rule()
	if err != nil {
		return nil, err
	}
	seeds, err := parseSeeds(r.Seeds)
	if err != nil {
		return nil, fmt.Errorf("%s = %q: %w", r.ref("seeds"), r.Seeds, err)
	}

	s := &train.Setup{
		Task: task,
		Init: rnn.InitConfig{N: r.N, G: r.G, Density: r.Density, InScale: r.InScale,
			Readout: rnn.Readout(r.Readout), Clamps: append([]float64(nil), r.Clamps...)},
		Dyn: rnn.Dynamics{Dt: r.Dt, Tau: r.Tau},
		Perturb: rnn.Perturbation{Scheme: rnn.Scheme(r.Perturb), Prob: r.PerturbProb, Amp: r.PerturbAmp,
			Sigma: r.PerturbSigma, Start: r.PerturbStart},
		Rule: rule,
		Learner: plasticity.Config{Eta: r.Eta, Gain: plasticity.Gain(r.Gain), Clip: r.Clip,
			WarmupTrials: r.Warmup, AlphaR: r.AlphaR, Loss: plasticity.Loss(r.Loss), AlphaX: r.AlphaX,
			TauE: r.TauE, GateStart: r.GateStart, MaxWeight: r.MaxWeight},
		X0Range:   r.X0Range,
		Trials:    r.Trials,
		Criterion: train.Criterion{Threshold: r.CriterionThreshold, Window: r.CriterionWindow, Fraction: r.CriterionFraction},
	}
	if err := s.Validate(); err != nil {
		// Every field was checked above; this is a backstop for checks
		// added to the engine later.
		return nil, fmt.Errorf("invalid setup: %w — check the parameters named there", err)
	}
	return &builtSetup{Setup: s, Seeds: seeds, RuleName: ruleName}, nil
}

// rule returns the rule Θ from theta or the named rule, with K and L
// taken from theta's shape unless they were set explicitly.
func (r *resolved) rule() (plasticity.Rule, string, error) {
	if r.Theta == nil {
		if r.Rule == "" {
			return plasticity.Rule{}, "", errors.New("no rule given — set --rule NAME (" + strings.Join(plasticity.RuleNames(), ", ") + ") or --theta MATRIX")
		}
		if !contains(plasticity.RuleNames(), r.Rule) {
			return plasticity.Rule{}, "", r.bad("rule", "is not a named rule", "choose one of "+strings.Join(plasticity.RuleNames(), ", ")+", or give --theta")
		}
		rule, err := plasticity.Named(r.Rule, r.K, r.L)
		if err != nil {
			return plasticity.Rule{}, "", fmt.Errorf("%s = %q: %s — raise --k/--l or choose another rule",
				r.ref("rule"), r.Rule, strings.TrimPrefix(err.Error(), "plasticity: "))
		}
		return rule, r.Rule, nil
	}
	rows := len(r.Theta)
	cols := 0
	if rows > 0 {
		cols = len(r.Theta[0])
	}
	for k, row := range r.Theta {
		if len(row) != cols {
			return plasticity.Rule{}, "", fmt.Errorf("%s has rows of different lengths (row 0: %d, row %d: %d) — give a rectangular (K+1)×(L+1) matrix, e.g. [[0,0],[0,-1]]",
				r.ref("theta"), cols, k, len(row))
		}
	}
	if rows == 0 || cols == 0 {
		return plasticity.Rule{}, "", fmt.Errorf("%s is empty — give a (K+1)×(L+1) matrix, e.g. [[0,0],[0,-1]] for K = L = 1", r.ref("theta"))
	}
	for _, d := range []struct {
		key  string
		have int
		got  int
	}{{"k", r.K, rows - 1}, {"l", r.L, cols - 1}} {
		if r.source[d.key] != "" && d.have != d.got {
			return plasticity.Rule{}, "", fmt.Errorf("%s is %d×%d, which needs K = %d, L = %d, but %s = %d — give a %d×%d matrix or drop --%s",
				r.ref("theta"), rows, cols, rows-1, cols-1, r.ref(d.key), d.have, r.K+1, r.L+1, d.key)
		}
	}
	if rows-1 > plasticity.MaxOrder || cols-1 > plasticity.MaxOrder {
		return plasticity.Rule{}, "", fmt.Errorf("%s is %d×%d — K and L must be ≤ %d, so at most %d×%d",
			r.ref("theta"), rows, cols, plasticity.MaxOrder, plasticity.MaxOrder+1, plasticity.MaxOrder+1)
	}
	r.K, r.L = rows-1, cols-1
	rule, err := plasticity.FromMatrix(r.Theta)
	if err != nil {
		return plasticity.Rule{}, "", fmt.Errorf("%s: %w", r.ref("theta"), err)
	}
	return rule, "custom", nil
}

// taskParamsError explains a task parameter error and lists the task's
// parameter names.
func (r *resolved) taskParamsError(task tasks.Task, err error) error {
	msg := strings.TrimPrefix(err.Error(), "tasks: ")
	if strings.Contains(msg, "unknown parameter") {
		// The message already lists the valid parameters.
		return fmt.Errorf("%s: %s — use one of those names (see docs/TASKS.md)", r.ref("task_params"), msg)
	}
	fix := "adjust them so they fit together (see docs/TASKS.md for " + task.Name() + "'s parameters)"
	if strings.Contains(msg, "json: ") || strings.Contains(msg, "JSON") {
		fix = task.Name() + " takes a JSON object of its parameters, e.g. {\"steps\": 500}"
	}
	return fmt.Errorf("%s: %s — %s", r.ref("task_params"), msg, fix)
}

// maxSeeds bounds the number of seeds of one run.
const maxSeeds = 100000

// parseSeeds parses a seed list such as "1-8", "1,3,5" or "1-4,10" into
// distinct seeds in the order given.
func parseSeeds(s string) ([]uint64, error) {
	const fix = `write seeds as a list of numbers and low-high ranges, e.g. "1-8", "1,3,5" or "1-4,10"`
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("no seeds — " + fix)
	}
	var seeds []uint64
	seen := map[uint64]bool{}
	add := func(v uint64) error {
		if seen[v] {
			return fmt.Errorf("seed %d is listed twice — list each seed once", v)
		}
		if len(seeds) == maxSeeds {
			return fmt.Errorf("more than %d seeds — split the run", maxSeeds)
		}
		seen[v] = true
		seeds = append(seeds, v)
		return nil
	}
	num := func(part, v string) (uint64, error) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a seed or a range — %s", part, fix)
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
			if b-a >= maxSeeds {
				return nil, fmt.Errorf("range %q has more than %d seeds — split the run", strings.TrimSpace(part), maxSeeds)
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

// configFile is a parsed config file: its raw bytes, its keys in order and
// the preset it names.
type configFile struct {
	path   string
	data   []byte
	keys   []string
	preset string
}

// readConfig reads and checks the shape of a config file.
func readConfig(path string) (*configFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w — check the path given to --config", err)
	}
	cfg := &configFile{path: path, data: data}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, cfg.yamlError(err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 { // empty file
		return cfg, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config file %s: line %d: expected key: value pairs at the top level — write one parameter per line, e.g. \"n: 200\"", path, top.Line)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		key := k.Value
		if _, ok := paramFields[key]; !ok {
			return nil, cfg.unknownKey(key, k.Line)
		}
		cfg.keys = append(cfg.keys, key)
		if key == "preset" {
			cfg.preset = v.Value
		}
	}
	return cfg, nil
}

// decodeOnto overwrites the fields of p named in the file.
func (c *configFile) decodeOnto(p *trainParams) error {
	dec := yaml.NewDecoder(bytes.NewReader(c.data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil && !errors.Is(err, io.EOF) {
		return c.yamlError(err)
	}
	return nil
}

var (
	yamlLineRE    = regexp.MustCompile(`^yaml: (line \d+: )?`)
	yamlUnknownRE = regexp.MustCompile(`^line (\d+): field (\S+) not found in type`)
)

// yamlError rewrites a YAML error as one line naming the file and line.
func (c *configFile) yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if m := yamlUnknownRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return c.unknownKey(m[2], line)
		}
		fix := "give a value of the type shown in `rulescape train --help`"
		if strings.Contains(msg, "already defined") {
			fix = "keep only one of them"
		}
		return fmt.Errorf("config file %s: %s — %s", c.path, msg, fix)
	}
	if !strings.HasPrefix(err.Error(), "yaml: ") {
		// From a value's own UnmarshalYAML: the message says line and fix.
		return fmt.Errorf("config file %s: %w", c.path, err)
	}
	msg := yamlLineRE.ReplaceAllString(err.Error(), "$1")
	return fmt.Errorf("config file %s: %s — fix the YAML syntax there (key: value, one per line)", c.path, msg)
}

// unknownKey reports a key that names no parameter, suggesting the nearest.
func (c *configFile) unknownKey(key string, line int) error {
	hint := "keys are the train flags without -- and with _ for -, e.g. perturb_prob"
	if near := nearest(key, paramKeys()); near != "" {
		hint = fmt.Sprintf("did you mean %q? (%s)", near, hint)
	}
	return fmt.Errorf("config file %s: line %d: unknown key %q — %s", c.path, line, key, hint)
}

// nearest returns the candidate within edit distance 2 of s, if any.
func nearest(s string, candidates []string) string {
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

// floatList is a list of numbers: "1,1,-1" on the command line ("" or
// "none" for an empty list), a YAML sequence or such a string in a file.
type floatList []float64

func (f *floatList) String() string {
	if len(*f) == 0 {
		return "none"
	}
	s := make([]string, len(*f))
	for i, v := range *f {
		s[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// Set implements pflag.Value.
func (f *floatList) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		*f = floatList{}
		return nil
	}
	var out floatList
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number — give comma-separated numbers, e.g. 1,1,-1, or none", part)
		}
		out = append(out, v)
	}
	*f = out
	return nil
}

// Type implements pflag.Value.
func (f *floatList) Type() string { return "floats" }

// UnmarshalYAML accepts a sequence of numbers or a comma-separated string.
func (f *floatList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if err := f.Set(n.Value); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		return nil
	}
	var v []float64
	if err := n.Decode(&v); err != nil {
		return err
	}
	*f = floatList(v)
	if *f == nil {
		*f = floatList{}
	}
	return nil
}

// matrix is the rule Θ as (K+1) rows of L+1 numbers; a JSON array of arrays
// on the command line, a YAML sequence of sequences in a file.
type matrix [][]float64

func (m *matrix) String() string {
	if *m == nil {
		return ""
	}
	b, _ := json.Marshal(*m)
	return string(b)
}

// Set implements pflag.Value.
func (m *matrix) Set(s string) error {
	var v [][]float64
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("not a JSON matrix (%v) — give (K+1) rows of L+1 numbers, e.g. '[[0,0],[0,-1]]'", err)
	}
	if v == nil {
		v = [][]float64{}
	}
	*m = v
	return nil
}

// Type implements pflag.Value.
func (m *matrix) Type() string { return "json" }

// jsonObject holds task parameters: a JSON object on the command line, a
// YAML mapping in a file.
type jsonObject map[string]any

func (o *jsonObject) String() string {
	if len(*o) == 0 {
		return ""
	}
	b, _ := json.Marshal(*o)
	return string(b)
}

// Set implements pflag.Value.
func (o *jsonObject) Set(s string) error {
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return fmt.Errorf("not a JSON object (%v) — give task fields as JSON, e.g. '{\"Steps\":500}'", err)
	}
	*o = v
	return nil
}

// Type implements pflag.Value.
func (o *jsonObject) Type() string { return "json" }

// UnmarshalYAML accepts a mapping.
func (o *jsonObject) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: task_params is not a mapping — give the task's fields as key: value pairs, e.g. {Steps: 500}", n.Line)
	}
	var v map[string]any
	if err := n.Decode(&v); err != nil {
		return err
	}
	*o = o.merged(v)
	return nil
}

// merged returns o with the keys of over replacing its own.
func (o jsonObject) merged(over map[string]any) jsonObject {
	out := jsonObject{}
	for k, v := range o {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}
