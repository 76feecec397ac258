package pipelines

import (
	"fmt"

	"rulescape/core/metaopt"
)

// adjointCacheFloats is the smallest episode cache of meta.Adjoint (2²¹
// floats, 16 MB).
const adjointCacheFloats = 1 << 21

// AdjointBytes estimates the peak memory of one adjoint (reverse-mode)
// meta-gradient over a horizon of trials trials: a learner
// (learnerTerms), the weights at every trial boundary (trials·N²) and
// the clip pattern of every trial (trials·N²/64), an
// episode cache no larger than max(trials·N², 2²¹) floats, six more N×N
// (the adjoint of W, its masked copy and transposes, the recomputed
// eligibility) and one trial's per-step quantities, (4L+7)·(T+1)·N:
//
//	TrainBytes(shape, trials) + 8·(trials·N²·65/64 + max(trials·N², 2²¹) + 6·N² + (4L+7)·(T+1)·N) bytes
func AdjointBytes(s Shape, trials int) Estimate {
	return estimate(adjointFormula(s, trials), adjointTerms(s, trials)...)
}

func adjointFormula(s Shape, trials int) string {
	return fmt.Sprintf("8·(14 + 2·trials)·N² + 8·(14+6L)·T·N bytes (an episode cache of at least 16 MB) an adjoint learner at N = %d, T = %d, L = %d, %d trials", s.N, s.T, s.L, trials)
}

func adjointTerms(s Shape, trials int) []term {
	n := f(s.N)
	ck := f(trials) * n * n
	return append(learnerTerms(s),
		term{"trials", 48*f(trials) + 8*(ck*65/64+max(ck, adjointCacheFloats))},
		term{"n", 8 * 6 * n * n},
		term{"task_params", 8 * f(4*s.L+7) * f(s.T+1) * n})
}

// adjointMetaoptBytes is MetaoptBytes for the adjoint estimator: at learners
// at once, each AdjointBytes.
func adjointMetaoptBytes(s Shape, spec *MetaoptSpec, at float64) Estimate {
	terms := adjointTerms(s, spec.Trials)
	for i := range terms {
		terms[i].bytes *= at
	}
	return estimate(fmt.Sprintf("%.0f learners at once × %s", at, adjointFormula(s, spec.Trials)), terms...)
}

// isAdjoint reports whether a metaopt job's estimator is the adjoint.
func isAdjoint(spec *MetaoptSpec) bool {
	return spec.Estimator == string(metaopt.EstimatorAdjoint)
}
