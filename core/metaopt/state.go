package metaopt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// StateVersion is the State format written by this package. Restore accepts
// only this version.
const StateVersion = 1

// State is everything an Optimizer needs to continue exactly where it
// stopped. It round-trips through encoding/json bit-exactly (Go writes the
// shortest decimal that parses back to the same float64) and never holds
// NaN or ±Inf.
type State struct {
	Version  int       `json:"version"`
	Settings Settings  `json:"settings"` // defaults filled in, except Workers
	Iter     int       `json:"iter"`     // completed iterations
	Params   []float64 `json:"params"`   // Θ (and log η): the ES/Adam iterate, or the CMA-ES mean
	AdamM    []float64 `json:"adam_m"`   // Adam first moment
	AdamV    []float64 `json:"adam_v"`   // Adam second moment
	// AdamSteps is Adam's step count t (bias correction); equals Iter for
	// Adam and ES, 0 for CMA-ES.
	AdamSteps int `json:"adam_steps"`
	// RNG is the optimizer's PCG stream (ES perturbations, CMA-ES samples),
	// as rand.PCG.MarshalBinary writes it (base64 in JSON).
	RNG []byte `json:"rng"`
	// CMA is the CMA-ES state (MethodCMAES only).
	CMA *CMAState `json:"cma,omitempty"`
	// Budget is the compute spent so far.
	Budget Budget `json:"budget"`
	// LastHeldOut is the most recent held-out evaluation, if any.
	LastHeldOut *HeldOutEval `json:"last_held_out,omitempty"`
	// Best is the held-out evaluation with the highest J so far, if any.
	Best *Best `json:"best,omitempty"`
}

// Budget counts compute: learner-runs, and the cost units the objective
// reports (Eval.Cost, e.g. primal-pass equivalents), for training
// iterations and held-out evaluations separately. Diverged runs count.
type Budget struct {
	Runs        int64   `json:"runs"`
	Cost        float64 `json:"cost"`
	HeldOutRuns int64   `json:"held_out_runs"`
	HeldOutCost float64 `json:"held_out_cost"`
}

// Best is the best held-out evaluation so far.
type Best struct {
	Iter   int       `json:"iter"` // Θ after this many iterations
	J      float64   `json:"j"`
	Params []float64 `json:"params"`
}

// CMAState is the state of CMA-ES besides the mean (State.Params).
type CMAState struct {
	Gen   int       `json:"gen"`   // generations done
	Sigma float64   `json:"sigma"` // step size σ
	C     []float64 `json:"c"`     // covariance matrix, P×P row-major
	PC    []float64 `json:"pc"`    // evolution path of C
	PS    []float64 `json:"ps"`    // conjugate evolution path of σ
}

func (c *CMAState) clone() *CMAState {
	if c == nil {
		return nil
	}
	d := *c
	d.C, d.PC, d.PS = slices.Clone(c.C), slices.Clone(c.PC), slices.Clone(c.PS)
	return &d
}

