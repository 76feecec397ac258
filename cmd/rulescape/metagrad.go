package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/core/meta"
	"rulescape/core/plasticity"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

func init() { register(newMetagradCmd) }

// metagradFlags holds the flags of `rulescape metagrad`.
type metagradFlags struct {
	casePath  string
	check     string
	fdStep    float64
	omega     int
	seed      uint64
	dist      string
	logEta    bool
	writeCase string

	// --write-case
	task       string
	taskParams string
	trials     int
	n, steps   int
	rule       string
	k, l       int
	gamma      float64
	eta        float64
	warmup     int
	clip       float64
	gain, loss string
	tauE       float64
}

func newMetagradCmd(a *app) *cobra.Command {
	f := &metagradFlags{}
	cmd := &cobra.Command{
		Use:   "metagrad (--case FILE [--check fd | --directions Ω --seed S] | --write-case FILE --task NAME --trials H)",
		Short: "Meta-objective J and its gradient for a case file (docs/MODEL.md §4, §5, §7)",
		Long: `metagrad computes J(Θ) = Σ_h γ^h R^h of one learner and its gradient with respect
to every rule coefficient θ_kl, by forward-mode tangent propagation through the whole
learning process (docs/MODEL.md §5).

  rulescape metagrad --case case.json
      prints {"J", "rewards", "grad"} as JSON; grad is (K+1)×(L+1), grad[k][l] = ∂J/∂θ_kl.
  --check fd
      adds the central finite-difference gradient "grad_fd" (step --fd-step, same random
      numbers) and "rel_error" = ‖g − g_fd‖ / max(‖g‖, ‖g_fd‖).
  --directions Ω --seed S [--dist rademacher|gaussian]
      estimates the gradient from Ω random directions instead (one primal pass, cost ∝ Ω);
      also prints "directions", "derivs" (J̇ along each) and "samples" (J̇ u per direction),
      each a flat vector in the order of theta (row-major), then log η.
  --log-eta
      also differentiates with respect to log η ("grad_log_eta").

  rulescape metagrad --write-case case.json --task dnms --trials 20 [--n 30 --steps 100 ...]
      writes a case drawn from a real task with Miconi's (2017) setup, exactly as
      train.Run draws them for --seed (W⁰, x⁰, ξ, conditions), so that J and
      ∇J can be re-checked in another tool.`,
		Args: cobra.NoArgs,
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
	fl.StringVar(&f.writeCase, "write-case", "", "write a case drawn from --task to this file")
	fl.StringVar(&f.task, "task", "", "task of the written case: "+strings.Join(tasks.Names(), ", "))
	fl.StringVar(&f.taskParams, "task-params", "", "task parameters as a JSON object (field names of the task)")
	fl.IntVar(&f.trials, "trials", 0, "learning trials H of the written case")
	fl.IntVar(&f.n, "n", 0, "recurrent units N (0 = Miconi's 200)")
	fl.IntVar(&f.steps, "steps", 0, "trial length T; for dnms the epochs are rescaled (0 = the task's)")
	fl.StringVar(&f.rule, "rule", "miconi", "rule of the written case: "+strings.Join(plasticity.RuleNames(), ", "))
	fl.IntVar(&f.k, "k", 3, "highest pre-synaptic power K of the rule space")
	fl.IntVar(&f.l, "l", 3, "highest post-synaptic power L of the rule space")
	// --K and --L were the first spelling; kept, hidden, for scripts.
	fl.IntVar(&f.k, "K", 3, "")
	fl.IntVar(&f.l, "L", 3, "")
	_ = fl.MarkHidden("K")
	_ = fl.MarkHidden("L")
	fl.Float64Var(&f.gamma, "gamma", 1, "discount γ of J")
	fl.Float64Var(&f.eta, "eta", 0.1, "learning rate η")
	fl.IntVar(&f.warmup, "warmup", 0, "warm-up trials without weight change (Miconi: 100, which would leave a short case with no learning)")
	fl.Float64Var(&f.clip, "clip", 3e-4, "clip c_max of the weight change (0 = none)")
	fl.StringVar(&f.gain, "gain", string(plasticity.GainBaseline), "gain: plain or baseline")
	fl.StringVar(&f.loss, "loss", string(plasticity.LossAbs), "loss: abs or mse")
	fl.Float64Var(&f.tauE, "tau-e", 0, "eligibility decay τ_e in ms (0 = none)")
	return cmd
}

// metagradOutput is the JSON printed by `rulescape metagrad --case`.
type metagradOutput struct {
	J            float64     `json:"J"`
	Rewards      []float64   `json:"rewards"`
	Grad         [][]float64 `json:"grad"`
	GradLogEta   *float64    `json:"grad_log_eta,omitempty"`
	GradFD       [][]float64 `json:"grad_fd,omitempty"`
	GradFDLogEta *float64    `json:"grad_fd_log_eta,omitempty"`
	RelError     *float64    `json:"rel_error,omitempty"`
	Omega        int         `json:"omega,omitempty"`
	Distribution string      `json:"distribution,omitempty"`
	Seed         *uint64     `json:"seed,omitempty"`
	Directions   [][]float64 `json:"directions,omitempty"`
	Derivs       []float64   `json:"derivs,omitempty"`
	Samples      [][]float64 `json:"samples,omitempty"`
}

func (f *metagradFlags) compute(cmd *cobra.Command, a *app) error {
	switch f.check {
	case "", "fd":
	default:
		return fmt.Errorf("metagrad: --check %q: the only check is fd", f.check)
	}
	if f.omega < 0 {
		return fmt.Errorf("metagrad: --directions %d: need Ω ≥ 1 (or 0 for the exact gradient)", f.omega)
	}
	if f.omega > 0 && f.check != "" {
		return errors.New("metagrad: --check fd compares the exact gradient; drop --directions")
	}
	dist := meta.Distribution(f.dist)
	if dist != meta.Rademacher && dist != meta.Gaussian {
		return fmt.Errorf("metagrad: --dist %q: use rademacher or gaussian", f.dist)
	}
	file, err := os.Open(f.casePath)
	if err != nil {
		return fmt.Errorf("metagrad: --case: %w", err)
	}
	c, err := meta.ReadCase(bufio.NewReader(file))
	file.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", f.casePath, err)
	}
	p, rule, err := meta.FromCase(c)
	if err != nil {
		return fmt.Errorf("%s: %w", f.casePath, err)
	}
	ctx := cmd.Context()
	opts := meta.Options{LogEta: f.logEta}
	var res *meta.Result
	if f.omega > 0 {
		res, err = meta.Projection(ctx, p, rule, f.omega, dist, rand.New(rand.NewPCG(f.seed, 0x6d657461)), opts)
	} else {
		res, err = meta.Gradient(ctx, p, rule, opts)
	}
	if err != nil {
		return err
	}
	out := metagradOutput{J: res.J, Rewards: res.Rewards}
	out.Grad, out.GradLogEta = splitGrad(res.Grad, rule)
	if f.omega > 0 {
		seed := f.seed
		out.Omega, out.Distribution, out.Seed = f.omega, string(dist), &seed
		out.Directions, out.Derivs, out.Samples = res.Directions, res.Derivs, res.Samples
	}
	if f.check == "fd" {
		fd, err := meta.FiniteDifference(ctx, p, rule, f.fdStep, opts)
		if err != nil {
			return err
		}
		out.GradFD, out.GradFDLogEta = splitGrad(fd.Grad, rule)
		rel := meta.RelError(res.Grad, fd.Grad)
		out.RelError = &rel
		a.log.Info("metagrad finite-difference check", "rel_error", rel, "step", f.fdStep)
	}
	// For people, the same JSON indented.
	return a.printer().Print(out, func(w io.Writer) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(out)
	})
}

