package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/internal/progress"
	"rulescape/pipelines"
	"rulescape/stages"
)

func init() { register(newMetaoptCmd) }

var metaoptLong = help("metaopt.long")

var metaoptExample = help("metaopt.example")

// metaoptFlags holds the flags of 'rulescape metaopt': the setup, the
// settings of a campaign's metaopt job (pipelines.MetaoptSpec; its Task and
// Trials are the setup's) and the run's own.
type metaoptFlags struct {
	setupFlags
	spec       pipelines.MetaoptSpec
	run        runParams // workers, and a config file's seeds (unused, kept in the checkpoint's spec)
	checkpoint string
}

func newMetaoptCmd(a *app) *cobra.Command {
	md := pipelines.DefaultMetaopt()
	mf := &metaoptFlags{setupFlags: setupFlags{preset: func(p *pipelines.Params) { p.Trials = md.Trials },
		trialsUsage: "learning horizon H: trials per learner"}, run: runParams{Seeds: "1"}}
	ms := &mf.spec
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
	mf.addFlags(f, true)
	f.IntVar(&mf.run.Workers, "workers", 0, "learners run in parallel (0 = all cores); results do not depend on it")

	f.StringVar(&ms.Init, "init", md.Init, "initial rule: zero, random, or a named rule ("+strings.Join(plasticity.RuleNames(), ", ")+")")
	f.Float64Var(&ms.InitScale, "init-scale", md.InitScale, "random init: θ_kl ~ N(0, s²)")
	f.IntVar(&ms.Iters, "iters", md.Iters, "meta-iterations")
	f.IntVar(&ms.Learners, "learners", md.Learners, "learners S averaged per iteration")
	f.StringVar(&ms.Estimator, "estimator", md.Estimator, "exact, adjoint, projection:Ω, fd, policy-gradient, es or cmaes")
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

// metaoptSpec is the problem a --checkpoint file belongs to; its SpecKey
// is the file's content key (the fields, their JSON names and the scale
// are those of earlier versions, whose files resume).
type metaoptSpec struct {
	Setup struct {
		pipelines.Params
		Seeds   string
		Workers int
	} `json:"setup"`
	Init      string    `json:"init"`
	InitScale float64   `json:"init_scale"`
	Estimator string    `json:"estimator"`
	Dist      string    `json:"dist"`
	FDStep    float64   `json:"fd_step"`
	Gamma     float64   `json:"gamma"`
	LogEta    bool      `json:"log_eta"`
	Scale     []float64 `json:"scale"`
}

// metaopt runs the job the flags describe with the campaign's loop
// (stages.StartMetaopt), checkpointed to --checkpoint.
func (a *app) metaopt(cmd *cobra.Command, mf *metaoptFlags) error {
	ctx := cmd.Context()
	r, err := mf.resolve(cmd.Flags(), &mf.run)
	if err != nil {
		return err
	}
	if _, err := r.Build(); err != nil {
		return err
	}
	if err := r.Params.RequireF64(r, "metaopt", ""); err != nil {
		return err
	}
	ms := mf.spec
	ms.Task, ms.Trials = r.Task, r.Trials
	if err := ms.Validate(pipelines.FlagName); err != nil {
		return err
	}
	if err := checkMetaoptLimits(r, &ms, mf.run.Workers); err != nil {
		return err
	}
	spec := metaoptSpec{Init: ms.Init, InitScale: ms.InitScale, Estimator: ms.Estimator, Dist: ms.Dist,
		FDStep: ms.FDStep, Gamma: ms.Gamma, LogEta: ms.LogEta}
	spec.Setup.Params, spec.Setup.Seeds, spec.Setup.Workers = r.Params, mf.run.Seeds, mf.run.Workers
	job := &pipelines.MetaoptJob{ID: "metaopt", Task: r.Task, Params: r.Params, Settings: ms}
	if _, err := plasticity.Named(ms.Init, r.K, r.L); err != nil && ms.Init != "random" {
		return fmt.Errorf("--init %q: %v — use zero, random or a named rule", ms.Init, strings.TrimPrefix(err.Error(), "plasticity: "))
	}
	if err := ms.InitialRule(&job.Params); err != nil {
		return fmt.Errorf("--init: %w", err)
	}
	run, file, err := stages.OpenMetaoptFile(ctx, job, mf.run.Workers, mf.checkpoint, func(scale []float64) any {
		spec.Scale = scale
		return spec
	})
	var fe *stages.MetaoptFileError
	switch {
	case errors.Is(err, metaopt.ErrOtherProblem):
		return fmt.Errorf("--checkpoint %s was written for a different setup — use the same flags as that run, or another checkpoint file", mf.checkpoint)
	case errors.As(err, &fe):
		return fmt.Errorf("--checkpoint %s: %v — the file is not a rulescape checkpoint this version reads; remove it or choose another", mf.checkpoint, fe.Err)
	case err != nil:
		return err
	}
	st := run.Opt.State()
	setup, est := run.Obj.Setup, run.Obj.Estimator
	out := a.printer()
	out.Text(func(w io.Writer) {
		fmt.Fprintf(w, "metaopt %s (T=%d, N=%d, H=%d trials) with %s, %d learners/iteration, init %s, %d parameters\n",
			setup.Task.Name(), setup.Task.Spec().Steps, setup.Init.N, setup.Trials, est, ms.Learners, ms.Init, run.Obj.Dim())
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
	var saveErr error // the callback's own errors are reported as they are
	_, runErr := run.Run(ctx, "", func(p stages.MetaoptProgress, rec *metaopt.Record) error {
		if err := file.Save(p, rec); err != nil {
			saveErr = fmt.Errorf("--checkpoint: %w — check the directory is writable", err)
			return saveErr
		}
		if rec == nil {
			return nil
		}
		if out.Bar != nil {
			defer out.Bar.Add(1)
		}
		if err := out.Print(run.Iteration(*rec), func(w io.Writer) { writeIteration(w, rec) }); err != nil {
			saveErr = fmt.Errorf("writing the report: %w", err)
		}
		return saveErr
	})
	if out.Bar != nil {
		out.Bar.Finish()
	}
	var diverged *metaopt.DivergedError
	switch {
	case saveErr != nil:
		return saveErr
	case errors.As(runErr, &diverged):
		return fmt.Errorf("%v — lower --lr or --eta, set --clip, or --clip-norm; %s", diverged, keptFix(mf.checkpoint))
	case runErr != nil:
		return fmt.Errorf("%v — %s", runErr, keptFix(mf.checkpoint))
	}
	final := run.Final()
	return out.Print(final, func(w io.Writer) { writeFinal(w, final, run.Obj.LogEta) })
}

// keptFix says where the state of an interrupted run is.
func keptFix(checkpoint string) string {
	if checkpoint == "" {
		return "the state of the last completed iteration is kept; use --checkpoint FILE to be able to resume"
	}
	return "the state of the last completed iteration is kept in " + checkpoint + "; run the same command again to resume"
}

// writeIteration prints one iteration's row.
func writeIteration(w io.Writer, r *metaopt.Record) {
	held := ""
	if r.HeldOut != nil {
		held = fmt.Sprintf("%12.4f", r.HeldOut.J)
	}
	fmt.Fprintf(w, "%6d  %12.4f  %10.4f  %10.4g  %12s  %7.1fs", r.Iter, r.J, r.JSE, r.GradNorm, held, r.WallSeconds)
	if len(r.Diverged) > 0 {
		fmt.Fprintf(w, "  (%d diverged)", len(r.Diverged))
	}
	fmt.Fprintln(w)
}

// writeFinal prints the outcome and the final Θ.
func writeFinal(w io.Writer, f stages.MetaoptFinal, logEta bool) {
	fmt.Fprintf(w, "\nafter %d iterations", f.Iters)
	if f.HeldOutJ != nil {
		fmt.Fprintf(w, ": held-out J = %.4f ± %.4f", *f.HeldOutJ, *f.HeldOutSE)
	}
	fmt.Fprintf(w, " (budget: %d learner-runs, %.0f cost units)\n", f.Budget.Runs+f.Budget.HeldOutRuns, f.Budget.Cost+f.Budget.HeldOutCost)
	writeTheta(w, "Θ", f.Theta)
	if logEta {
		fmt.Fprintf(w, "η = %.4g\n", f.Eta)
	}
	if f.BestIter != nil {
		fmt.Fprintf(w, "best held-out J = %.4f at iteration %d\n", *f.BestJ, *f.BestIter)
	}
}

// writeTheta prints Θ as a table, rows k (pre power), columns l (post power).
func writeTheta(w io.Writer, name string, theta [][]float64) {
	fmt.Fprintf(w, "%s (rows: pre-synaptic power k, columns: post-synaptic power l)\n%6s", name, "")
	for l := range theta[0] {
		fmt.Fprintf(w, "%10s", fmt.Sprintf("l=%d", l))
	}
	fmt.Fprintln(w)
	for k, row := range theta {
		fmt.Fprintf(w, "%6s", fmt.Sprintf("k=%d", k))
		for _, v := range row {
			fmt.Fprintf(w, "%10.4f", v)
		}
		fmt.Fprintln(w)
	}
}

// checkMetaoptLimits checks the setup's and the optimizer's sizes against
// the limits of this machine, and the memory of the learners run at once
// (workers, 0 = all cores) against its memory budget.
func checkMetaoptLimits(r *pipelines.ResolvedSetup, ms *pipelines.MetaoptSpec, workers int) error {
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	if err := lim.CheckParams(&r.Params, r); err != nil {
		return err
	}
	if err := lim.CheckMetaopt(ms, pipelines.FlagName); err != nil {
		return err
	}
	if err := lim.Exceeds("parallel", "workers", "--workers", int64(workers)); err != nil {
		return err
	}
	b, err := r.Build()
	if err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	e := pipelines.MetaoptBytes(pipelines.ShapeOf(b.Setup), ms, workers)
	fix := map[string]string{"trials": "lower --trials", "estimator": "use fewer projection directions or lower --n",
		"task_params": "shorten the trials (--task-params steps) or lower --n"}[e.Key]
	if fix == "" {
		fix = "lower --n"
	}
	return lim.CheckMemory("metaopt", e, fix+" or --workers")
}
