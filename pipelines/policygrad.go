package pipelines

import (
	"fmt"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/core/rnn"
)

// checkPolicyNoise reports, as a *ParamError naming the perturbation
// setting at fault, a metaopt job whose estimator is policy-gradient but
// whose exploration noise has no usable score (meta.CheckPolicyNoise):
// anything but Gaussian noise with σ > 0 from step 0.
func checkPolicyNoise(estimator string, noise rnn.Perturbation, src Source) error {
	if estimator != string(metaopt.EstimatorPolicyGradient) || meta.CheckPolicyNoise(noise) == nil {
		return nil
	}
	const fix = "set perturb gaussian with perturb_sigma > 0 and perturb_start 0, or use another estimator"
	switch {
	case noise.Scheme != rnn.Gaussian:
		scheme := noise.Scheme
		if scheme == "" {
			scheme = rnn.None
		}
		return &ParamError{Key: "perturb", Fix: fix,
			Problem: fmt.Sprintf("%s = %s has no likelihood-ratio score for estimator policy-gradient (only Gaussian noise has one)", src.Ref("perturb"), scheme)}
	case noise.Start != 0:
		return &ParamError{Key: "perturb_start", Fix: fix,
			Problem: fmt.Sprintf("%s = %d leaves the first steps without noise, which estimator policy-gradient needs", src.Ref("perturb_start"), noise.Start)}
	default:
		return &ParamError{Key: "perturb_sigma", Fix: fix,
			Problem: fmt.Sprintf("%s = %v gives no noise, which estimator policy-gradient needs", src.Ref("perturb_sigma"), noise.Sigma)}
	}
}
