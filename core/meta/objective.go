package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/train"
)

// StreamProjection is the PCG stream id of the random projection directions
// drawn from a request's EstimatorSeed.
const StreamProjection = 0x2001

// Learners is a metaopt.Objective that runs one learner of a training setup
// per request: the learner of seed Request.Seed (drawn as train.Run draws it)
// learns for H trials with the rule Θ = Params[:P] and, with LogEta,
// η = exp(Params[P]); its J = Σ_h γ^h R^h and, when asked, a gradient
// estimate from the configured estimator.
//
// Cost is counted in tangent-system equivalents, a deterministic proxy for
// compute: a primal pass is 1, an exact gradient 1+D (D = P, or P+1 with
// LogEta), an adjoint gradient adjointCost whatever D, a projection 1+Ω,
// central finite differences 1+2D, a policy gradient PolicyGradientCost.
type Learners struct {
	Setup     *train.Setup      // task, network, learner; Setup.Rule fixes K and L
	H         int               // learning trials per learner
	Gamma     float64           // discount γ of the meta-objective, (0, 1]
	Estimator metaopt.Estimator // exact, adjoint, projection:Ω, fd or policy-gradient (es/cmaes need no gradient)
	LogEta    bool              // log η is the last meta-parameter
	FDStep    float64           // central-difference step (default 1e-5)
	Dist      Distribution      // projection directions (default Rademacher)
	// Scale, when set (length P, or P+1 with LogEta), makes the optimizer
	// work in scaled coordinates z: θ_kl = z_kl·Scale[kl] (log η is not
	// scaled). See AutoScale. Gradients are returned with respect to z.
	Scale []float64
}

// Validate checks the configuration.
func (l *Learners) Validate() error {
	if l.Setup == nil {
		return errors.New("meta: learners: no setup")
	}
	if err := l.Setup.Validate(); err != nil {
		return fmt.Errorf("meta: learners: %w", err)
	}
	if l.H <= 0 {
		return fmt.Errorf("meta: learners: H = %d trials: must be ≥ 1", l.H)
	}
	if !(l.Gamma > 0 && l.Gamma <= 1) {
		return fmt.Errorf("meta: learners: gamma = %v: must be in (0, 1]", l.Gamma)
	}
	if l.Scale != nil && len(l.Scale) != l.Dim() {
		return fmt.Errorf("meta: learners: %d scale factors, want %d", len(l.Scale), l.Dim())
	}
	for i, v := range l.Scale {
		if !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("meta: learners: scale[%d] = %v: must be positive and finite", i, v)
		}
	}
	if l.Estimator.Kind == metaopt.EstimatorProjection && l.Estimator.Directions < 1 {
		return fmt.Errorf("meta: learners: projection needs Ω ≥ 1 directions")
	}
	if l.Estimator.Kind == metaopt.EstimatorPolicyGradient {
		if err := CheckPolicyNoise(l.Setup.Perturb); err != nil {
			return err
		}
	}
	return nil
}

// Dim returns the number of meta-parameters.
func (l *Learners) Dim() int {
	if l.LogEta {
		return l.Setup.Rule.P() + 1
	}
	return l.Setup.Rule.P()
}

// Params returns the meta-parameter vector of a rule (and, with LogEta, log η
// of the setup's learning rate), in scaled coordinates when Scale is set.
func (l *Learners) Params(rule plasticity.Rule) []float64 {
	p := append([]float64(nil), rule.Theta...)
	for i := range p {
		if l.Scale != nil {
			p[i] /= l.Scale[i]
		}
	}
	if l.LogEta {
		p = append(p, math.Log(l.Setup.Learner.Eta))
	}
	return p
}

// Rule returns the rule (and learning rate) a meta-parameter vector stands for.
func (l *Learners) Rule(params []float64) (plasticity.Rule, float64, error) {
	if len(params) != l.Dim() {
		return plasticity.Rule{}, 0, fmt.Errorf("meta: learners: %d parameters, want %d", len(params), l.Dim())
	}
	rule := l.Setup.Rule.Clone()
	copy(rule.Theta, params[:rule.P()])
	if l.Scale != nil {
		for i := range rule.Theta {
			rule.Theta[i] *= l.Scale[i]
		}
	}
	eta := l.Setup.Learner.Eta
	if l.LogEta {
		eta = math.Exp(params[rule.P()])
	}
	return rule, eta, nil
}

