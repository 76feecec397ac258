package metaopt

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Optimizer maximizes an Objective's J over Θ. It is not safe for
// concurrent use; it runs the learners of an iteration in parallel itself.
type Optimizer struct {
	obj Objective
	st  State    // committed state; changed only by a successful Step or held-out evaluation
	pcg rand.PCG // the stream st.RNG encodes
}

// New returns an optimizer starting from Θ = init (copied) with settings s.
func New(obj Objective, init []float64, s Settings) (*Optimizer, error) {
	if obj == nil {
		return nil, errors.New("metaopt: nil objective")
	}
	s = s.withDefaults()
	if err := s.validate(); err != nil {
		return nil, err
	}
	p := len(init)
	if p == 0 {
		return nil, errors.New("metaopt: initial parameters are empty: pass Θ (P values, plus log η if meta-learned)")
	}
	if !allFinite(init) {
		return nil, fmt.Errorf("metaopt: initial parameters %v hold NaN or Inf", init)
	}
	pcg := rand.NewPCG(derive(s.Seed, domainRNG, 0, 0), derive(s.Seed, domainRNG, 1, 0))
	st := State{
		Version:  StateVersion,
		Settings: s,
		Params:   slices.Clone(init),
		AdamM:    make([]float64, p),
		AdamV:    make([]float64, p),
	}
	if s.Method == MethodCMAES {
		st.CMA = newCMAState(p, s.CMA.Sigma)
	}
	o := &Optimizer{obj: obj, st: st, pcg: *pcg}
	o.st.RNG = o.marshalRNG()
	return o, nil
}

// Restore returns an optimizer that continues from st (copied), typically
// decoded from JSON. Its next Step is exactly the one the optimizer that
// wrote st would have taken. Before restoring, st.Settings.Iters may be
// raised to extend a run and st.Settings.Workers changed freely; any other
// change to st.Settings changes the run.
func Restore(obj Objective, st State) (*Optimizer, error) {
	if obj == nil {
		return nil, errors.New("metaopt: nil objective")
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	o := &Optimizer{obj: obj, st: st.clone()}
	o.st.Settings = o.st.Settings.withDefaults()
	if err := o.pcg.UnmarshalBinary(st.RNG); err != nil {
		return nil, fmt.Errorf("metaopt: restore: state rng: %w", err)
	}
	return o, nil
}

// State returns a deep copy of the current state, for checkpointing.
func (o *Optimizer) State() State { return o.st.clone() }

// Params returns a copy of the current Θ.
func (o *Optimizer) Params() []float64 { return slices.Clone(o.st.Params) }

func (o *Optimizer) marshalRNG() []byte {
	b, err := o.pcg.MarshalBinary()
	if err != nil { // rand.PCG.MarshalBinary never fails
		panic(err)
	}
	return b
}

// Run performs Step until Settings.Iters iterations are done (counting those
// before a restore), passing each Record to rec (which may be nil), then
// evaluates the final Θ on the held-out seeds if Settings.HeldOut > 0. On
// error the state is that of the last completed iteration, ready to resume.
func (o *Optimizer) Run(ctx context.Context, rec Recorder) (Result, error) {
	if rec != nil {
		if err := rec.Init(o.State()); err != nil {
			return o.result(), fmt.Errorf("metaopt: recorder init: %w", err)
		}
	}
	for o.st.Iter < o.st.Settings.Iters {
		r, err := o.Step(ctx)
		if err != nil {
			return o.result(), err
		}
		if rec != nil {
			if err := rec.Record(r); err != nil {
				return o.result(), fmt.Errorf("metaopt: recorder at iteration %d: %w", r.Iter, err)
			}
		}
	}
	if o.st.Settings.HeldOut > 0 {
		if _, err := o.EvaluateHeldOut(ctx); err != nil {
			return o.result(), err
		}
	}
	return o.result(), nil
}

// Result returns the outcome so far: what Run returns.
func (o *Optimizer) Result() Result { return o.result() }

func (o *Optimizer) result() Result {
	st := o.State()
	r := Result{Iter: st.Iter, Params: st.Params, Best: st.Best, Budget: st.Budget}
	if h := st.LastHeldOut; h != nil && h.Iter == st.Iter {
		r.HeldOut = h
	}
	return r
}

// EvaluateHeldOut evaluates the current Θ on the Settings.HeldOut held-out
// seeds without gradient and records it in the state (LastHeldOut, Best,
// Budget). If the current Θ was already evaluated it returns that
// evaluation without running anything. It is AskHeldOut, the runs, and
// Tell.
func (o *Optimizer) EvaluateHeldOut(ctx context.Context) (HeldOutEval, error) {
	if o.st.Settings.HeldOut == 0 {
		return HeldOutEval{}, errors.New("metaopt: no held-out seeds: set Settings.HeldOut ≥ 1")
	}
	if h := o.st.LastHeldOut; h != nil && h.Iter == o.st.Iter {
		return h.clone(), nil
	}
	b, err := o.AskHeldOut()
	if err != nil {
		return HeldOutEval{}, err
	}
	res, err := o.runBatch(ctx, b.Requests)
	if err != nil {
		return HeldOutEval{}, err
	}
	rec, err := o.Tell(b, res)
	if err != nil {
		return HeldOutEval{}, err
	}
	return rec.HeldOut.clone(), nil
}

// Step performs one iteration; it may be called beyond Settings.Iters,
// which bounds Run only. On error the optimizer's state is unchanged
// (a *DivergedError if too few learners survived, a context error if ctx
// was cancelled, or the objective's error). It is Ask, the runs of the
// batch's requests in parallel, and Tell.
func (o *Optimizer) Step(ctx context.Context) (Record, error) {
	start := time.Now()
	b, err := o.Ask()
	if err != nil {
		return Record{}, err
	}
	res, err := o.runBatch(ctx, b.Requests)
	if err != nil {
		return Record{}, err
	}
	rec, err := o.Tell(b, res)
	if err != nil {
		return Record{}, err
	}
	rec.WallSeconds = time.Since(start).Seconds()
	return rec, nil
}

// runBatch is Evaluate with the optimizer's objective and workers.
func (o *Optimizer) runBatch(ctx context.Context, reqs []Request) ([]Outcome, error) {
	return Evaluate(ctx, o.obj, len(o.st.Params), o.st.Settings.Workers, reqs)
}

// Evaluate runs every request of a batch on obj with up to workers
// goroutines (0 = GOMAXPROCS) and classifies the results (Classify; p is
// the number of parameters). Outcomes are in request order whatever the
// scheduling. A hard error cancels the remaining runs and is returned; so
// is a cancellation of ctx. Step evaluates its batches with it; so may
// another process, on any subset of a batch's requests.
func Evaluate(ctx context.Context, obj Objective, p, workers int, reqs []Request) ([]Outcome, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Outcome, len(reqs))
	errs := make([]error, len(reqs))
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(reqs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= len(reqs) || bctx.Err() != nil {
					return
				}
				req := reqs[k]
				req.Params = slices.Clone(req.Params)
				ev, err := obj.Eval(bctx, req)
				out[k], errs[k] = Classify(req, p, ev, err)
				if errs[k] != nil {
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	iter := 0
	if len(reqs) > 0 {
		iter = reqs[0].Iter
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("metaopt: iteration %d stopped, Θ unchanged: %w", iter, context.Cause(ctx))
	}
	// Report the first genuine failure, not the cancellations it caused.
	var first error
	var firstReq Request
	for k, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first, firstReq = err, reqs[k]
		}
	}
	if first != nil {
		what := "learner"
		if firstReq.HeldOut {
			what = "held-out learner"
		}
		return nil, fmt.Errorf("metaopt: iteration %d: %s seed %d: %w", iter, what, firstReq.Seed, first)
	}
	return out, nil
}

