package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"rulescape/core/plasticity"
	"rulescape/core/train"
	"rulescape/internal/progress"
)

func init() { register(newTrainCmd) }

const trainLong = `Train rate RNNs with a three-factor plasticity rule on a task, one learner
per seed, seeds in parallel, and report per seed the trials needed to reach
the learning criterion, the final error and the final accuracy (both over the
last criterion window).

Parameters come from a preset, then a YAML config file (--config), then the
flags given on the command line, each layer overriding the one before. The
config file uses the flag names without "--" and with "_" for "-"
(perturb_prob: 0.003); see docs/CLI.md. The default preset is miconi2017:
Miconi's (2017) values are the literature defaults of this model.

With -o json, stdout has one JSON object per seed, in seed order:
{task, rule, seed, trials, trials_to_criterion (null if not reached),
final_error, final_accuracy, wall_seconds, errors: [per-trial error]}, plus
"error" for a seed that failed. A failed seed (for example a diverging
learner) does not stop the others; the exit code is then 1.`

const trainExample = `  rulescape train --task dnms --rule miconi --trials 3000 --seeds 1-8
  rulescape train --rule node-perturbation --eta 0.03 --seeds 1,3,5 -o json
  rulescape train --k 1 --l 1 --theta '[[0,0],[0,-1]]' --n 100
  rulescape train --config cmd/rulescape/testdata/train.yaml --seeds 1-4`

// trainFlags holds the parsed flags of `rulescape train`.
type trainFlags struct {
	params       trainParams // parameter flags; the help shows the default preset's values
	configPath   string
	progressMode string
}

// resolve layers preset, config file and the flags that were set.
func (tf *trainFlags) resolve(fs *pflag.FlagSet) (*resolved, error) {
	changed := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { changed[keyName(f.Name)] = true })
	return resolveParams(tf.configPath, &tf.params, changed)
}

// newTrainCmd builds `rulescape train`.
func newTrainCmd(a *app) *cobra.Command {
	cmd, _ := newTrainCommand(a)
	return cmd
}

// newTrainCommand builds `rulescape train` and returns its flags too.
func newTrainCommand(a *app) (*cobra.Command, *trainFlags) {
	def, err := presetParams(presetDefault)
	if err != nil {
		panic(err) // the default preset always exists
	}
	tf := &trainFlags{params: def}
	fv := &tf.params
	cmd := &cobra.Command{
		Use:     "train",
		Short:   "Train RNNs with a plasticity rule on a task, one learner per seed",
		Long:    trainLong,
		Example: trainExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := tf.resolve(cmd.Flags())
			if err != nil {
				return err
			}
			b, err := r.build()
			if err != nil {
				return err
			}
			showBar, err := wantProgress(tf.progressMode, a.stderr)
			if err != nil {
				return err
			}
			return a.train(cmd.Context(), r, b, showBar)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if strings.Contains(err.Error(), " — ") {
			return err
		}
		return fmt.Errorf("%w — see `rulescape train --help` for the flags and their values", err)
	})
	f := cmd.Flags()
	f.StringVar(&fv.Preset, "preset", def.Preset, "values to start from: miconi2017, or default (the same: Miconi's values are the literature defaults)")
	f.StringVar(&tf.configPath, "config", "", "YAML `file` of parameters (keys = flag names in snake_case); flags override it")
	f.StringVar(&tf.progressMode, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")

	addSetupFlags(f, fv, def)

	f.IntVar(&fv.Trials, "trials", def.Trials, "learning trials per seed")
	f.StringVar(&fv.Seeds, "seeds", def.Seeds, `seeds, e.g. "1-8", "1,3,5" or "1-4,10"`)
	f.IntVar(&fv.Workers, "workers", def.Workers, "seeds trained in parallel (0 = all cores)")
	f.SortFlags = false
	return cmd, tf
}

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

// seedRecord is one seed's line of `train -o json`.
type seedRecord struct {
	Task              string      `json:"task"`
	Rule              string      `json:"rule"`
	Seed              uint64      `json:"seed"`
	Trials            int         `json:"trials"`
	TrialsToCriterion *int        `json:"trials_to_criterion"`
	FinalError        jsonFloat   `json:"final_error"`
	FinalAccuracy     jsonFloat   `json:"final_accuracy"`
	WallSeconds       float64     `json:"wall_seconds"`
	Errors            []jsonFloat `json:"errors"`
	Error             string      `json:"error,omitempty"`
}

