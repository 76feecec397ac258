package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/internal/atomicfile"
	"rulescape/internal/progress"
	"rulescape/pipelines"
)

func init() { register(newMetaoptCmd) }

const metaoptLong = `Discover a plasticity rule: maximize the meta-objective
J(Θ) = (1/S) Σ_s Σ_h γ^h R_s^h over the rule coefficients θ_kl (and, with
--log-eta, the learning rate), averaging S learners per iteration run in
parallel. --estimator chooses how the ascent direction is obtained:
exact (forward-mode tangents of all P coefficients), projection:Ω (Ω random
directions, unbiased), fd (central finite differences) — each followed by an
Adam step — or the black-box baselines es (antithetic evolution strategies)
and cmaes.

The task, network and learner are set with the same flags (and --config
file) as 'rulescape train'; --trials is the learning horizon H of each
learner. Learner seeds derive from --seed (fresh every iteration unless
--fixed-seeds); --held-out seeds, disjoint from them, measure progress
without gradients every --eval-every iterations and at the end.

With --checkpoint FILE the optimizer state is written (atomically) after
every iteration, and a later run with the same FILE and flags resumes exactly
where it stopped (raise --iters to extend a finished run).

-o json prints one JSON object per iteration
{iter, j, j_se, grad_norm, theta, eta, held_out_j, held_out_j_se, diverged, cost, budget_cost, wall_seconds}
and a last object {final: true, iters, theta, eta, held_out_j, best_iter, best_j, best_theta, budget}.`

const metaoptExample = `  rulescape metaopt --task dnms --init zero --iters 100 --learners 8 --trials 300 --estimator exact
  rulescape metaopt --task gonogo --n 40 --trials 100 --estimator projection:4 --held-out 8 --eval-every 5
  rulescape metaopt --estimator es --checkpoint run.json -o json`

// metaoptFlags holds the flags of 'rulescape metaopt': the setup, the
// settings of a campaign's metaopt job (pipelines.MetaoptSpec; its Task and
// Trials are the setup's) and the run's own.
type metaoptFlags struct {
	train        trainFlags
	spec         pipelines.MetaoptSpec
	checkpoint   string
	progressMode string
}

