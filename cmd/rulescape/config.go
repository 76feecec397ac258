package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"rulescape/core/plasticity"
	"rulescape/pipelines"
)

// setupFlags are the flags of the commands that build a training setup
// (train, metaopt, metagrad --write-case): every parameter of
// pipelines.Params, --preset and --config, resolved by
// pipelines.SetupLayers (preset, then config file, then the flags given).
type setupFlags struct {
	params       pipelines.Params
	configPath   string
	progressMode string // --progress, of the commands that have it
	// preset adjusts the preset's values to the command's defaults (nil:
	// none), e.g. metaopt's horizon of 300 trials.
	preset func(*pipelines.Params)
}

// runParams are the keys of `rulescape train` beyond the setup's.
type runParams struct {
	Seeds   string `yaml:"seeds"`   // e.g. 1-8, 1,3,5, 1-4,10
	Workers int    `yaml:"workers"` // seeds trained in parallel (0 = all cores)
}

// defaults returns the default preset's values as the command sees them.
func (sf *setupFlags) defaults() pipelines.Params {
	p, err := pipelines.Preset(pipelines.PresetDefault)
	if err != nil {
		panic(err) // the default preset always exists
	}
	if sf.preset != nil {
		sf.preset(&p)
	}
	return p
}

// resolve layers preset, config file and the flags given; extra (nil or a
// pointer to a struct of the command's own keys) gets the file's values
// of those keys not given as flags.
func (sf *setupFlags) resolve(fs *pflag.FlagSet, extra any) (*pipelines.ResolvedSetup, error) {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[keyName(f.Name)] = true })
	return pipelines.SetupLayers{File: sf.configPath, Flags: &sf.params, Set: set, Extra: extra,
		Preset: func(name string) (pipelines.Params, error) {
			p, err := pipelines.Preset(name)
			if err == nil && sf.preset != nil {
				sf.preset(&p)
			}
			return p, err
		}}.Resolve()
}

// keyName is the config key of a flag: task_params for --task-params (and
// k for the hidden --K of metagrad).
func keyName(flag string) string { return strings.ReplaceAll(strings.ToLower(flag), "-", "_") }

// wantProgress decides whether to draw the progress bar on w.
func wantProgress(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		f, ok := w.(*os.File)
		return ok && term.IsTerminal(int(f.Fd())), nil
	}
	return false, fmt.Errorf("--progress = %q is not known — use auto, always or never", mode)
}

// addFlags registers --preset, --config and the flag of
// every setup parameter (task, network, dynamics, perturbation, rule,
// learner, criterion; not --trials, whose meaning differs by command).
func (sf *setupFlags) addFlags(f *pflag.FlagSet, progress bool) {
	def := sf.defaults()
	fv := &sf.params
	*fv = def
	f.StringVar(&fv.Preset, "preset", def.Preset, "values to start from: miconi2017, or default (the same: Miconi's values are the literature defaults)")
	f.StringVar(&sf.configPath, "config", "", "YAML `file` of parameters (keys = flag names in snake_case); flags override it")
	if progress {
		f.StringVar(&sf.progressMode, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	}

	f.StringVar(&fv.Task, "task", def.Task, "task `name`")
	f.Var(&fv.TaskParams, "task-params", `task parameters as a JSON object of the task's fields, e.g. '{"Steps":500}'`)

	f.IntVar(&fv.N, "n", def.N, "recurrent units N")
	f.Float64Var(&fv.G, "g", def.G, "gain G of the initial recurrent weights, W⁰ ~ G·N(0,1)/√N")
	f.Float64Var(&fv.Density, "density", def.Density, "fraction of non-zero initial recurrent weights (0 or 1 = dense)")
	f.Float64Var(&fv.InScale, "in-scale", def.InScale, "input weights W_in ~ U[−s, s]")
	f.StringVar(&fv.Readout, "readout", def.Readout, "output weights: units (output o reads unit o) or random (N(0,1)/√N)")
	f.Var(&fv.Clamps, "clamps", "values of the clamped bias units, comma-separated, or none")

	f.Float64Var(&fv.Dt, "dt", def.Dt, "time step dt, ms")
	f.Float64Var(&fv.Tau, "tau", def.Tau, "membrane time constant τ, ms (≥ dt)")

	f.StringVar(&fv.Perturb, "perturb", def.Perturb, "exploration perturbation: decoupled, gaussian or none")
	f.Float64Var(&fv.PerturbProb, "perturb-prob", def.PerturbProb, "decoupled: probability per unit per step")
	f.Float64Var(&fv.PerturbAmp, "perturb-amp", def.PerturbAmp, "decoupled: amplitude A of A·U[−1,1]")
	f.Float64Var(&fv.PerturbSigma, "perturb-sigma", def.PerturbSigma, "gaussian: standard deviation σ")
	f.IntVar(&fv.PerturbStart, "perturb-start", def.PerturbStart, "first step that can be perturbed")
	f.Float64Var(&fv.X0Range, "x0-range", def.X0Range, "initial states x⁰ ~ U[−a, a]")

	f.IntVar(&fv.K, "k", def.K, fmt.Sprintf("highest power K of the pre-synaptic rate, 0…%d (taken from --theta if not set)", plasticity.MaxOrder))
	f.IntVar(&fv.L, "l", def.L, fmt.Sprintf("highest power L of the post-synaptic fluctuation, 0…%d (taken from --theta if not set)", plasticity.MaxOrder))
	f.StringVar(&fv.Rule, "rule", def.Rule, "named rule: "+strings.Join(plasticity.RuleNames(), ", "))
	f.Var(&fv.Theta, "theta", "explicit rule Θ as a JSON (K+1)×(L+1) matrix, θ[k][l] (k: pre power, l: post power); replaces --rule")

	f.Float64Var(&fv.Eta, "eta", def.Eta, "learning rate η")
	f.StringVar(&fv.Gain, "gain", def.Gain, "gain G of the update: plain (1) or baseline (|R̄_c|)")
	f.Float64Var(&fv.Clip, "clip", def.Clip, "clip of each ΔW_ij to ±c (0 = none)")
	f.IntVar(&fv.Warmup, "warmup", def.Warmup, "warm-up trials without weight changes")
	f.Float64Var(&fv.AlphaR, "alpha-r", def.AlphaR, "baseline smoothing α_R, 0…1")
	f.StringVar(&fv.Loss, "loss", def.Loss, "per-step loss: abs or mse")
	f.Float64Var(&fv.AlphaX, "alpha-x", def.AlphaX, "filter coefficient α_x of the running average x̄, 0…1")
	f.Float64Var(&fv.TauE, "tau-e", def.TauE, "eligibility decay time τ_e, ms (0 = no decay)")
	f.IntVar(&fv.GateStart, "gate-start", def.GateStart, "eligibility counts steps t ≥ this")
	f.Float64Var(&fv.MaxWeight, "max-weight", def.MaxWeight, "a seed diverges when some |W_ij| exceeds this")

	f.Float64Var(&fv.CriterionThreshold, "criterion-threshold", def.CriterionThreshold, "criterion: trial error below this counts as learned")
	f.IntVar(&fv.CriterionWindow, "criterion-window", def.CriterionWindow, "criterion: sliding window, trials (also the window of the final error and accuracy)")
	f.Float64Var(&fv.CriterionFraction, "criterion-fraction", def.CriterionFraction, "criterion: fraction of the window below the threshold, (0, 1]")
}