// moments returns the mean, sample standard deviation and standard error.
func moments(xs []float64) (mean, std, se float64) {
	n := float64(len(xs))
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if len(xs) < 2 {
		return mean, 0, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	std = math.Sqrt(ss / (n - 1))
	return mean, std, std / math.Sqrt(n)
}

func (o *Optimizer) heldOutRequests(params []float64) []Request {
	s := o.st.Settings
	reqs := make([]Request, s.HeldOut)
	for j := range reqs {
		reqs[j] = Request{Params: params, Seed: s.HeldOutSeed(j), Iter: o.st.Iter, HeldOut: true}
	}
	return reqs
}

// absorbHeldOut summarizes a held-out batch into st (budget, last, best).
func (st *State) absorbHeldOut(reqs []Request, res []Outcome) (HeldOutEval, error) {
	h := HeldOutEval{Iter: st.Iter, Runs: len(reqs)}
	var js []float64
	for j, r := range res {
		h.Cost += r.Eval.Cost
		if r.Diverged != "" {
			h.Diverged = append(h.Diverged, Divergence{Index: j, Seed: reqs[j].Seed, Reason: r.Diverged})
			continue
		}
		js = append(js, r.Eval.J)
	}
	h.Valid = len(js)
	if need := st.Settings.minValid(len(reqs)); h.Valid < need {
		return h, &DivergedError{Iter: st.Iter, What: "held-out learners", Total: len(reqs), Valid: h.Valid, MinValid: need, Diverged: h.Diverged}
	}
	h.J, h.JStd, h.JSE = moments(js)
	st.Budget.HeldOutRuns += int64(h.Runs)
	st.Budget.HeldOutCost += h.Cost
	st.LastHeldOut = &h
	if st.Best == nil || h.J > st.Best.J {
		st.Best = &Best{Iter: st.Iter, J: h.J, Params: slices.Clone(st.Params)}
	}
	return h.clone(), nil
}
