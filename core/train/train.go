package train

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Random stream ids; each seed s uses rand.NewPCG(s, id) for one purpose.
const (
	StreamInit      = 0x1001 // W⁰, W_in, W_out
	StreamCondition = 0x1002 // condition of each trial
	StreamState     = 0x1003 // x⁰ of each trial
	StreamPerturb   = 0x1004 // ξ
	StreamTask      = 0x1005 // task trial noise
)

// Criterion is a learning criterion over a sliding window of trials: at least
// Fraction of the last Window trials have an error below Threshold (Miconi
// 2017: 95% of the last 100 trials with error < 0.5).
type Criterion struct {
	Threshold float64
	Window    int
	Fraction  float64
}

// MiconiCriterion is Miconi's criterion.
var MiconiCriterion = Criterion{Threshold: 0.5, Window: 100, Fraction: 0.95}

// Setup is everything a training run needs besides its seed.
type Setup struct {
	Task      tasks.Task
	Init      rnn.InitConfig
	Dyn       rnn.Dynamics
	Perturb   rnn.Perturbation
	Rule      plasticity.Rule
	Learner   plasticity.Config
	X0Range   float64 // x⁰ ~ U[−X0Range, X0Range] (Miconi: 0.1)
	Trials    int     // learning trials per seed
	Criterion Criterion
	// StopAtCriterion ends a seed's run as soon as it meets the criterion
	// (then Trials in the Result is the number actually run).
	StopAtCriterion bool
	// Precision is the arithmetic of the learner: F64 (also "") or F32.
	Precision Precision
}

// Precision names the floating-point type a learner computes in.
type Precision string

// Precisions.
const (
	// F64 trains in float64 (plasticity.Learner): the default.
	F64 Precision = "f64"
	// F32 trains in float32 (plasticity.Learner32): the network's state,
	// eligibility and weights are float32; the initial network is rounded
	// to float32 and results are reported in float64.
	F32 Precision = "f32"
)

// PrecisionNames lists the valid precisions.
func PrecisionNames() []string { return []string{string(F64), string(F32)} }

// ParsePrecision returns the precision named s ("" is F64), or an error
// naming the valid values.
func ParsePrecision(s string) (Precision, error) {
	switch Precision(s) {
	case "", F64:
		return F64, nil
	case F32:
		return F32, nil
	}
	return "", fmt.Errorf("train: precision %q is not known: use f64 or f32", s)
}

// Validate checks the whole setup and names the bad field.
func (s *Setup) Validate() error {
	if s.Task == nil {
		return errors.New("train: no task")
	}
	if err := tasks.Validate(s.Task); err != nil {
		return err
	}
	spec := s.Task.Spec()
	if err := s.Init.Validate(spec.Inputs, spec.Outputs); err != nil {
		return err
	}
	if err := s.Dyn.Validate(); err != nil {
		return err
	}
	if err := s.Perturb.Validate(); err != nil {
		return err
	}
	if err := s.Rule.Validate(); err != nil {
		return err
	}
	if err := s.Learner.Validate(); err != nil {
		return err
	}
	if !(s.X0Range >= 0) {
		return fmt.Errorf("train: x0 range = %v: must be ≥ 0", s.X0Range)
	}
	if s.Trials <= 0 {
		return fmt.Errorf("train: trials = %d: must be ≥ 1", s.Trials)
	}
	if _, err := ParsePrecision(string(s.Precision)); err != nil {
		return err
	}
	if c := s.Criterion; c.Window <= 0 || !(c.Fraction > 0 && c.Fraction <= 1) {
		return fmt.Errorf("train: criterion window = %d, fraction = %v: need window ≥ 1 and fraction in (0, 1]", c.Window, c.Fraction)
	}
	return nil
}

// Result is one seed's training run.
type Result struct {
	Seed              uint64
	Trials            int       // trials completed
	TrialsToCriterion int       // trials needed to meet the criterion; −1 if never
	FinalError        float64   // mean error over the last criterion window
	FinalAccuracy     float64   // fraction correct over the last criterion window
	Errors            []float64 // per-trial error E^h
	Correct           []bool    // per-trial judgement of the task
	Conditions        []int     // per-trial condition
	Wall              time.Duration
	Initial, Final    *rnn.Network // at the start (for F32: rounded to float32) and at the end
	Baseline          []float64    // R̄_c at the end
}

// Progress is called after every trial of a seed with the number done.
type Progress func(seed uint64, done int)