// splitGrad shapes a gradient as (K+1)×(L+1) plus the optional log η entry.
func splitGrad(g []float64, rule plasticity.Rule) ([][]float64, *float64) {
	L1 := rule.L + 1
	m := make([][]float64, rule.K+1)
	for k := range m {
		m[k] = append([]float64(nil), g[k*L1:(k+1)*L1]...)
	}
	if len(g) > rule.P() {
		v := g[rule.P()]
		return m, &v
	}
	return m, nil
}

func (f *metagradFlags) write(cmd *cobra.Command, a *app) error {
	if f.task == "" {
		return errors.New("metagrad: --write-case needs --task NAME (" + strings.Join(tasks.Names(), ", ") + ")")
	}
	if f.trials <= 0 {
		return fmt.Errorf("metagrad: --trials %d: --write-case needs H ≥ 1 learning trials", f.trials)
	}
	if !(f.gamma > 0 && f.gamma <= 1) {
		return fmt.Errorf("metagrad: --gamma %v: must be in (0, 1]", f.gamma)
	}
	task, err := tasks.New(f.task)
	if err != nil {
		return err
	}
	if err := tasks.Configure(task, []byte(f.taskParams)); err != nil {
		return fmt.Errorf("metagrad: --task-params: %w", err)
	}
	if f.steps > 0 {
		if err := setSteps(task, f.steps); err != nil {
			return fmt.Errorf("metagrad: --steps %d: %w", f.steps, err)
		}
	}
	rule, err := plasticity.Named(f.rule, f.k, f.l)
	if err != nil {
		return fmt.Errorf("metagrad: --rule: %w", err)
	}
	s := train.Miconi2017(task, f.trials)
	s.Rule = rule
	if f.n > 0 {
		s.Init.N = f.n
	}
	s.Learner.Eta, s.Learner.WarmupTrials, s.Learner.Clip, s.Learner.TauE = f.eta, f.warmup, f.clip, f.tauE
	s.Learner.Gain, s.Learner.Loss = plasticity.Gain(f.gain), plasticity.Loss(f.loss)
	p, err := meta.FromSetup(s, f.seed, f.trials, f.gamma)
	if err != nil {
		return err
	}
	c, err := meta.NewCase(p, rule)
	if err != nil {
		return err
	}
	file, err := os.Create(f.writeCase)
	if err != nil {
		return fmt.Errorf("metagrad: --write-case: %w", err)
	}
	w := bufio.NewWriter(file)
	if err := c.Write(w); err != nil {
		file.Close()
		return err
	}
	if err := errors.Join(w.Flush(), file.Close()); err != nil {
		return fmt.Errorf("metagrad: --write-case: %w", err)
	}
	summary := map[string]any{"wrote": f.writeCase, "task": f.task, "seed": f.seed,
		"N": p.Net.N, "T": task.Spec().Steps, "H": f.trials, "K": rule.K, "L": rule.L}
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
