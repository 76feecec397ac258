package meta

import (
	"context"

	"rulescape/core/metaopt"
	"rulescape/core/train"
)

// Spec is one meta-optimization of a training setup's rule: the
// meta-objective's settings and the optimizer's. Its zero values are not
// defaults: callers resolve every field (the campaign parser does).
type Spec struct {
	Setup     *train.Setup     // task, network, learner, horizon (Trials) and initial rule
	Estimator string           // exact, adjoint, projection:Ω, fd, policy-gradient, es or cmaes
	Dist      Distribution     // projection directions
	Gamma     float64          // discount of later trials, (0, 1]
	LogEta    bool             // meta-learn log η too
	FDStep    float64          // finite-difference step
	Optimizer metaopt.Settings // its Method is set from Estimator
}

// Objective returns the meta-optimization's meta-objective (unscaled) and its
// optimizer settings, both validated. Start the optimizer at
// obj.Params(Setup.Rule); with automatic scaling call AutoScaleFor first.
func (p Spec) Objective() (*Learners, metaopt.Settings, error) {
	est, err := metaopt.ParseEstimator(p.Estimator)
	if err != nil {
		return nil, metaopt.Settings{}, err
	}
	obj := &Learners{Setup: p.Setup, H: p.Setup.Trials, Gamma: p.Gamma, Estimator: est,
		LogEta: p.LogEta, FDStep: p.FDStep, Dist: p.Dist}
	if err := obj.Validate(); err != nil {
		return nil, metaopt.Settings{}, err
	}
	s := p.Optimizer
	s.Method = est.Method()
	return obj, s, nil
}

// AutoScaleFor sets l.Scale from 4 learners of the settings' first
// iteration seeds, 5 trials each: the automatic search coordinates of
// campaigns and `rulescape metaopt --scale auto` (see AutoScale).
func (l *Learners) AutoScaleFor(ctx context.Context, s metaopt.Settings) error {
	seeds := make([]uint64, 4)
	for i := range seeds {
		seeds[i] = s.LearnerSeed(0, i)
	}
	scale, err := l.AutoScale(ctx, seeds, 5)
	if err != nil {
		return err
	}
	l.Scale = scale
	return nil
}