func newMetaoptCmd(a *app) *cobra.Command {
	def, err := presetParams(presetDefault)
	if err != nil {
		panic(err)
	}
	mf := &metaoptFlags{train: trainFlags{params: def}}
	fv, ms, md := &mf.train.params, &mf.spec, pipelines.DefaultMetaopt()
	cmd := &cobra.Command{
		Use:     "metaopt",
		Short:   "Discover a plasticity rule by meta-optimization of J(Θ)",
		Long:    metaoptLong,
		Example: metaoptExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.metaopt(cmd, mf)
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%w — see `rulescape metaopt --help` for the flags and their values", err)
	})
	f := cmd.Flags()
	f.StringVar(&fv.Preset, "preset", def.Preset, "values to start from: miconi2017 or default (the same)")
	f.StringVar(&mf.train.configPath, "config", "", "YAML `file` of setup parameters (as for rulescape train); flags override it")
	f.StringVar(&mf.progressMode, "progress", "auto", "progress bar on stderr: auto, always or never")
	addSetupFlags(f, fv, def)
	f.IntVar(&fv.Trials, "trials", md.Trials, "learning horizon H: trials per learner")
	f.IntVar(&fv.Workers, "workers", 0, "learners run in parallel (0 = all cores); results do not depend on it")

	f.StringVar(&ms.Init, "init", md.Init, "initial rule: zero, random, or a named rule ("+strings.Join(plasticity.RuleNames(), ", ")+")")
	f.Float64Var(&ms.InitScale, "init-scale", md.InitScale, "random init: θ_kl ~ N(0, s²)")
	f.IntVar(&ms.Iters, "iters", md.Iters, "meta-iterations")
	f.IntVar(&ms.Learners, "learners", md.Learners, "learners S averaged per iteration")
	f.StringVar(&ms.Estimator, "estimator", md.Estimator, "exact, projection:Ω, fd, es or cmaes")
	f.StringVar(&ms.Dist, "dist", md.Dist, "projection directions: rademacher or gaussian")
	f.Float64Var(&ms.FDStep, "fd-step", md.FDStep, "finite-difference step")
	f.Float64Var(&ms.Gamma, "gamma", md.Gamma, "discount γ of later trials in J, (0, 1]")
	f.BoolVar(&ms.LogEta, "log-eta", md.LogEta, "meta-learn log η too")
	f.Uint64Var(&ms.Seed, "seed", md.Seed, "run seed: every learner seed and the optimizer's randomness derive from it")
	f.BoolVar(&ms.FixedSeeds, "fixed-seeds", md.FixedSeeds, "use the same S learner seeds every iteration (deterministic J)")
	f.IntVar(&ms.HeldOut, "held-out", md.HeldOut, "held-out learner seeds evaluated without gradient (0 = none)")
	f.IntVar(&ms.EvalEvery, "eval-every", md.EvalEvery, "held-out evaluation period, iterations (0 = only at the end)")
	f.Float64Var(&ms.LR, "lr", md.LR, "Adam step size, Θ units per iteration")
	f.Float64Var(&ms.ClipNorm, "clip-norm", md.ClipNorm, "clip the averaged gradient to this norm (0 = none)")
	f.Float64Var(&ms.LearnerClip, "learner-clip", md.LearnerClip, "clip each learner's gradient to this norm before averaging (0 = none); tames the rare exploding gradients of chaotic learners")
	f.Float64Var(&ms.ESSigma, "es-sigma", md.ESSigma, "es: perturbation scale σ")
	f.IntVar(&ms.ESPairs, "es-pairs", md.ESPairs, "es: antithetic pairs per iteration (0 = --learners)")
	f.Float64Var(&ms.CMASigma, "cma-sigma", md.CMASigma, "cmaes: initial step size σ₀")
	f.IntVar(&ms.CMAPopulation, "cma-population", md.CMAPopulation, "cmaes: candidates per generation (0 = 4 + ⌊3 ln P⌋)")
	f.StringVar(&ms.Scale, "scale", md.Scale, "coordinates of the search: auto (z_kl = 1: term kl alone changes the weights by 1% of their initial rms per trial, see docs/METAOPT.md) or none (raw θ)")
	f.StringVar(&mf.checkpoint, "checkpoint", "", "state `file`: written after every iteration; resumed from when it exists")
	f.SortFlags = false
	return cmd
}