// train runs every seed and writes the report as seeds finish, in seed order.
func (a *app) train(ctx context.Context, r *resolved, b *builtSetup, showBar bool) error {
	s := b.Setup
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(b.Seeds))
	a.log.Info("train", "task", s.Task.Name(), "rule", b.RuleName, "seeds", len(b.Seeds),
		"trials", s.Trials, "workers", workers, "preset", r.Preset, "config", r.ConfigFile)

	out := a.printer()
	out.Text(func(w io.Writer) { writeHeader(w, r, b, workers) })
	onTrial := train.Progress(nil)
	if showBar {
		out.Bar = progress.New(a.stderr, s.Trials*len(b.Seeds), progress.Config{
			Label: s.Task.Name() + "/" + b.RuleName, Unit: "trials"})
		onTrial = func(uint64, int) { out.Bar.Add(1) }
	}

	var (
		failed, stopped []uint64
		reached         []int
		firstErr        error
	)
	err := train.RunSeeds(ctx, s, b.Seeds, workers, onTrial, func(seed uint64, res *train.Result, err error) {
		switch {
		case err == nil:
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			stopped = append(stopped, seed)
		default:
			failed = append(failed, seed)
			if firstErr == nil {
				firstErr = err
			}
		}
		if err == nil && res.TrialsToCriterion >= 0 {
			reached = append(reached, res.TrialsToCriterion)
		}
		out.Print(seedJSON(s.Task.Name(), b.RuleName, seed, res, err), func(w io.Writer) { writeSeedRow(w, seed, res, err) })
	})
	if out.Bar != nil {
		out.Bar.Finish()
	}
	if len(failed)+len(stopped) == 0 && err != nil { // the setup itself
		return err
	}
	out.Text(func(w io.Writer) { writeSummary(w, len(b.Seeds), reached, s.Criterion) })
	switch {
	case out.Err() != nil:
		return fmt.Errorf("writing the report: %w — check that stdout is writable", out.Err())
	case len(stopped) > 0:
		return fmt.Errorf("interrupted: %d of %d seeds did not finish (%s) — run them again with --seeds %s",
			len(stopped), len(b.Seeds), seedList(stopped), seedList(stopped))
	case len(failed) > 0:
		fix := "see the seed lines above"
		if errors.Is(firstErr, plasticity.ErrDiverged) {
			fix = "lower --eta, set --clip, or check the rule"
		}
		return fmt.Errorf("%d of %d seeds failed (%s); first: %v — %s",
			len(failed), len(b.Seeds), seedList(failed), firstErr, fix)
	}
	return nil
}

// writeHeader prints the setup the seeds are trained with.
func writeHeader(w io.Writer, r *resolved, b *builtSetup, workers int) {
	s := b.Setup
	spec := s.Task.Spec()
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	orNone := func(v float64, unit string) string {
		if v == 0 {
			return "none"
		}
		return num(v) + unit
	}
	source := "preset " + r.Preset
	if r.ConfigFile != "" {
		source += ", config " + r.ConfigFile
	}
	density := "dense"
	if d := s.Init.Density; d > 0 && d < 1 {
		density = "density " + num(d)
	}
	clamps := "none"
	if len(s.Init.Clamps) > 0 {
		clamps = r.Clamps.String()
	}
	var pert string
	switch s.Perturb.Scheme {
	case "decoupled":
		pert = fmt.Sprintf("decoupled p=%s A=%s from step %d", num(s.Perturb.Prob), num(s.Perturb.Amp), s.Perturb.Start)
	case "gaussian":
		pert = fmt.Sprintf("gaussian σ=%s from step %d", num(s.Perturb.Sigma), s.Perturb.Start)
	default:
		pert = "none (a reward-gated rule cannot learn without exploration)"
	}
	l := s.Learner
	fmt.Fprintf(w, "train %s (T=%d steps, %d conditions) with rule %s, %d seed(s) × %d trials, %d worker(s)\n",
		s.Task.Name(), spec.Steps, len(spec.Conditions), b.RuleName, len(b.Seeds), s.Trials, workers)
	fmt.Fprintf(w, "  from       %s\n", source)
	fmt.Fprintf(w, "  rule       K=%d L=%d %s\n", s.Rule.K, s.Rule.L, thetaSummary(s.Rule))
	fmt.Fprintf(w, "  network    N=%d G=%s %s W_in~U[±%s] readout=%s clamps=%s x0~U[±%s]\n",
		s.Init.N, num(s.Init.G), density, num(s.Init.InScale), s.Init.Readout, clamps, num(s.X0Range))
	fmt.Fprintf(w, "  dynamics   dt=%s ms τ=%s ms\n", num(s.Dyn.Dt), num(s.Dyn.Tau))
	fmt.Fprintf(w, "  perturb    %s\n", pert)
	fmt.Fprintf(w, "  learner    η=%s gain=%s clip=%s warm-up=%d α_R=%s loss=%s α_x=%s τ_e=%s gate t≥%d max|W|=%s\n",
		num(l.Eta), l.Gain, orNone(l.Clip, ""), l.WarmupTrials, num(l.AlphaR), l.Loss, num(l.AlphaX),
		orNone(l.TauE, " ms"), l.GateStart, num(l.MaxWeight))
	fmt.Fprintf(w, "  criterion  error < %s in ≥ %s%% of the last %d trials\n\n",
		num(s.Criterion.Threshold), num(100*s.Criterion.Fraction), s.Criterion.Window)
	fmt.Fprintf(w, "%6s  %7s  %13s  %11s  %14s  %8s\n", "seed", "trials", "to criterion", "final error", "final accuracy", "wall")
}

