package pipelines

import (
	"fmt"
	"math"
	"strings"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
)

// Validate checks the settings of a metaopt job (not its task) as a
// campaign file's are checked, naming a bad setting as ref names its key
// (FlagName on the command line), and sets Estimator to its canonical
// form. Errors are *ParamError: "<ref> = <value> <what> — <fix>".
func (s *MetaoptSpec) Validate(ref func(key string) string) error {
	est, err := metaopt.ParseEstimator(s.Estimator)
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	checks := []struct {
		ok        bool
		key, what string
		fix       string
	}{
		{err == nil, "estimator", "is not known", "use exact, adjoint, projection:Ω (e.g. projection:4), fd, policy-gradient, es or cmaes"},
		{s.Iters >= 1, "iters", "is too small", "run at least 1 meta-iteration"},
		{s.Learners >= 1, "learners", "is too small", "average at least 1 learner per iteration"},
		{s.Trials >= 1, "trials", "is too small", "give a horizon of at least 1 trial"},
		{s.Dist == string(meta.Rademacher) || s.Dist == string(meta.Gaussian), "dist", "is not known", "use rademacher or gaussian"},
		{finite(s.FDStep) && s.FDStep > 0, "fd_step", "is out of range", "use a small positive step, e.g. 1e-5"},
		{s.Gamma > 0 && s.Gamma <= 1, "gamma", "is out of range", "use a discount in (0, 1] — 1 weighs every trial equally"},
		{s.HeldOut >= 0, "held_out", "is negative", "use 0 (none) or more held-out seeds"},
		{s.EvalEvery >= 0, "eval_every", "is negative", "use 0 (only at the end) or a period in iterations"},
		{finite(s.LR) && s.LR > 0, "lr", "is out of range", "use a positive step size, e.g. 0.02"},
		{finite(s.ClipNorm) && s.ClipNorm >= 0, "clip_norm", "is out of range", "use 0 (none) or a positive norm"},
		{finite(s.LearnerClip) && s.LearnerClip >= 0, "learner_clip", "is out of range", "use 0 (none) or a positive norm"},
		{finite(s.ESSigma) && s.ESSigma > 0, "es_sigma", "is out of range", "use a positive perturbation scale, e.g. 0.05"},
		{s.ESPairs >= 0, "es_pairs", "is negative", "use 0 (= learners) or a positive count"},
		{finite(s.CMASigma) && s.CMASigma > 0, "cma_sigma", "is out of range", "use a positive step size, e.g. 0.1"},
		{s.CMAPopulation >= 0, "cma_population", "is negative", "use 0 (automatic) or a positive count"},
		{s.Init == "zero" || s.Init == "random" || contains(plasticity.RuleNames(), s.Init), "init", "is not known",
			"use zero, random or a named rule (" + strings.Join(plasticity.RuleNames(), ", ") + ")"},
		{finite(s.InitScale) && s.InitScale >= 0, "init_scale", "is out of range", "use a finite standard deviation ≥ 0"},
		{s.Scale == "auto" || s.Scale == "none", "scale", "is not known", "use auto or none"},
	}
	for _, c := range checks {
		if !c.ok {
			return &ParamError{Key: c.key, Problem: fmt.Sprintf("%s = %s %s", ref(c.key), reflectValue(s, c.key), c.what), Fix: c.fix}
		}
	}
	s.Estimator = est.String()
	return nil
}

// InitialRule sets p's rule to the initial rule of a metaopt job with
// settings s: a random Θ of p's K and L (RandomRule from s.Seed) for init
// random, else the named rule s.Init.
func (s *MetaoptSpec) InitialRule(p *Params) error {
	if s.Init != "random" {
		p.Rule, p.Theta = s.Init, nil
		return nil
	}
	rule, err := RandomRule(p.K, p.L, s.InitScale, s.Seed)
	if err != nil {
		return err
	}
	p.Rule, p.Theta = "", rule.Matrix()
	return nil
}