func (a *app) metaopt(cmd *cobra.Command, mf *metaoptFlags) error {
	ctx := cmd.Context()
	r, err := mf.train.resolve(cmd.Flags())
	if err != nil {
		return err
	}
	b, err := r.build()
	if err != nil {
		return err
	}
	ms := mf.spec
	est, err := metaopt.ParseEstimator(ms.Estimator)
	if err != nil {
		return fmt.Errorf("--estimator: %v — use exact, projection:Ω (e.g. projection:4), fd, es or cmaes", strings.TrimPrefix(err.Error(), "metaopt: "))
	}
	switch {
	case ms.Iters < 1:
		return fmt.Errorf("--iters %d: must be ≥ 1 — set the number of meta-iterations", ms.Iters)
	case ms.Learners < 1:
		return fmt.Errorf("--learners %d: must be ≥ 1 — set how many learners each iteration averages", ms.Learners)
	case !(ms.Gamma > 0 && ms.Gamma <= 1):
		return fmt.Errorf("--gamma %v: must be in (0, 1] — 1 weighs every trial equally", ms.Gamma)
	case ms.Dist != string(meta.Rademacher) && ms.Dist != string(meta.Gaussian):
		return fmt.Errorf("--dist %q is not known — use rademacher or gaussian", ms.Dist)
	case ms.Scale != "auto" && ms.Scale != "none":
		return fmt.Errorf("--scale %q is not known — use auto or none", ms.Scale)
	case ms.HeldOut < 0 || ms.EvalEvery < 0:
		return fmt.Errorf("--held-out %d, --eval-every %d: must be ≥ 0", ms.HeldOut, ms.EvalEvery)
	}
	setup := b.Setup
	rule, err := initialRule(ms.Init, ms.InitScale, ms.Seed, setup.Rule.K, setup.Rule.L)
	if err != nil {
		return err
	}
	setup.Rule = rule
	ms.Estimator = est.String()
	obj, settings, err := pipelines.MetaoptProblem(setup, ms, r.Workers)
	if err != nil {
		return err
	}
	if ms.Scale == "auto" {
		if err := pipelines.AutoScale(ctx, obj, settings); err != nil {
			return fmt.Errorf("%w — use --scale none", err)
		}
	}
	spec, _ := json.Marshal(struct {
		Params    trainParams `json:"setup"`
		Init      string      `json:"init"`
		InitScale float64     `json:"init_scale"`
		Estimator string      `json:"estimator"`
		Dist      string      `json:"dist"`
		FDStep    float64     `json:"fd_step"`
		Gamma     float64     `json:"gamma"`
		LogEta    bool        `json:"log_eta"`
		Scale     []float64   `json:"scale"`
	}{r.trainParams, ms.Init, ms.InitScale, est.String(), ms.Dist, ms.FDStep, ms.Gamma, ms.LogEta, obj.Scale})

	cp, err := openCheckpoint(obj, obj.Params(rule), settings, mf.checkpoint, spec)
	if err != nil {
		return err
	}
	opt := cp.opt
	st := opt.State()
	out := a.printer()
	out.Text(func(w io.Writer) {
		fmt.Fprintf(w, "metaopt %s (T=%d, N=%d, H=%d trials) with %s, %d learners/iteration, init %s, %d parameters\n",
			setup.Task.Name(), setup.Task.Spec().Steps, setup.Init.N, setup.Trials, est, ms.Learners, ms.Init, obj.Dim())
		if st.Iter > 0 {
			fmt.Fprintf(w, "resumed from %s at iteration %d of %d\n", mf.checkpoint, st.Iter, st.Settings.Iters)
		}
		fmt.Fprintf(w, "\n%6s  %12s  %10s  %10s  %12s  %8s\n", "iter", "J", "±se", "|∇J|", "held-out J", "wall")
	})
	showBar, err := wantProgress(mf.progressMode, a.stderr)
	if err != nil {
		return err
	}
	if showBar {
		out.Bar = progress.New(a.stderr, st.Settings.Iters, progress.Config{Label: "metaopt " + est.String(), Unit: "iterations"})
		out.Bar.Add(st.Iter)
	}
	rec := &metaoptRecorder{out: out, obj: obj, cp: cp}
	res, runErr := opt.Run(ctx, rec)
	if out.Bar != nil {
		out.Bar.Finish()
	}
	if rec.err != nil {
		return rec.err
	}
	if runErr != nil {
		fix := "the state of the last completed iteration is kept"
		if mf.checkpoint != "" {
			fix += " in " + mf.checkpoint + "; run the same command again to resume"
		} else {
			fix += "; use --checkpoint FILE to be able to resume"
		}
		if errors.Is(runErr, metaopt.ErrTooManyDiverged) {
			fix = "lower --lr or --eta, set --clip, or --clip-norm; " + fix
		}
		return fmt.Errorf("%v — %s", runErr, fix)
	}
	if err := cp.save(nil); err != nil {
		return err
	}
	return writeMetaoptFinal(out, obj, res)
}

// initialRule returns the starting rule of orders K, L.
func initialRule(name string, scale float64, seed uint64, k, l int) (plasticity.Rule, error) {
	if name == "random" {
		return pipelines.RandomRule(k, l, scale, seed)
	}
	rule, err := plasticity.Named(name, k, l)
	if err != nil {
		return rule, fmt.Errorf("--init %q: %v — use zero, random or a named rule", name, strings.TrimPrefix(err.Error(), "plasticity: "))
	}
	return rule, nil
}

