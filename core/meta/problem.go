package meta

import (
	"errors"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// Episode is everything one learning trial needs besides the weights: the
// task trial (inputs, targets, mask, condition) and the random numbers that
// do not depend on the rule.
type Episode struct {
	Trial tasks.Trial
	X0    []float64 // N initial state x⁰, clamps already applied
	Xi    []float64 // T×N exploration noise, row t = ξ^t; nil = none
	Gate  []float64 // T step gates g^t, t = 0…T−1; nil = the learner's GateStart
}

// Problem is one learner with all its random numbers fixed: J(Θ) is a
// deterministic function of the rule. Functions of this package read a
// Problem and never modify it.
type Problem struct {
	Net        *rnn.Network      // the network; Net.W holds W⁰
	Dyn        rnn.Dynamics      // time step and membrane time constant
	Cfg        plasticity.Config // learner settings (η, gain, clip, …)
	Mask       []float64         // N×N plastic mask; nil = plasticity.DefaultMask(Net)
	Conditions int               // number of conditions, one baseline R̄_c each
	Gamma      float64           // discount γ ∈ (0, 1] of J
	H          int               // learning trials
	// Episodes yields the episodes h = 0, 1, … in order (at least H of them).
	// It must be restartable and deterministic: every call yields the same
	// sequence from the start, and it must be safe to call from several
	// goroutines at once. The yielded *Episode is only valid until yield
	// returns, so a generator may reuse its buffers (trials are generated
	// lazily; a long problem never holds them all in memory).
	Episodes iter.Seq2[int, *Episode]
}

// Validate checks the fixed parts of the problem; episodes are checked as
// they are generated.
func (p *Problem) Validate() error {
	if p.Net == nil {
		return errors.New("meta: problem has no network")
	}
	if err := p.Net.Validate(); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	if err := p.Dyn.Validate(); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	if err := p.Cfg.Validate(); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	if p.Mask != nil && len(p.Mask) != p.Net.N*p.Net.N {
		return fmt.Errorf("meta: plastic mask has %d values, want N×N = %d", len(p.Mask), p.Net.N*p.Net.N)
	}
	if p.Conditions <= 0 {
		return fmt.Errorf("meta: conditions = %d: need at least 1", p.Conditions)
	}
	if !(p.Gamma > 0 && p.Gamma <= 1) {
		return fmt.Errorf("meta: gamma = %v: must be in (0, 1]", p.Gamma)
	}
	if p.H <= 0 {
		return fmt.Errorf("meta: H = %d learning trials: need at least 1", p.H)
	}
	if p.Episodes == nil {
		return errors.New("meta: problem has no episode generator")
	}
	return nil
}

// checkEpisode validates episode h against the network.
func (p *Problem) checkEpisode(h int, ep *Episode) error {
	n := p.Net.N
	tr := &ep.Trial
	bad := func(format string, args ...any) error {
		return fmt.Errorf("meta: episode %d: "+format, append([]any{h}, args...)...)
	}
	switch {
	case tr.T <= 0:
		return bad("T = %d steps: need at least 1", tr.T)
	case tr.M != p.Net.M || tr.O != p.Net.O:
		return bad("trial has M=%d inputs, O=%d outputs; network has M=%d, O=%d", tr.M, tr.O, p.Net.M, p.Net.O)
	case len(tr.U) != tr.T*tr.M || len(tr.Target) != tr.T*tr.O || len(tr.Mask) != tr.T:
		return bad("trial arrays have %d inputs, %d targets, %d mask values; want T×M=%d, T×O=%d, T=%d",
			len(tr.U), len(tr.Target), len(tr.Mask), tr.T*tr.M, tr.T*tr.O, tr.T)
	case tr.Condition < 0 || tr.Condition >= p.Conditions:
		return bad("condition %d out of range [0, %d)", tr.Condition, p.Conditions)
	case len(ep.X0) != n:
		return bad("x0 has %d values, want N=%d", len(ep.X0), n)
	case ep.Xi != nil && len(ep.Xi) != tr.T*n:
		return bad("xi has %d values, want T×N=%d", len(ep.Xi), tr.T*n)
	case ep.Gate != nil && len(ep.Gate) != tr.T:
		return bad("gate has %d values, want T=%d", len(ep.Gate), tr.T)
	}
	return nil
}

// Options are the settings shared by Objective, Gradient, Projection and
// FiniteDifference. The zero value differentiates with respect to Θ only.
type Options struct {
	// LogEta makes log η a meta-parameter too: gradients get one more
	// coordinate, ∂J/∂log η, appended after the P rule coefficients.
	LogEta bool
	// Scale, when set (one factor per gradient coordinate), makes
	// Projection draw its directions u in scaled coordinates z, with
	// θ_i = z_i·Scale[i]: the tangent direction in θ is Scale ⊙ u, and Grad
	// and Samples estimate ∇_z J = Scale ⊙ ∇_θ J with the direction
	// variance of z, not of θ (where the coefficients' raw gradients differ
	// by orders of magnitude). The other functions ignore it.
	Scale []float64
}

// Result is the outcome of one evaluation.
type Result struct {
	J       float64   // Σ_h γ^h R^h
	Rewards []float64 // R^h for h = 0…H−1
	// Grad is ∇J (Gradient), its estimate ĝ (Projection) or the central
	// difference approximation (FiniteDifference): P values in the order of
	// Rule.Theta (θ_kl at k*(L+1)+l), then ∂J/∂log η when Options.LogEta.
	Grad []float64
	// Directions are the random directions u^ω of a projection (Ω rows of
	// len(Grad) values); nil otherwise.
	Directions [][]float64
	// Derivs are the directional derivatives J̇_{u^ω} of a projection.
	Derivs []float64
	// Samples are the per-direction estimates J̇_{u^ω} u^ω, whose mean is
	// Grad: their spread measures the variance of the estimator.
	Samples [][]float64
}

// Distribution names the law of the random projection directions.
type Distribution string

// Distributions of projection directions.
const (
	Rademacher Distribution = "rademacher" // each coordinate ±1 with probability ½
	Gaussian   Distribution = "gaussian"   // each coordinate N(0, 1)
)

// FromSetup returns the problem of learner seed under setup s for H trials
// with discount gamma: W⁰, the conditions, x⁰ and ξ are drawn exactly as
// train.Run draws them for that seed (same streams, same order), so the
// rewards of Objective with rule s.Rule are minus train.Run's per-trial
// errors. H may exceed s.Trials.
func FromSetup(s *train.Setup, seed uint64, H int, gamma float64) (*Problem, error) {
	if s == nil {
		return nil, errors.New("meta: nil setup")
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	spec := s.Task.Spec()
	net, err := rnn.Init(rand.New(rand.NewPCG(seed, train.StreamInit)), s.Init, spec.Inputs, spec.Outputs)
	if err != nil {
		return nil, fmt.Errorf("meta: %w", err)
	}
	clamps := net.Clone() // used only for its clamps by InitState
	task, perturb, x0Range := s.Task, s.Perturb, s.X0Range
	n := net.N
	p := &Problem{
		Net: net, Dyn: s.Dyn, Cfg: s.Learner, Mask: plasticity.DefaultMask(net),
		Conditions: len(spec.Conditions), Gamma: gamma, H: H,
	}
	p.Episodes = func(yield func(int, *Episode) bool) {
		condRNG := rand.New(rand.NewPCG(seed, train.StreamCondition))
		stateRNG := rand.New(rand.NewPCG(seed, train.StreamState))
		pertRNG := rand.New(rand.NewPCG(seed, train.StreamPerturb))
		taskRNG := rand.New(rand.NewPCG(seed, train.StreamTask))
		ep := &Episode{X0: make([]float64, n)}
		noisy := perturb.Scheme != rnn.None && perturb.Scheme != ""
		for h := 0; ; h++ {
			cond := condRNG.IntN(len(spec.Conditions))
			ep.Trial = task.Trial(cond, taskRNG)
			clamps.InitState(stateRNG, ep.X0, x0Range)
			if noisy {
				if len(ep.Xi) != ep.Trial.T*n {
					ep.Xi = make([]float64, ep.Trial.T*n)
				}
				perturb.Fill(pertRNG, ep.Xi, ep.Trial.T, n)
			} else {
				ep.Xi = nil
			}
			if !yield(h, ep) {
				return
			}
		}
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// finite reports whether every value is a finite number.
func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
