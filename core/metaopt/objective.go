package metaopt

import "context"

// Request is one learner-run asked of an Objective.
type Request struct {
	// Params is Θ flattened (P values; by convention log η is the last entry
	// when the learning rate is meta-learned). It is the objective's own copy.
	Params []float64 `json:"params"`
	// Seed fixes every random choice of the learner (W⁰, perturbations,
	// condition sequence, x⁰). See Settings.LearnerSeed and Settings.HeldOutSeed.
	Seed uint64 `json:"seed"`
	// EstimatorSeed seeds the gradient estimator's own randomness (the random
	// projection directions). It differs between iterations even with
	// Settings.FixedSeeds, so a deterministic objective still gets fresh
	// directions. Zero for held-out runs.
	EstimatorSeed uint64 `json:"estimator_seed"`
	// WantGrad asks for an estimate of ∇_Θ J_s in Eval.Grad.
	WantGrad bool `json:"want_grad,omitempty"`
	// Iter is the 0-based meta-iteration and HeldOut says whether this is a
	// held-out evaluation; both are for logging only (results must depend on
	// Params, Seed and EstimatorSeed alone).
	Iter    int  `json:"iter"`
	HeldOut bool `json:"held_out,omitempty"`
}

// Eval is the outcome of one learner-run.
type Eval struct {
	// J is the learner's discounted return Σ_h γ^h R^h (to be maximized).
	J float64 `json:"j"`
	// Grad is the estimate of ∇_Θ J when Request.WantGrad, else nil.
	Grad []float64 `json:"grad,omitempty"`
	// Cost is the compute spent in the objective's own unit (rulescape's
	// core/meta reports primal-pass equivalents: one learning run without
	// tangents costs 1, with P exact tangents about 1+P). 0 means unknown.
	Cost float64 `json:"cost"`
}

// Objective evaluates one learner. It must be safe for concurrent use: the
// optimizer runs up to Settings.Workers evaluations at once.
//
// An error for which errors.Is(err, ErrDiverged) holds (for example a
// *plasticity.DivergenceError) marks the learner as diverged: it is excluded
// from the iteration's average and reported. A non-finite J or gradient
// without an error is treated the same way. Any other error stops the run.
type Objective interface {
	Eval(ctx context.Context, req Request) (Eval, error)
}

// ObjectiveFunc adapts a function to the Objective interface.
type ObjectiveFunc func(ctx context.Context, req Request) (Eval, error)

// Eval calls f(ctx, req).
func (f ObjectiveFunc) Eval(ctx context.Context, req Request) (Eval, error) { return f(ctx, req) }

// Recorder receives the progress of Optimizer.Run, in the style of gonum's
// optimize.Recorder. Init is called once before the first iteration with the
// starting state (Iter > 0 when the run was restored); Record once per
// completed iteration. An error from either stops the run.
type Recorder interface {
	Init(start State) error
	Record(r Record) error
}

// History is a Recorder that keeps every record in memory.
type History struct {
	Records []Record
}

// Init implements Recorder; it keeps records already collected.
func (h *History) Init(State) error { return nil }

// Record implements Recorder.
func (h *History) Record(r Record) error {
	h.Records = append(h.Records, r)
	return nil
}