// metaoptCheckpoint is the optimizer of a run and its --checkpoint file.
type metaoptCheckpoint struct {
	metaopt.Checkpoint
	opt  *metaopt.Optimizer
	path string // "" = no file
	keep bool   // the file keeps the records (not when resumed from one without)
}

// openCheckpoint restores the optimizer from path when it exists (after
// checking it belongs to the same setup: the same spec), or starts a new one.
func openCheckpoint(obj *meta.Learners, init []float64, s metaopt.Settings, path string, spec []byte) (*metaoptCheckpoint, error) {
	key, err := metaopt.SpecKey(spec)
	if err != nil {
		return nil, err
	}
	cp := &metaoptCheckpoint{Checkpoint: metaopt.Checkpoint{ContentKey: key, Spec: spec, Scale: obj.Scale}, path: path, keep: true}
	data, err := os.ReadFile(path)
	switch {
	case path == "" || errors.Is(err, os.ErrNotExist):
		cp.opt, err = metaopt.New(obj, init, s)
		return cp, err
	case err != nil:
		return nil, fmt.Errorf("--checkpoint %s: %w", path, err)
	}
	old, err := metaopt.UnmarshalCheckpoint(data, key)
	switch {
	case errors.Is(err, metaopt.ErrOtherProblem):
		return nil, fmt.Errorf("--checkpoint %s was written for a different setup — use the same flags as that run, or another checkpoint file", path)
	case err != nil:
		return nil, fmt.Errorf("--checkpoint %s: %v — the file is not a rulescape checkpoint this version reads; remove it or choose another", path, err)
	}
	cp.Records, cp.keep = old.Records, len(old.Records) == old.State.Iter
	st := old.State
	st.Settings.Iters = max(st.Settings.Iters, s.Iters)
	st.Settings.Workers = s.Workers
	if cp.opt, err = metaopt.Restore(obj, st); err != nil {
		return nil, fmt.Errorf("--checkpoint %s: %w", path, err)
	}
	return cp, nil
}

// save records an iteration (if rec is not nil) and writes the file
// atomically (temporary file, then rename).
func (cp *metaoptCheckpoint) save(rec *metaopt.Record) error {
	if cp.path == "" {
		return nil
	}
	if rec != nil && cp.keep {
		cp.Records = append(cp.Records, *rec)
	}
	if !cp.keep {
		cp.Records = nil
	}
	cp.State = cp.opt.State()
	data, err := cp.Marshal()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(cp.path, append(data, '\n')); err != nil {
		return fmt.Errorf("--checkpoint: %w — check the directory is writable", err)
	}
	return nil
}

// metaoptRecorder prints each iteration and checkpoints the state.
type metaoptRecorder struct {
	out *printer
	obj *meta.Learners
	cp  *metaoptCheckpoint
	err error
}

func (m *metaoptRecorder) Init(metaopt.State) error { return nil }

func (m *metaoptRecorder) Record(r metaopt.Record) error {
	if err := m.cp.save(&r); err != nil {
		m.err = err
		return err
	}
	err := m.out.Print(m.iterationJSON(r), func(w io.Writer) {
		held := ""
		if r.HeldOut != nil {
			held = fmt.Sprintf("%12.4f", r.HeldOut.J)
		}
		fmt.Fprintf(w, "%6d  %12.4f  %10.4f  %10.4g  %12s  %7.1fs", r.Iter, r.J, r.JSE, r.GradNorm, held, r.WallSeconds)
		if len(r.Diverged) > 0 {
			fmt.Fprintf(w, "  (%d diverged)", len(r.Diverged))
		}
		fmt.Fprintln(w)
	})
	if err != nil {
		m.err = fmt.Errorf("writing the report: %w", err)
	}
	if m.out.Bar != nil {
		m.out.Bar.Add(1)
	}
	return m.err
}

