package metaopt

import (
	"errors"
	"fmt"
	"strings"

	"rulescape/core/plasticity"
)

// ErrDiverged is the divergence sentinel an Objective wraps to report a
// diverged learner. It is plasticity.ErrDiverged, so the learner's own
// *plasticity.DivergenceError qualifies as is.
var ErrDiverged = plasticity.ErrDiverged

// ErrTooManyDiverged matches (errors.Is) a *DivergedError: an iteration whose
// surviving learners fell below Settings.MinValidFraction.
var ErrTooManyDiverged = errors.New("metaopt: too many learners diverged")

// Divergence records one learner-run excluded from an iteration.
type Divergence struct {
	Index  int    `json:"index"`  // learner (Adam, held-out), pair (ES) or candidate (CMA-ES) index
	Seed   uint64 `json:"seed"`   // the learner's seed
	Reason string `json:"reason"` // the error text, or what was non-finite
}

// DivergedError stops an iteration in which too few learners survived. The
// optimizer state is left as it was before the iteration.
type DivergedError struct {
	Iter     int          // 0-based iteration
	What     string       // what was counted: "training learners", "held-out learners", "ES pairs" or "CMA-ES candidates"
	Total    int          // how many were attempted
	Valid    int          // how many survived
	MinValid int          // how many were needed
	Diverged []Divergence // the excluded ones, in index order
}

func (e *DivergedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "metaopt: iteration %d: %d of %d %s diverged, need at least %d valid; seeds",
		e.Iter, len(e.Diverged), e.Total, e.What, e.MinValid)
	for i, d := range e.Diverged {
		if i == 8 {
			fmt.Fprintf(&b, " … (%d more)", len(e.Diverged)-i)
			break
		}
		fmt.Fprintf(&b, " %d", d.Seed)
	}
	if len(e.Diverged) > 0 {
		fmt.Fprintf(&b, "; first: %s", e.Diverged[0].Reason)
	}
	b.WriteString(" (Θ is unchanged; lower Settings.LR or the learner's eta, enable clipping, or lower Settings.MinValidFraction)")
	return b.String()
}

// Is makes errors.Is(err, ErrTooManyDiverged) true.
func (e *DivergedError) Is(target error) bool { return target == ErrTooManyDiverged }
