package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/spf13/cobra"

	"rulescape/core/meta"
	"rulescape/core/tasks"
	"rulescape/pipelines"
)

func init() { register(newMetagradCmd) }

var metagradLong = help("metagrad.long")

// metagradFlags holds the flags of `rulescape metagrad`.
type metagradFlags struct {
	setupFlags // --write-case: the setup of the case, as for rulescape train
	casePath   string
	check      string
	fdStep     float64
	omega      int
	seed       uint64
	dist       string
	logEta     bool
	method     string
	writeCase  string
	steps      int
	gamma      float64
}

func newMetagradCmd(a *app) *cobra.Command {
	// A written case has no warm-up by default (Miconi's 100 trials would
	// leave a short case with no learning) and needs --trials.
	f := &metagradFlags{setupFlags: setupFlags{preset: func(p *pipelines.Params) { p.Warmup, p.Trials = 0, 0 },
		trialsUsage: "learning trials H of the written case"}}
	cmd := &cobra.Command{
		Use:   "metagrad (--case FILE [--check fd | --directions Ω --seed S] | --write-case FILE --task NAME --trials H)",
		Short: "Meta-objective J and its gradient for a case file (docs/MODEL.md §4, §5, §7)",
		Long:  metagradLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case f.writeCase != "" && f.casePath != "":
				return errors.New("metagrad: give either --case or --write-case, not both")
			case f.writeCase != "":
				return f.write(cmd, a)
			case f.casePath != "":
				return f.compute(cmd, a)
			}
			return errors.New("metagrad: need --case FILE (compute) or --write-case FILE (write a case); see --help")
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.casePath, "case", "", "case file (docs/MODEL.md §7) to evaluate")
	fl.StringVar(&f.check, "check", "", "reference check: fd (central finite differences)")
	fl.Float64Var(&f.fdStep, "fd-step", 1e-6, "finite-difference step in θ (and in log η)")
	fl.IntVar(&f.omega, "directions", 0, "estimate the gradient from this many random directions (0 = exact)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random directions, or of the learner with --write-case")
	fl.StringVar(&f.dist, "dist", string(meta.Rademacher), "law of the random directions: rademacher or gaussian")
	fl.BoolVar(&f.logEta, "log-eta", false, "also differentiate with respect to log η")
	fl.StringVar(&f.method, "method", "", fmt.Sprintf("exact gradient by forward (tangents) or adjoint (reverse mode); default: adjoint from %d coordinates on", meta.AdjointThreshold))
	fl.StringVar(&f.writeCase, "write-case", "", "write a case drawn from --task to this file")
	f.addFlags(fl, false)
	fl.IntVar(&f.steps, "steps", 0, "trial length T; for dnms the epochs are rescaled (0 = the task's)")
	fl.Float64Var(&f.gamma, "gamma", 1, "discount γ of J")
	// --K and --L were the first spelling; kept, hidden, for scripts.
	fl.IntVar(&f.params.K, "K", f.params.K, "")
	fl.IntVar(&f.params.L, "L", f.params.L, "")
	_ = fl.MarkHidden("K")
	_ = fl.MarkHidden("L")
	return cmd
}