type iterationJSON struct {
	Iter       int                  `json:"iter"`
	J          float64              `json:"j"`
	JSE        float64              `json:"j_se"`
	GradNorm   float64              `json:"grad_norm"`
	Theta      [][]float64          `json:"theta"`
	Eta        float64              `json:"eta"`
	HeldOutJ   *float64             `json:"held_out_j"`
	HeldOutSE  *float64             `json:"held_out_j_se"`
	Diverged   []metaopt.Divergence `json:"diverged"`
	Cost       float64              `json:"cost"`
	BudgetCost float64              `json:"budget_cost"`
	Wall       float64              `json:"wall_seconds"`
}

func (m *metaoptRecorder) iterationJSON(r metaopt.Record) iterationJSON {
	rule, eta, _ := m.obj.Rule(r.Params)
	out := iterationJSON{Iter: r.Iter, J: r.J, JSE: r.JSE, GradNorm: r.GradNorm, Theta: rule.Matrix(), Eta: eta,
		Diverged: r.Diverged, Cost: r.Cost, BudgetCost: r.Budget.Cost + r.Budget.HeldOutCost, Wall: r.WallSeconds}
	if out.Diverged == nil {
		out.Diverged = []metaopt.Divergence{}
	}
	if r.HeldOut != nil {
		out.HeldOutJ, out.HeldOutSE = &r.HeldOut.J, &r.HeldOut.JSE
	}
	return out
}

type finalJSON struct {
	Final     bool           `json:"final"`
	Iters     int            `json:"iters"`
	Theta     [][]float64    `json:"theta"`
	Eta       float64        `json:"eta"`
	HeldOutJ  *float64       `json:"held_out_j"`
	HeldOutSE *float64       `json:"held_out_j_se"`
	BestIter  *int           `json:"best_iter"`
	BestJ     *float64       `json:"best_j"`
	BestTheta [][]float64    `json:"best_theta"`
	Budget    metaopt.Budget `json:"budget"`
}

func writeMetaoptFinal(p *printer, obj *meta.Learners, res metaopt.Result) error {
	rule, eta, _ := obj.Rule(res.Params)
	out := finalJSON{Final: true, Iters: res.Iter, Theta: rule.Matrix(), Eta: eta, Budget: res.Budget}
	if res.HeldOut != nil {
		out.HeldOutJ, out.HeldOutSE = &res.HeldOut.J, &res.HeldOut.JSE
	}
	if res.Best != nil {
		br, _, _ := obj.Rule(res.Best.Params)
		out.BestIter, out.BestJ, out.BestTheta = &res.Best.Iter, &res.Best.J, br.Matrix()
	}
	return p.Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "\nafter %d iterations", res.Iter)
		if res.HeldOut != nil {
			fmt.Fprintf(w, ": held-out J = %.4f ± %.4f", res.HeldOut.J, res.HeldOut.JSE)
		}
		fmt.Fprintf(w, " (budget: %d learner-runs, %.0f cost units)\n", res.Budget.Runs+res.Budget.HeldOutRuns, res.Budget.Cost+res.Budget.HeldOutCost)
		writeTheta(w, "Θ", rule)
		if obj.LogEta {
			fmt.Fprintf(w, "η = %.4g\n", eta)
		}
		if res.Best != nil {
			fmt.Fprintf(w, "best held-out J = %.4f at iteration %d\n", res.Best.J, res.Best.Iter)
		}
	})
}

// writeTheta prints Θ as a table, rows k (pre power), columns l (post power).
func writeTheta(w io.Writer, name string, r plasticity.Rule) {
	fmt.Fprintf(w, "%s (rows: pre-synaptic power k, columns: post-synaptic power l)\n%6s", name, "")
	for l := 0; l <= r.L; l++ {
		fmt.Fprintf(w, "%10s", fmt.Sprintf("l=%d", l))
	}
	fmt.Fprintln(w)
	for k := 0; k <= r.K; k++ {
		fmt.Fprintf(w, "%6s", fmt.Sprintf("k=%d", k))
		for l := 0; l <= r.L; l++ {
			fmt.Fprintf(w, "%10.4f", r.At(k, l))
		}
		fmt.Fprintln(w)
	}
}