// clone returns a deep copy.
func (st State) clone() State {
	c := st
	c.Params = slices.Clone(st.Params)
	c.AdamM = slices.Clone(st.AdamM)
	c.AdamV = slices.Clone(st.AdamV)
	c.RNG = slices.Clone(st.RNG)
	c.CMA = st.CMA.clone()
	if st.LastHeldOut != nil {
		h := st.LastHeldOut.clone()
		c.LastHeldOut = &h
	}
	if st.Best != nil {
		b := *st.Best
		b.Params = slices.Clone(st.Best.Params)
		c.Best = &b
	}
	return c
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// validate checks a state handed to Restore and names the bad field.
func (st State) validate() error {
	bad := func(field, problem string) error {
		return fmt.Errorf("metaopt: restore: state %s %s", field, problem)
	}
	if st.Version != StateVersion {
		return bad("version", fmt.Sprintf("= %d, this build reads version %d (resume with the rulescape version that wrote it)", st.Version, StateVersion))
	}
	s := st.Settings.withDefaults()
	if err := s.validate(); err != nil {
		return fmt.Errorf("metaopt: restore: %w", err)
	}
	p := len(st.Params)
	switch {
	case p == 0:
		return bad("params", "is empty")
	case !allFinite(st.Params):
		return bad("params", "holds NaN or Inf")
	case len(st.AdamM) != p || len(st.AdamV) != p:
		return bad("adam_m/adam_v", fmt.Sprintf("have lengths %d/%d, want %d", len(st.AdamM), len(st.AdamV), p))
	case !allFinite(st.AdamM) || !allFinite(st.AdamV):
		return bad("adam_m/adam_v", "hold NaN or Inf")
	case st.Iter < 0 || st.AdamSteps < 0:
		return bad("iter/adam_steps", fmt.Sprintf("= %d/%d: must be ≥ 0", st.Iter, st.AdamSteps))
	}
	if err := new(rand.PCG).UnmarshalBinary(st.RNG); err != nil {
		return bad("rng", fmt.Sprintf("is unreadable: %v", err))
	}
	if s.Method == MethodCMAES {
		c := st.CMA
		switch {
		case c == nil:
			return bad("cma", "is missing for method cmaes")
		case len(c.C) != p*p || len(c.PC) != p || len(c.PS) != p:
			return bad("cma", fmt.Sprintf("has sizes c=%d pc=%d ps=%d, want %d, %d, %d", len(c.C), len(c.PC), len(c.PS), p*p, p, p))
		case !(c.Sigma > 0) || !allFinite(c.C) || !allFinite(c.PC) || !allFinite(c.PS) || math.IsInf(c.Sigma, 0):
			return bad("cma", "holds a non-finite value or σ ≤ 0")
		}
	}
	return nil
}

// Record describes one completed iteration.
type Record struct {
	Iter   int    `json:"iter"` // 0-based iteration index
	Method Method `json:"method"`
	// Params is Θ at which this iteration's learners ran (before the update;
	// the CMA-ES mean).
	Params []float64 `json:"params"`
	// J is the mean training J over the surviving learners (ES: over the
	// surviving pairs' perturbed members; CMA-ES: over all surviving
	// candidates), JStd its sample standard deviation and JSE its standard
	// error.
	J    float64 `json:"j"`
	JStd float64 `json:"j_std"`
	JSE  float64 `json:"j_se"`
	// Valid counts the surviving learners (ES pairs, CMA-ES candidates);
	// Diverged lists the excluded ones.
	Valid    int          `json:"valid"`
	Diverged []Divergence `json:"diverged,omitempty"`
	// Grad is the averaged gradient estimate before clipping (Adam, ES), and
	// GradNorm its Euclidean norm; Clipped says whether ClipNorm shortened it.
	Grad     []float64 `json:"grad,omitempty"`
	GradNorm float64   `json:"grad_norm"`
	Clipped  bool      `json:"clipped,omitempty"`
	// StepNorm is ‖Θ_{i+1} − Θ_i‖.
	StepNorm float64 `json:"step_norm"`
	// Sigma is the CMA-ES step size after the update (CMA-ES only).
	Sigma float64 `json:"sigma,omitempty"`
	// HeldOut is the held-out evaluation of Params, when one was due.
	HeldOut *HeldOutEval `json:"held_out,omitempty"`
	// Runs and Cost are this iteration's training learner-runs and cost
	// units; Budget the cumulative totals after it.
	Runs   int     `json:"runs"`
	Cost   float64 `json:"cost"`
	Budget Budget  `json:"budget"`
	// WallSeconds is the iteration's wall-clock time (the only field that
	// differs between identical runs).
	WallSeconds float64 `json:"wall_seconds"`
}

// HeldOutEval is one evaluation of Θ on the held-out seeds, without gradient.
type HeldOutEval struct {
	Iter     int          `json:"iter"` // Θ after this many iterations
	J        float64      `json:"j"`    // mean over the surviving held-out learners
	JStd     float64      `json:"j_std"`
	JSE      float64      `json:"j_se"`
	Valid    int          `json:"valid"`
	Diverged []Divergence `json:"diverged,omitempty"`
	Runs     int          `json:"runs"`
	Cost     float64      `json:"cost"`
}

func (h HeldOutEval) clone() HeldOutEval {
	h.Diverged = slices.Clone(h.Diverged)
	return h
}

// Result is what Run returns.
type Result struct {
	Iter    int          // iterations completed
	Params  []float64    // final Θ
	HeldOut *HeldOutEval // held-out evaluation of the final Θ, if HeldOut > 0
	Best    *Best        // best held-out evaluation of the run, if any
	Budget  Budget       // compute spent, including before a restore
}