func (f *metagradFlags) compute(cmd *cobra.Command, a *app) error {
	switch {
	case f.check != "" && f.check != "fd":
		return fmt.Errorf("metagrad: --check %q: the only check is fd", f.check)
	case f.omega < 0:
		return fmt.Errorf("metagrad: --directions %d: need Ω ≥ 1 (or 0 for the exact gradient)", f.omega)
	case f.omega > 0 && f.check != "":
		return errors.New("metagrad: --check fd compares the exact gradient; drop --directions")
	case f.dist != string(meta.Rademacher) && f.dist != string(meta.Gaussian):
		return fmt.Errorf("metagrad: --dist %q: use rademacher or gaussian", f.dist)
	case f.method != "" && f.method != string(meta.MethodForward) && f.method != string(meta.MethodAdjoint):
		return fmt.Errorf("metagrad: --method %q: use forward or adjoint", f.method)
	case f.method != "" && f.omega > 0:
		return errors.New("metagrad: --method chooses how the exact gradient is computed; drop it with --directions")
	}
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	if err := lim.Exceeds("directions", "directions", "--directions", int64(f.omega)); err != nil {
		return err
	}
	if fi, err := os.Stat(f.casePath); err == nil && fi.Size() > lim.Max("case_bytes") {
		return fmt.Errorf("--case %s is %s, more than the limit case_bytes %s (%s) — use a smaller case, or on a bigger worker raise the limit with %s=case_bytes=%d",
			f.casePath, pipelines.FormatBytes(fi.Size()), pipelines.FormatBytes(lim.Max("case_bytes")), pipelines.LimitWhy("case_bytes"), pipelines.LimitsEnv, fi.Size())
	}
	p, rule, err := meta.ReadCaseFile(f.casePath)
	if err != nil {
		return fmt.Errorf("metagrad: --case: %w", err)
	}
	d := f.omega
	method := meta.Method(f.method)
	if d == 0 {
		d = rule.P()
		if f.logEta {
			d++
		}
		if method == "" {
			method = meta.DefaultMethod(d)
		}
	}
	shape := pipelines.Shape{N: p.Net.N, Conditions: p.Conditions, K: rule.K, L: rule.L}
	e := pipelines.ForwardBytes(shape, d, p.H)
	if method == meta.MethodAdjoint {
		for _, ep := range p.Episodes {
			shape.T = max(shape.T, ep.Trial.T)
		}
		e = pipelines.AdjointBytes(shape, p.H)
	}
	if err := lim.CheckMemory("the meta-gradient of "+f.casePath, e, "use fewer --directions"); err != nil {
		return err
	}
	o := meta.CheckOptions{Options: meta.Options{LogEta: f.logEta}, Directions: f.omega, Dist: meta.Distribution(f.dist), Seed: f.seed, Method: method}
	if f.check == "fd" {
		o.FDStep = f.fdStep
	}
	out, err := meta.Check(cmd.Context(), p, rule, o)
	if err != nil {
		return err
	}
	if out.RelError != nil {
		a.log.Info("metagrad finite-difference check", "rel_error", *out.RelError, "step", f.fdStep)
	}
	// For people, the same JSON indented.
	return a.printer().Print(out, func(w io.Writer) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}

func (f *metagradFlags) write(cmd *cobra.Command, a *app) error {
	if !(f.gamma > 0 && f.gamma <= 1) {
		return fmt.Errorf("metagrad: --gamma %v: must be in (0, 1]", f.gamma)
	}
	r, err := f.resolve(cmd.Flags(), nil)
	if err != nil {
		return err
	}
	if r.Trials <= 0 {
		return fmt.Errorf("metagrad: --trials %d: --write-case needs H ≥ 1 learning trials", r.Trials)
	}
	b, err := r.Build()
	if err != nil {
		return err
	}
	if err := r.Params.RequireF64(r, "metagrad", ""); err != nil {
		return err
	}
	lim, err := pipelines.LimitsFromEnv()
	if err != nil {
		return err
	}
	if err := lim.CheckParams(&r.Params, r); err != nil {
		return err
	}
	if err := lim.Exceeds("steps", "steps", "--steps", int64(f.steps)); err != nil {
		return err
	}
	s := b.Setup
	if f.steps > 0 {
		if err := setSteps(s.Task, f.steps); err != nil {
			return fmt.Errorf("metagrad: --steps %d: %w", f.steps, err)
		}
	}
	if e := pipelines.CaseBytes(pipelines.ShapeOf(s), s.Trials); e.Bytes > lim.Max("case_bytes") {
		return fmt.Errorf("the case would take about %s (%s), more than the limit case_bytes %s (%s) — lower --trials, --steps or --n, or on a bigger worker raise the limit with %s=case_bytes=%d",
			pipelines.FormatBytes(e.Bytes), e.Formula, pipelines.FormatBytes(lim.Max("case_bytes")), pipelines.LimitWhy("case_bytes"), pipelines.LimitsEnv, e.Bytes)
	}
	p, err := meta.FromSetup(s, f.seed, s.Trials, f.gamma)
	if err != nil {
		return err
	}
	if err := meta.WriteCaseFile(f.writeCase, p, s.Rule); err != nil {
		return fmt.Errorf("metagrad: --write-case: %w", err)
	}
	summary := map[string]any{"wrote": f.writeCase, "task": s.Task.Name(), "seed": f.seed,
		"N": p.Net.N, "T": s.Task.Spec().Steps, "H": s.Trials, "K": s.Rule.K, "L": s.Rule.L}
	return a.printer().Print(summary, func(w io.Writer) { json.NewEncoder(w).Encode(summary) })
}

// setSteps sets a task's trial length. DNMS epochs are rescaled in
// proportion (Miconi's 1000-step layout becomes e.g. 100 steps with stimuli
// on 0–19 and 40–59 and a 20-step response); other tasks get their Steps
// field set.
func setSteps(task tasks.Task, T int) error {
	if d, ok := task.(*tasks.DNMS); ok {
		scale := func(v int) int { return int(math.Round(float64(v) * float64(T) / float64(d.Steps))) }
		d.Stim1Start, d.Stim1End = scale(d.Stim1Start), scale(d.Stim1End)
		d.Stim2Start, d.Stim2End = scale(d.Stim2Start), scale(d.Stim2End)
		d.Response = max(1, scale(d.Response))
		d.Steps = T
		return tasks.Validate(task)
	}
	return tasks.Configure(task, fmt.Appendf(nil, `{"Steps": %d}`, T))
}
