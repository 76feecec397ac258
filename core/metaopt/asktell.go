package metaopt

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Batch is the learner-runs of one iteration (Ask) or of a final held-out
// evaluation (AskHeldOut), with the private draws Tell needs to apply
// their results. It round-trips through encoding/json bit-exactly, so one
// process may ask, others evaluate the requests and another tell.
type Batch struct {
	// Iter is the state's Iter when the batch was asked: Tell accepts the
	// batch only from a state at the same iteration.
	Iter int `json:"iter"`
	// HeldOutOnly marks a batch of AskHeldOut: held-out requests of the
	// current Θ only, which Tell records without an update.
	HeldOutOnly bool `json:"held_out_only,omitempty"`
	// Requests are the training requests (the first Train), then the
	// held-out requests when an evaluation is due.
	Requests []Request `json:"requests"`
	Train    int       `json:"train"`
	// Eps are the ES perturbations ε_k and Cands the CMA-ES candidates.
	Eps   [][]float64 `json:"eps,omitempty"`
	Cands [][]float64 `json:"cands,omitempty"`
	// RNG is the optimizer's stream after the batch's draws (what State.RNG
	// becomes when Tell succeeds).
	RNG []byte `json:"rng"`
}

// Outcome is the classified result of one request, as Tell takes it:
// Eval, or why the run diverged (then only Eval.Cost is kept). Classify
// makes one from what an Objective returned.
type Outcome struct {
	Eval     Eval   `json:"eval"`
	Diverged string `json:"diverged,omitempty"`
}

// Classify sorts an Objective's return for req into an Outcome (valid or
// diverged, see Objective) or a hard error, which is not an outcome: the
// iteration cannot be told and must stop. p is the number of parameters.
// A valid outcome keeps the gradient only when req.WantGrad.
func Classify(req Request, p int, ev Eval, err error) (Outcome, error) {
	diverged := func(why string) (Outcome, error) {
		return Outcome{Eval: Eval{Cost: ev.Cost}, Diverged: why}, nil
	}
	switch {
	case err != nil && errors.Is(err, ErrDiverged):
		return diverged(err.Error())
	case err != nil:
		return Outcome{}, err
	case math.IsNaN(ev.J) || math.IsInf(ev.J, 0):
		return diverged(fmt.Sprintf("objective returned J = %v without an error", ev.J))
	case !req.WantGrad:
		return Outcome{Eval: Eval{J: ev.J, Cost: ev.Cost}}, nil
	case len(ev.Grad) != p:
		return Outcome{}, fmt.Errorf("objective returned a gradient of length %d, want P = %d", len(ev.Grad), p)
	case !allFinite(ev.Grad):
		return diverged("objective returned a non-finite gradient without an error")
	}
	return Outcome{Eval: Eval{J: ev.J, Grad: slices.Clone(ev.Grad), Cost: ev.Cost}}, nil
}

// Ask returns the next iteration's learner-runs without changing the
// optimizer: asking again returns the same batch. Step is Ask, the
// evaluation of every request (Objective.Eval then Classify, in any order
// and on any machine) and Tell.
func (o *Optimizer) Ask() (Batch, error) {
	s := o.st.Settings
	i := o.st.Iter
	pcg := o.pcg // a copy: Ask leaves the optimizer as it is
	rng := rand.New(&pcg)
	b := Batch{Iter: i}
	switch s.Method {
	case MethodAdam:
		b.Requests = o.adamRequests()
	case MethodES:
		b.Requests, b.Eps = o.esRequests(rng)
	case MethodCMAES:
		cma, err := newCMAGen(o.st.CMA, o.st.Params, s.CMA.Population)
		if err != nil {
			return Batch{}, fmt.Errorf("metaopt: iteration %d: %w", i, err)
		}
		b.Cands = cma.sample(rng)
		b.Requests = o.cmaRequests(b.Cands)
	default:
		return Batch{}, fmt.Errorf("metaopt: method %q unknown", s.Method)
	}
	b.Train = len(b.Requests)
	if s.HeldOut > 0 && s.EvalEvery > 0 && i%s.EvalEvery == 0 {
		b.Requests = append(slices.Clip(b.Requests), o.heldOutRequests(o.st.Params)...)
	}
	var err error
	if b.RNG, err = pcg.MarshalBinary(); err != nil {
		return Batch{}, fmt.Errorf("metaopt: iteration %d: %w", i, err)
	}
	return b, nil
}

// HeldOutDue reports whether the current Θ is still to be evaluated on the
// held-out seeds (Settings.HeldOut > 0 and no evaluation at this
// iteration yet): what Run does after its last iteration.
func (o *Optimizer) HeldOutDue() bool {
	h := o.st.LastHeldOut
	return o.st.Settings.HeldOut > 0 && (h == nil || h.Iter != o.st.Iter)
}

// AskHeldOut returns the held-out learner-runs of the current Θ, which
// EvaluateHeldOut runs and Tell records.
func (o *Optimizer) AskHeldOut() (Batch, error) {
	if o.st.Settings.HeldOut == 0 {
		return Batch{}, errors.New("metaopt: no held-out seeds: set Settings.HeldOut ≥ 1")
	}
	return Batch{Iter: o.st.Iter, HeldOutOnly: true, Requests: o.heldOutRequests(o.st.Params), RNG: o.marshalRNG()}, nil
}

