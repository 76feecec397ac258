package meta

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
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
// LogEta), a projection 1+Ω, central finite differences 1+2D.
type Learners struct {
	Setup     *train.Setup      // task, network, learner; Setup.Rule fixes K and L
	H         int               // learning trials per learner
	Gamma     float64           // discount γ of the meta-objective, (0, 1]
	Estimator metaopt.Estimator // exact, projection:Ω or fd (es/cmaes need no gradient)
	LogEta    bool              // log η is the last meta-parameter
	FDStep    float64           // central-difference step (default 1e-5)
	Dist      Distribution      // projection directions (default Rademacher)
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
	if l.Estimator.Kind == metaopt.EstimatorProjection && l.Estimator.Directions < 1 {
		return fmt.Errorf("meta: learners: projection needs Ω ≥ 1 directions")
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
// of the setup's learning rate).
func (l *Learners) Params(rule plasticity.Rule) []float64 {
	p := append([]float64(nil), rule.Theta...)
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
	switch {
	case !req.WantGrad:
		res, err = Objective(ctx, p, rule, opts)
	case l.Estimator.Kind == metaopt.EstimatorExact:
		res, err = Gradient(ctx, p, rule, opts)
		cost = 1 + D
	case l.Estimator.Kind == metaopt.EstimatorProjection:
		dist := l.Dist
		if dist == "" {
			dist = Rademacher
		}
		rng := rand.New(rand.NewPCG(req.EstimatorSeed, StreamProjection))
		res, err = Projection(ctx, p, rule, l.Estimator.Directions, dist, rng, opts)
		cost = 1 + float64(l.Estimator.Directions)
	case l.Estimator.Kind == metaopt.EstimatorFD:
		step := l.FDStep
		if step == 0 {
			step = 1e-5
		}
		res, err = FiniteDifference(ctx, p, rule, step, opts)
		cost = 1 + 2*D
	default:
		return metaopt.Eval{}, fmt.Errorf("meta: learners: estimator %s gives no gradient", l.Estimator)
	}
	if err != nil {
		return metaopt.Eval{Cost: cost}, fmt.Errorf("learner seed %d: %w", req.Seed, err)
	}
	return metaopt.Eval{J: res.J, Grad: res.Grad, Cost: cost}, nil
}