// Eval implements metaopt.Objective.
func (l *Learners) Eval(ctx context.Context, req metaopt.Request) (metaopt.Eval, error) {
	rule, eta, err := l.Rule(req.Params)
	if err != nil {
		return metaopt.Eval{}, err
	}
	s := *l.Setup
	s.Rule = rule
	s.Learner.Eta = eta
	p, err := FromSetup(&s, req.Seed, l.H, l.Gamma)
	if err != nil {
		return metaopt.Eval{}, err
	}
	opts := Options{LogEta: l.LogEta}
	D := float64(l.Dim())
	var res *Result
	cost := 1.0
	inZ := false // the gradient is already with respect to the scaled z
	switch {
	case !req.WantGrad:
		res, err = Objective(ctx, p, rule, opts)
	case l.Estimator.Kind == metaopt.EstimatorExact:
		res, err = Gradient(ctx, p, rule, opts)
		cost = 1 + D
	case l.Estimator.Kind == metaopt.EstimatorAdjoint:
		res, err = Adjoint(ctx, p, rule, opts)
		cost = adjointCost
	case l.Estimator.Kind == metaopt.EstimatorProjection:
		dist := l.Dist
		if dist == "" {
			dist = Rademacher
		}
		rng := rand.New(rand.NewPCG(req.EstimatorSeed, StreamProjection))
		// Directions drawn in the optimizer's coordinates z: drawn in θ and
		// rescaled, the estimate is unbiased too, but the coefficients with
		// large raw gradients leak their variance into every coordinate.
		popts := opts
		popts.Scale = l.Scale
		res, err = Projection(ctx, p, rule, l.Estimator.Directions, dist, rng, popts)
		cost = 1 + float64(l.Estimator.Directions)
		inZ = true
	case l.Estimator.Kind == metaopt.EstimatorFD:
		step := l.FDStep
		if step == 0 {
			step = 1e-5
		}
		res, err = FiniteDifference(ctx, p, rule, step, opts)
		cost = 1 + 2*D
	case l.Estimator.Kind == metaopt.EstimatorPolicyGradient:
		res, err = PolicyGradient(ctx, p, rule, s.Perturb, opts)
		cost = PolicyGradientCost
	default:
		return metaopt.Eval{}, fmt.Errorf("meta: learners: estimator %s gives no gradient", l.Estimator)
	}
	if err != nil {
		return metaopt.Eval{Cost: cost}, fmt.Errorf("learner seed %d: %w", req.Seed, err)
	}
	if res.Grad != nil && l.Scale != nil && !inZ {
		for i := range rule.Theta {
			res.Grad[i] *= l.Scale[i] // ∂J/∂z = ∂J/∂θ · dθ/dz
		}
	}
	return metaopt.Eval{J: res.J, Grad: res.Grad, Cost: cost}, nil
}

// AutoScale returns scale factors that put every rule coefficient in one
// natural unit: z_kl = 1 means that the term kl alone, at the setup's
// learning rate η and per unit of advantage, changes the weights by 1% of
// their initial rms G/√N per trial. That is, Scale[kl] = 0.01·(G/√N) /
// (η·rms(E_kl)), where E_kl = Σ_t c_t (Δ^t)^l ⊗ (r^t)^k is the eligibility
// θ_kl = 1 alone would produce, measured on the first trials of the setup's
// initial networks (no plasticity) and averaged over the given learner seeds.
//
// Without it, one Adam step of the same size moves the constant drift θ₀₀
// (eligibility ~dt·T) and the cubic θ₃₃ (eligibility ~(αA)³ per kick) by
// the same amount: on go/no-go at N = 30 their eligibilities differ by four
// orders of magnitude, and the first steps from the zero rule make learners
// diverge.
func (l *Learners) AutoScale(ctx context.Context, seeds []uint64, trials int) ([]float64, error) {
	if err := l.Validate(); err != nil {
		return nil, err
	}
	rule := l.Setup.Rule
	P := rule.P()
	sumSq := make([]float64, P)
	count := 0
	var ws plasticity.Workspace
	for _, seed := range seeds {
		p, err := FromSetup(l.Setup, seed, trials, 1)
		if err != nil {
			return nil, err
		}
		n := p.Net.N
		var tr rnn.Trace
		for h, ep := range p.Episodes {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if h >= trials {
				break
			}
			T := ep.Trial.T
			p.Net.Run(p.Dyn, ep.X0, ep.Trial.U, ep.Xi, T, &tr)
			delta, xbar, c := make([]float64, T*n), make([]float64, n), make([]float64, T)
			plasticity.Fluctuation(tr.X, n, T, p.Cfg.AlphaX, delta, xbar)
			plasticity.Weights(c, T, p.Dyn.Dt, plasticity.Decay(p.Dyn.Dt, p.Cfg.TauE), ep.Gate, p.Cfg.GateStart)
			e := make([]float64, n*n)
			for i := 0; i < P; i++ {
				basis, _ := plasticity.NewRule(rule.K, rule.L)
				basis.Theta[i] = 1
				ws.Eligibility(basis, delta, tr.R, c, n, T, e)
				for _, v := range e {
					sumSq[i] += v * v / float64(n*n)
				}
			}
			count++
		}
	}
	eta := l.Setup.Learner.Eta
	if !(eta > 0) {
		return nil, fmt.Errorf("meta: autoscale: learning rate η = %v: need η > 0", eta)
	}
	unit := 0.01 * l.Setup.Init.G / math.Sqrt(float64(l.Setup.Init.N))
	if !(unit > 0) {
		unit = 0.01 / math.Sqrt(float64(l.Setup.Init.N))
	}
	scale := make([]float64, l.Dim())
	for i := range scale {
		scale[i] = 1
		if i < P {
			rms := math.Sqrt(sumSq[i] / float64(count))
			if !(rms > 0) || math.IsInf(rms, 0) {
				return nil, fmt.Errorf("meta: autoscale: term θ_%d%d has eligibility rms %v on the initial network — cannot scale it", i/(rule.L+1), i%(rule.L+1), rms)
			}
			scale[i] = unit / (eta * rms)
		}
	}
	return scale, nil
}