// thetaSummary lists the non-zero θ_kl of a rule.
func thetaSummary(r plasticity.Rule) string {
	var parts []string
	for k := 0; k <= r.K; k++ {
		for l := 0; l <= r.L; l++ {
			if v := r.At(k, l); v != 0 {
				parts = append(parts, fmt.Sprintf("θ%d%d=%s", k, l, strconv.FormatFloat(v, 'g', -1, 64)))
			}
		}
	}
	if len(parts) == 0 {
		return "all θ = 0"
	}
	return strings.Join(parts, " ")
}

// writeSeedRow prints one seed's row, and its error on the next line.
func writeSeedRow(w io.Writer, seed uint64, res *train.Result, err error) {
	trials, toCrit, ferr, facc, wall := "-", "not reached", "-", "-", "-"
	if res != nil {
		trials = strconv.Itoa(res.Trials)
		if res.TrialsToCriterion >= 0 {
			toCrit = strconv.Itoa(res.TrialsToCriterion)
		}
		if res.Trials > 0 {
			ferr = fmt.Sprintf("%.4f", res.FinalError)
			facc = fmt.Sprintf("%.1f%%", 100*res.FinalAccuracy)
		}
		wall = fmt.Sprintf("%.1fs", res.Wall.Seconds())
	}
	if err != nil {
		toCrit = "failed"
	}
	fmt.Fprintf(w, "%6d  %7s  %13s  %11s  %14s  %8s\n", seed, trials, toCrit, ferr, facc, wall)
	if err != nil {
		fmt.Fprintf(w, "        seed %d: %v\n", seed, err)
	}
}

// seedJSON is one seed's object of `train -o json`.
func seedJSON(task, rule string, seed uint64, res *train.Result, err error) seedRecord {
	rec := seedRecord{Task: task, Rule: rule, Seed: seed, Errors: []jsonFloat{}}
	if res != nil {
		rec.Trials = res.Trials
		if res.TrialsToCriterion >= 0 {
			v := res.TrialsToCriterion
			rec.TrialsToCriterion = &v
		}
		rec.FinalError = jsonFloat(res.FinalError)
		rec.FinalAccuracy = jsonFloat(res.FinalAccuracy)
		rec.WallSeconds = res.Wall.Seconds()
		rec.Errors = make([]jsonFloat, len(res.Errors))
		for i, e := range res.Errors {
			rec.Errors[i] = jsonFloat(e)
		}
	}
	if err != nil {
		rec.Error = err.Error()
	}
	return rec
}

// writeSummary prints how many seeds reached the criterion and the median
// number of trials they needed.
func writeSummary(w io.Writer, seeds int, reached []int, c train.Criterion) {
	fmt.Fprintln(w)
	if len(reached) == 0 {
		fmt.Fprintf(w, "0 of %d seeds reached the criterion (error < %g in ≥ %g%% of %d trials)\n",
			seeds, c.Threshold, 100*c.Fraction, c.Window)
		return
	}
	fmt.Fprintf(w, "%d of %d seeds reached the criterion; median %s trials to criterion (over those %d)\n",
		len(reached), seeds, median(reached), len(reached))
}

// median returns the median of v, with .5 for an even count between two.
func median(v []int) string {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return strconv.Itoa(s[n/2])
	}
	return strconv.FormatFloat(float64(s[n/2-1]+s[n/2])/2, 'f', -1, 64)
}

// seedList formats seeds as "1,3,5", the syntax of --seeds.
func seedList(seeds []uint64) string {
	s := make([]string, len(seeds))
	for i, v := range seeds {
		s[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(s, ",")
}

// addSetupFlags registers the flags of every setup parameter (task, network,
// dynamics, perturbation, rule, learner, criterion) shared by the commands
// that build a training setup.
func addSetupFlags(f *pflag.FlagSet, fv *trainParams, def trainParams) {
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