// Tell applies the outcomes of b's requests (res[k] of b.Requests[k]) to
// the optimizer, which must be at the iteration b was asked at. For an
// iteration's batch it takes the step exactly as Step does and returns
// the iteration's record (WallSeconds 0: the caller knows the time).
// For a batch of AskHeldOut it records the evaluation and returns a
// record of the current Θ whose HeldOut is set and whose other results
// are zero. On error the state is unchanged.
func (o *Optimizer) Tell(b Batch, res []Outcome) (Record, error) {
	if err := o.checkBatch(b, res); err != nil {
		return Record{}, err
	}
	s := o.st.Settings
	i := o.st.Iter
	next := o.st.clone()
	rec := Record{Iter: i, Method: s.Method, Params: slices.Clone(o.st.Params)}
	if b.HeldOutOnly {
		if !o.HeldOutDue() {
			return Record{}, fmt.Errorf("metaopt: held-out evaluation at iteration %d already told", i)
		}
		h, err := next.absorbHeldOut(b.Requests, res)
		if err != nil {
			return Record{}, err
		}
		o.st = next
		rec.HeldOut, rec.Budget = &h, next.Budget
		return rec, nil
	}
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(b.RNG); err != nil {
		return Record{}, fmt.Errorf("metaopt: iteration %d: batch rng: %w", i, err)
	}
	train := b.Requests[:b.Train]
	for k := range train {
		rec.Cost += res[k].Eval.Cost
	}
	rec.Runs = len(train)
	var err error
	switch s.Method {
	case MethodAdam:
		err = next.adamIteration(&rec, train, res[:len(train)])
	case MethodES:
		err = next.esIteration(&rec, train, res[:len(train)], b.Eps)
	case MethodCMAES:
		var cma *cmaGen
		if cma, err = newCMAGen(next.CMA, next.Params, s.CMA.Population); err != nil {
			return Record{}, fmt.Errorf("metaopt: iteration %d: %w", i, err)
		}
		err = next.cmaIteration(&rec, train, res[:len(train)], cma, b.Cands)
	}
	if err != nil {
		return Record{}, err
	}
	next.Budget.Runs += int64(rec.Runs)
	next.Budget.Cost += rec.Cost
	if len(b.Requests) > b.Train {
		h, err := next.absorbHeldOut(b.Requests[b.Train:], res[b.Train:])
		if err != nil {
			return Record{}, err
		}
		rec.HeldOut = &h
	}
	var d2 float64
	for k, x := range next.Params {
		d2 += (x - rec.Params[k]) * (x - rec.Params[k])
	}
	rec.StepNorm = math.Sqrt(d2)
	if !allFinite(next.Params) || !allFinite(next.AdamM) || !allFinite(next.AdamV) {
		return Record{}, fmt.Errorf("metaopt: iteration %d: the update produced a non-finite Θ from finite inputs (gradient norm %g); Θ is unchanged: lower Settings.LR or set Settings.ClipNorm", i, rec.GradNorm)
	}
	next.Iter = i + 1
	o.pcg = pcg
	next.RNG = o.marshalRNG()
	o.st = next
	rec.Budget = next.Budget
	return rec, nil
}

// checkBatch checks that b fits the optimizer's state and res fits b, so
// that a batch of another iteration or a short result list is an error,
// not a wrong step.
func (o *Optimizer) checkBatch(b Batch, res []Outcome) error {
	i, s := o.st.Iter, o.st.Settings
	switch {
	case b.Iter != i:
		return fmt.Errorf("metaopt: batch of iteration %d told to the state at iteration %d", b.Iter, i)
	case len(res) != len(b.Requests):
		return fmt.Errorf("metaopt: iteration %d: %d outcomes for %d requests", i, len(res), len(b.Requests))
	case b.Train < 0 || b.Train > len(b.Requests) || b.HeldOutOnly && b.Train != 0:
		return fmt.Errorf("metaopt: iteration %d: batch has %d training requests of %d", i, b.Train, len(b.Requests))
	case b.HeldOutOnly:
		return nil
	case s.Method == MethodES && (len(b.Eps) != s.ES.Pairs || b.Train != 2*s.ES.Pairs):
		return fmt.Errorf("metaopt: iteration %d: ES batch has %d perturbations and %d requests, want %d pairs", i, len(b.Eps), b.Train, s.ES.Pairs)
	case s.Method == MethodCMAES && b.Train != len(b.Cands)*s.Learners:
		return fmt.Errorf("metaopt: iteration %d: CMA-ES batch has %d requests for %d candidates × %d seeds", i, b.Train, len(b.Cands), s.Learners)
	}
	p := len(o.st.Params)
	for _, v := range b.Eps {
		if len(v) != p {
			return fmt.Errorf("metaopt: iteration %d: batch perturbation of length %d, want P = %d", i, len(v), p)
		}
	}
	for _, v := range b.Cands {
		if len(v) != p {
			return fmt.Errorf("metaopt: iteration %d: batch candidate of length %d, want P = %d", i, len(v), p)
		}
	}
	for k, r := range res {
		if r.Diverged == "" && b.Requests[k].WantGrad && len(r.Eval.Grad) != p {
			return fmt.Errorf("metaopt: iteration %d: outcome %d has a gradient of length %d, want P = %d", i, k, len(r.Eval.Grad), p)
		}
	}
	return nil
}