// Run trains one learner from seed. On divergence it returns the partial
// result and an error wrapping *plasticity.DivergenceError.
func Run(ctx context.Context, s *Setup, seed uint64, progress Progress) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	spec := s.Task.Spec()
	net, err := rnn.Init(rand.New(rand.NewPCG(seed, StreamInit)), s.Init, spec.Inputs, spec.Outputs)
	if err != nil {
		return nil, err
	}
	l, err := newLearner(s, net, len(spec.Conditions))
	if err != nil {
		return nil, err
	}
	res := &Result{Seed: seed, TrialsToCriterion: -1, Initial: l.network()}
	condRNG := rand.New(rand.NewPCG(seed, StreamCondition))
	stateRNG := rand.New(rand.NewPCG(seed, StreamState))
	pertRNG := rand.New(rand.NewPCG(seed, StreamPerturb))
	taskRNG := rand.New(rand.NewPCG(seed, StreamTask))

	n := net.N
	x0 := make([]float64, n)
	var xi []float64
	below := 0 // trials in the current window with error < threshold
	win := s.Criterion.Window
	res.Errors = make([]float64, 0, s.Trials)
	for h := 0; h < s.Trials; h++ {
		if h%16 == 0 {
			if err := ctx.Err(); err != nil {
				return res, fmt.Errorf("train seed %d: stopped at trial %d: %w", seed, h, err)
			}
		}
		cond := condRNG.IntN(len(spec.Conditions))
		tr := s.Task.Trial(cond, taskRNG)
		net.InitState(stateRNG, x0, s.X0Range)
		if s.Perturb.Scheme != rnn.None && s.Perturb.Scheme != "" {
			if len(xi) != tr.T*n {
				xi = make([]float64, tr.T*n)
			}
			s.Perturb.Fill(pertRNG, xi, tr.T, n)
		} else {
			xi = nil
		}
		out, err := l.Learn(&tr, x0, xi, nil)
		if err != nil {
			res.finish(l, s, start)
			return res, fmt.Errorf("train %s seed %d: %w", s.Task.Name(), seed, err)
		}
		res.Errors = append(res.Errors, out.Error)
		res.Correct = append(res.Correct, s.Task.Correct(&tr, l.outputs()))
		res.Conditions = append(res.Conditions, cond)
		if out.Error < s.Criterion.Threshold {
			below++
		}
		if h >= win && res.Errors[h-win] < s.Criterion.Threshold {
			below--
		}
		if res.TrialsToCriterion < 0 && h+1 >= win && float64(below) >= s.Criterion.Fraction*float64(win) {
			res.TrialsToCriterion = h + 1
			if s.StopAtCriterion {
				if progress != nil {
					progress(seed, s.Trials) // the rest of this seed's budget is done
				}
				break
			}
		}
		if progress != nil {
			progress(seed, h+1)
		}
	}
	res.finish(l, s, start)
	return res, nil
}

// learner is what Run needs of plasticity.Learner and Learner32.
type learner interface {
	Learn(tr *tasks.Trial, x0, xi, gate []float64) (plasticity.Outcome, error)
	outputs() []float64    // the last trial's outputs (T×O)
	network() *rnn.Network // a float64 copy of the current network
	baselines() []float64  // R̄_c
}

// newLearner returns the learner of the setup's precision for net.
func newLearner(s *Setup, net *rnn.Network, conditions int) (learner, error) {
	if s.Precision == F32 {
		l, err := plasticity.NewLearner32(net, s.Dyn, s.Rule, s.Learner, conditions)
		return learner32{l}, err
	}
	l, err := plasticity.NewLearner(net, s.Dyn, s.Rule, s.Learner, conditions)
	return learner64{l}, err
}

type learner64 struct{ *plasticity.Learner }

func (l learner64) outputs() []float64    { return l.Trace.Y }
func (l learner64) network() *rnn.Network { return l.Net.Clone() }
func (l learner64) baselines() []float64  { return l.Baseline }

type learner32 struct{ *plasticity.Learner32 }

func (l learner32) outputs() []float64    { return l.Y }
func (l learner32) network() *rnn.Network { return l.Net.Float64() }
func (l learner32) baselines() []float64  { return l.Baseline }

func (res *Result) finish(l learner, s *Setup, start time.Time) {
	res.Trials = len(res.Errors)
	res.Final = l.network()
	res.Baseline = append([]float64(nil), l.baselines()...)
	res.Wall = time.Since(start)
	w := min(s.Criterion.Window, res.Trials)
	if w == 0 {
		return
	}
	var e, c float64
	for h := res.Trials - w; h < res.Trials; h++ {
		e += res.Errors[h]
		if res.Correct[h] {
			c++
		}
	}
	res.FinalError = e / float64(w)
	res.FinalAccuracy = c / float64(w)
}

// RunSeeds trains one learner per seed on up to workers goroutines
// (0 = GOMAXPROCS) and calls report (if not nil) for every seed in the order
// of seeds, as soon as that seed and every seed before it are done, with
// the seed's result and error; report runs on the caller's goroutine, one
// call at a time. Results are not kept after report returns, so a long seed
// list needs memory only for the seeds that finished out of order. A seed
// that fails (its partial result is reported) does not stop the others.
// Every seed's result depends on the setup and the seed alone: it is the
// result of Run(ctx, s, seed, progress), whatever workers is.
//
// RunSeeds returns the errors of the failed seeds, joined, or nil; an
// invalid setup is returned before any seed runs (report is not called).
func RunSeeds(ctx context.Context, s *Setup, seeds []uint64, workers int, progress Progress,
	report func(seed uint64, res *Result, err error)) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type outcome struct {
		res *Result
		err error
	}
	done := make([]chan outcome, len(seeds))
	for i := range done {
		done[i] = make(chan outcome, 1)
	}
	next := make(chan int)
	for range min(workers, len(seeds)) {
		go func() {
			for i := range next {
				res, err := Run(ctx, s, seeds[i], progress)
				done[i] <- outcome{res, err}
			}
		}()
	}
	go func() {
		for i := range seeds {
			next <- i
		}
		close(next)
	}()
	var errs []error
	for i, c := range done {
		o := <-c
		done[i] = nil
		if o.err != nil {
			errs = append(errs, o.err)
		}
		if report != nil {
			report(seeds[i], o.res, o.err)
		}
	}
	return errors.Join(errs...)
}

// RunAll is RunSeeds keeping every result, in the order of seeds.
func RunAll(ctx context.Context, s *Setup, seeds []uint64, workers int, progress Progress) ([]*Result, error) {
	results := make([]*Result, 0, len(seeds))
	err := RunSeeds(ctx, s, seeds, workers, progress, func(_ uint64, res *Result, _ error) {
		results = append(results, res)
	})
	if len(results) == 0 && len(seeds) > 0 {
		return nil, err
	}
	return results, err
}
