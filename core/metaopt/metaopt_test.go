package metaopt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"rulescape/core/plasticity"
)

// quadratic is J_s(Θ) = −‖Θ−Θ*‖² + jNoise·n₀(s) with gradient
// −2(Θ−Θ*) + gNoise·n(s): its maximum is Θ* whatever the seed.
type quadratic struct {
	opt            []float64
	jNoise, gNoise float64
}

func (q quadratic) Eval(_ context.Context, req Request) (Eval, error) {
	rng := rand.New(rand.NewPCG(req.Seed, 7))
	var j float64
	for i, x := range req.Params {
		j -= (x - q.opt[i]) * (x - q.opt[i])
	}
	ev := Eval{J: j + q.jNoise*rng.NormFloat64(), Cost: 1}
	if req.WantGrad {
		ev.Grad = make([]float64, len(req.Params))
		for i, x := range req.Params {
			ev.Grad[i] = -2*(x-q.opt[i]) + q.gNoise*rng.NormFloat64()
		}
		ev.Cost += float64(len(req.Params))
	}
	return ev, nil
}

func (q quadratic) exact(p []float64) float64 {
	var j float64
	for i, x := range p {
		j -= (x - q.opt[i]) * (x - q.opt[i])
	}
	return j
}

var target = []float64{1, -0.5, 0.25, 2}

func mustNew(t testing.TB, obj Objective, init []float64, s Settings) *Optimizer {
	t.Helper()
	o, err := New(obj, init, s)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func dist(a, b []float64) float64 {
	var ss float64
	for i := range a {
		ss += (a[i] - b[i]) * (a[i] - b[i])
	}
	return math.Sqrt(ss)
}

// TestMethodsOnNoisyQuadratic runs every method for the same number of
// learner-runs and checks it approaches the known maximum.
func TestMethodsOnNoisyQuadratic(t *testing.T) {
	obj := quadratic{opt: target, jNoise: 0.3, gNoise: 0.5}
	start := make([]float64, len(target))
	j0 := obj.exact(start) // −5.3125
	cases := []struct {
		name    string
		s       Settings
		maxDist float64 // ‖Θ_final − Θ*‖ bound
	}{
		{"adam", Settings{Method: MethodAdam, Learners: 8, LR: 0.05, Iters: 300}, 0.2},
		{"es", Settings{Method: MethodES, Learners: 4, LR: 0.05, Iters: 300, ES: ESSettings{Pairs: 4, Sigma: 0.1}}, 0.3},
		{"es-plain", Settings{Method: MethodES, Learners: 4, LR: 0.05, Iters: 300, ES: ESSettings{Pairs: 4, Sigma: 0.1, Shaping: ShapingPlain}}, 0.3},
		{"cmaes", Settings{Method: MethodCMAES, Learners: 1, Iters: 300, CMA: CMASettings{Population: 8, Sigma: 0.5}}, 0.1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.s.Seed, c.s.HeldOut, c.s.EvalEvery = 3, 4, 100
			o := mustNew(t, obj, start, c.s)
			var h History
			res, err := o.Run(context.Background(), &h)
			if err != nil {
				t.Fatal(err)
			}
			if res.Budget.Runs != 2400 {
				t.Errorf("budget: %d learner-runs, want 2400 (same budget for every method)", res.Budget.Runs)
			}
			if d := dist(res.Params, target); !(d < c.maxDist) {
				t.Errorf("‖Θ−Θ*‖ = %.3g, want < %g (Θ = %.3f)", d, c.maxDist, res.Params)
			}
			if j := obj.exact(res.Params); !(j > 0.02*j0) {
				t.Errorf("J(Θ_final) = %.3g, want > %.3g (started at %.3g)", j, 0.02*j0, j0)
			}
			if len(h.Records) != 300 {
				t.Fatalf("%d records, want 300", len(h.Records))
			}
			for _, i := range []int{0, 100, 200} {
				if h.Records[i].HeldOut == nil || h.Records[i].HeldOut.Iter != i {
					t.Errorf("record %d: held-out evaluation missing or mislabelled: %+v", i, h.Records[i].HeldOut)
				}
			}
			if h.Records[1].HeldOut != nil {
				t.Errorf("record 1: unexpected held-out evaluation")
			}
			if res.HeldOut == nil || res.HeldOut.Iter != 300 || res.HeldOut.Runs != 4 {
				t.Fatalf("final held-out evaluation = %+v, want one at iteration 300 on 4 seeds", res.HeldOut)
			}
			if res.Budget.HeldOutRuns != 16 {
				t.Errorf("held-out runs = %d, want 4 evaluations × 4 seeds", res.Budget.HeldOutRuns)
			}
			if res.Best == nil || res.Best.J < res.HeldOut.J || res.Best.J < h.Records[0].HeldOut.J {
				t.Errorf("best = %+v is not the best held-out evaluation", res.Best)
			}
		})
	}
}

// TestAdamFirstStep checks one Adam step against its closed form: with zero
// moments, m̂ = g and v̂ = g², so Θ₁ = Θ₀ + α g/(|g|+ε) per coordinate.
func TestAdamFirstStep(t *testing.T) {
	g := []float64{3, -0.25, 0, 1e-3}
	obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
		return Eval{J: 1, Grad: slices.Clone(g)}, nil
	})
	s := Settings{Learners: 3, LR: 0.1, Eps: 1e-3, ClipNorm: 1}
	o := mustNew(t, obj, []float64{1, 2, 3, 4}, s)
	rec, err := o.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := math.Sqrt(9 + 0.0625 + 1e-6)
	if math.Abs(rec.GradNorm-n) > 1e-12 || !rec.Clipped {
		t.Errorf("grad norm = %v clipped = %v, want %v, true", rec.GradNorm, rec.Clipped, n)
	}
	for i, x := range o.Params() {
		gc := g[i] / n // clipped to norm 1
		want := []float64{1, 2, 3, 4}[i] + 0.1*gc/(math.Abs(gc)+1e-3)
		if math.Abs(x-want) > 1e-14 {
			t.Errorf("Θ₁[%d] = %v, want %v", i, x, want)
		}
	}
}

// TestESEstimatesLinearGradient: on J = c·Θ with plain fitness the antithetic
// estimate (1/V) Σ (c·ε)ε has mean c and standard error ≈ ‖c‖/√V per entry.
func TestESEstimatesLinearGradient(t *testing.T) {
	c := []float64{1, -2, 0.5}
	obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
		var j float64
		for i, x := range req.Params {
			j += c[i] * x
		}
		return Eval{J: j}, nil
	})
	s := Settings{Method: MethodES, Learners: 2, ES: ESSettings{Pairs: 4000, Sigma: 0.3, Shaping: ShapingPlain}}
	rec, err := mustNew(t, obj, []float64{0.1, 0.2, 0.3}, s).Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tol := 4 * norm(c) / math.Sqrt(4000)
	for i := range c {
		if math.Abs(rec.Grad[i]-c[i]) > tol {
			t.Errorf("ES gradient[%d] = %.4f, want %.4f ± %.3f", i, rec.Grad[i], c[i], tol)
		}
	}
	if rec.Runs != 8000 {
		t.Errorf("runs = %d, want 2 × 4000", rec.Runs)
	}
}

func TestCenteredRanks(t *testing.T) {
	got := centeredRanks([]float64{3, -1, 10, 3, 0})
	want := []float64{0, -0.5, 0.5, 0.25, -0.25}
	if !slices.Equal(got, want) {
		t.Errorf("centeredRanks = %v, want %v", got, want)
	}
}

func stripWall(rs []Record) []Record {
	out := slices.Clone(rs)
	for i := range out {
		out[i].WallSeconds = 0
	}
	return out
}

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestResumeIsExact runs 10 iterations straight, and 4 + JSON round trip + 6
// in a fresh optimizer, for every method and with parallel workers: the
// records and the final state must be bit-identical, and must not depend on
// the number of workers.
func TestResumeIsExact(t *testing.T) {
	obj := quadratic{opt: target, jNoise: 0.3, gNoise: 0.5}
	start := []float64{0.3, 0.1, -0.2, 0.5}
	for _, m := range []Method{MethodAdam, MethodES, MethodCMAES} {
		var reference string
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", m, workers), func(t *testing.T) {
				s := Settings{Method: m, Iters: 10, Learners: 5, Workers: workers, Seed: 42, LR: 0.05,
					HeldOut: 2, EvalEvery: 3, ES: ESSettings{Pairs: 3}, CMA: CMASettings{Population: 6}}
				straight := mustNew(t, obj, start, s)
				var h1 History
				if _, err := straight.Run(context.Background(), &h1); err != nil {
					t.Fatal(err)
				}

				first := mustNew(t, obj, start, s)
				var h2 History
				for range 4 {
					r, err := first.Step(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					h2.Records = append(h2.Records, r)
				}
				var st State
				if err := json.Unmarshal([]byte(mustJSON(t, first.State())), &st); err != nil {
					t.Fatal(err)
				}
				resumed, err := Restore(obj, st)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := resumed.Run(context.Background(), &h2); err != nil {
					t.Fatal(err)
				}
				a, b := mustJSON(t, stripWall(h1.Records)), mustJSON(t, stripWall(h2.Records))
				if a != b {
					t.Errorf("records differ after resume:\nstraight %s\nresumed  %s", a, b)
				}
				sa, sb := mustJSON(t, straight.State()), mustJSON(t, resumed.State())
				if sa != sb {
					t.Errorf("final states differ:\nstraight %s\nresumed  %s", sa, sb)
				}
				if !slices.Equal(straight.Params(), resumed.Params()) {
					t.Errorf("params differ: %v vs %v", straight.Params(), resumed.Params())
				}
				if reference == "" {
					reference = a
				} else if a != reference {
					t.Errorf("records depend on the number of workers")
				}
			})
		}
	}
}

// flaky diverges, in one of several ways, for the seeds in bad.
type flaky struct {
	quadratic
	bad  map[uint64]bool
	mode string
}

func (f flaky) Eval(ctx context.Context, req Request) (Eval, error) {
	ev, _ := f.quadratic.Eval(ctx, req)
	if !f.bad[req.Seed] {
		return ev, nil
	}
	switch f.mode {
	case "error":
		return Eval{Cost: 0.5}, fmt.Errorf("learner seed %d: %w", req.Seed, &plasticity.DivergenceError{Trial: 7, Reason: "max |W_ij| = 1e9"})
	case "sentinel":
		return Eval{}, ErrDiverged
	case "nan-j":
		ev.J = math.NaN()
	case "inf-j":
		ev.J = math.Inf(-1)
	case "nan-grad":
		if ev.Grad != nil {
			ev.Grad[1] = math.NaN()
		}
	}
	return ev, nil
}

func TestDivergedLearners(t *testing.T) {
	cases := []struct {
		mode   string
		method Method
		bad    []int // learner (Adam) or pair (ES) indices that diverge
		fail   bool
	}{
		{"error", MethodAdam, []int{1, 5}, false},
		{"sentinel", MethodAdam, []int{0}, false},
		{"nan-j", MethodAdam, []int{2, 3}, false},
		{"inf-j", MethodAdam, []int{7}, false},
		{"nan-grad", MethodAdam, []int{4}, false},
		{"error", MethodAdam, []int{0, 1, 2, 3, 4}, true},
		{"nan-j", MethodAdam, []int{0, 1, 2, 3, 4, 5, 6, 7}, true},
		{"error", MethodES, []int{1}, false},
		{"nan-j", MethodES, []int{0, 2, 3}, false},
		{"error", MethodES, []int{0, 1, 2, 3, 4}, true},
		{"error", MethodCMAES, []int{0}, true}, // every candidate runs seed 0
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s/%v", c.method, c.mode, c.bad), func(t *testing.T) {
			s := Settings{Method: c.method, Learners: 8, Seed: 9, Workers: 3, LR: 0.05}.withDefaults()
			obj := flaky{quadratic: quadratic{opt: target, jNoise: 0.3, gNoise: 0.5}, bad: map[uint64]bool{}, mode: c.mode}
			for i := range 3 {
				for _, k := range c.bad {
					obj.bad[s.LearnerSeed(i, k)] = true
				}
			}
			o := mustNew(t, obj, []float64{0, 0, 0, 0}, s)
			for i := range 3 {
				before := mustJSON(t, o.State())
				rec, err := o.Step(context.Background())
				if c.fail {
					var de *DivergedError
					if !errors.Is(err, ErrTooManyDiverged) || !errors.As(err, &de) {
						t.Fatalf("iteration %d: error = %v, want a *DivergedError", i, err)
					}
					if !strings.Contains(err.Error(), fmt.Sprint(s.LearnerSeed(i, c.bad[0]))) || !strings.Contains(err.Error(), "Θ is unchanged") {
						t.Errorf("message does not name the diverged seed or say Θ is unchanged: %v", err)
					}
					if after := mustJSON(t, o.State()); after != before {
						t.Errorf("state changed by a failed iteration:\nbefore %s\nafter  %s", before, after)
					}
					return
				}
				if err != nil {
					t.Fatalf("iteration %d: %v", i, err)
				}
				var got []uint64
				for _, d := range rec.Diverged {
					got = append(got, d.Seed)
					if d.Reason == "" {
						t.Errorf("divergence of seed %d has no reason", d.Seed)
					}
				}
				var want []uint64
				for _, k := range c.bad {
					want = append(want, s.LearnerSeed(i, k))
				}
				if !slices.Equal(got, want) {
					t.Errorf("iteration %d: diverged seeds %v, want %v", i, got, want)
				}
				total := s.Learners
				if c.method == MethodES {
					total = s.ES.Pairs
				}
				if rec.Valid != total-len(c.bad) || rec.Runs != map[Method]int{MethodAdam: 8, MethodES: 16}[c.method] {
					t.Errorf("valid = %d runs = %d", rec.Valid, rec.Runs)
				}
				if !allFinite(o.Params()) || !allFinite(rec.Grad) || math.IsNaN(rec.J) {
					t.Fatalf("NaN leaked: Θ = %v, grad = %v, J = %v", o.Params(), rec.Grad, rec.J)
				}
				if c.method == MethodAdam { // the mean J is over the survivors only
					var js []float64
					for k := range s.Learners {
						if !slices.Contains(c.bad, k) {
							ev, _ := obj.quadratic.Eval(context.Background(), Request{Params: rec.Params, Seed: s.LearnerSeed(i, k)})
							js = append(js, ev.J)
						}
					}
					if m, _, _ := moments(js); math.Abs(m-rec.J) > 1e-12 {
						t.Errorf("J = %v, want the survivors' mean %v", rec.J, m)
					}
				}
			}
		})
	}
}

func TestHardErrorStopsRun(t *testing.T) {
	boom := errors.New("cannot read the task file")
	s := Settings{Learners: 6, Workers: 2, Seed: 1}
	bad := s.LearnerSeed(0, 4)
	obj := ObjectiveFunc(func(ctx context.Context, req Request) (Eval, error) {
		if req.Seed == bad {
			return Eval{}, boom
		}
		return quadratic{opt: target}.Eval(ctx, req)
	})
	o := mustNew(t, obj, []float64{0, 0, 0, 0}, s)
	before := mustJSON(t, o.State())
	res, err := o.Run(context.Background(), nil)
	if !errors.Is(err, boom) || errors.Is(err, ErrTooManyDiverged) {
		t.Fatalf("error = %v, want the objective's error", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprint(bad)) {
		t.Errorf("error does not name seed %d: %v", bad, err)
	}
	if after := mustJSON(t, o.State()); after != before || res.Iter != 0 {
		t.Errorf("state changed by a failed iteration")
	}
}

func TestBadGradientLength(t *testing.T) {
	obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
		return Eval{J: 0, Grad: []float64{1}}, nil
	})
	_, err := mustNew(t, obj, []float64{0, 0}, Settings{Learners: 2}).Step(context.Background())
	if err == nil || !strings.Contains(err.Error(), "gradient of length 1, want P = 2") {
		t.Errorf("error = %v, want a gradient length error", err)
	}
}

// TestCancel cancels the context while learners are running; Step must
// return the cancellation and leave the state alone.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	obj := ObjectiveFunc(func(ctx context.Context, req Request) (Eval, error) {
		once.Do(cancel)
		<-ctx.Done()
		return Eval{}, fmt.Errorf("learner stopped: %w", ctx.Err())
	})
	o := mustNew(t, obj, []float64{0, 0}, Settings{Learners: 64, Workers: 2})
	before := mustJSON(t, o.State())
	_, err := o.Run(ctx, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if mustJSON(t, o.State()) != before {
		t.Errorf("state changed by a cancelled iteration")
	}
}

func TestSeedScheme(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		var mu sync.Mutex
		seeds := map[int][]uint64{}
		est := map[int][]uint64{}
		var held []uint64
		obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
			mu.Lock()
			defer mu.Unlock()
			if req.HeldOut {
				held = append(held, req.Seed)
			} else {
				seeds[req.Iter] = append(seeds[req.Iter], req.Seed)
				est[req.Iter] = append(est[req.Iter], req.EstimatorSeed)
			}
			return Eval{J: -req.Params[0] * req.Params[0], Grad: []float64{-2 * req.Params[0]}}, nil
		})
		s := Settings{Learners: 4, Iters: 3, FixedSeeds: fixed, HeldOut: 3, Seed: 5}
		if _, err := mustNew(t, obj, []float64{1}, s).Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			slices.Sort(seeds[i])
			slices.Sort(est[i])
			if len(slices.Compact(slices.Clone(seeds[i]))) != 4 {
				t.Errorf("fixed=%v iteration %d: learner seeds %v are not 4 distinct seeds", fixed, i, seeds[i])
			}
			for _, h := range held {
				if slices.Contains(seeds[i], h) {
					t.Errorf("held-out seed %d is also a training seed", h)
				}
			}
		}
		same := slices.Equal(seeds[0], seeds[1]) && slices.Equal(seeds[1], seeds[2])
		if same != fixed {
			t.Errorf("fixed=%v: seeds identical across iterations = %v", fixed, same)
		}
		if slices.Equal(est[0], est[1]) {
			t.Errorf("fixed=%v: estimator seeds repeat across iterations", fixed)
		}
	}
}

// TestFixedSeedsDeterministicObjective: with fixed seeds, the training J of
// two iterations at the same Θ is the same number.
func TestFixedSeedsDeterministicObjective(t *testing.T) {
	obj := quadratic{opt: target, jNoise: 1, gNoise: 1}
	for _, fixed := range []bool{false, true} {
		s := Settings{Learners: 4, FixedSeeds: fixed, Seed: 8}
		a, _ := mustNew(t, obj, []float64{0, 0, 0, 0}, s).Step(context.Background())
		o := mustNew(t, obj, []float64{0, 0, 0, 0}, s)
		st := o.State()
		st.Iter = 7 // same Θ, later iteration
		o, err := Restore(obj, st)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := o.Step(context.Background())
		if (a.J == b.J) != fixed {
			t.Errorf("fixed=%v: J at iteration 0 = %v, at iteration 7 = %v", fixed, a.J, b.J)
		}
	}
}

func TestSettingsValidation(t *testing.T) {
	obj := quadratic{opt: target}
	cases := []struct {
		s     Settings
		field string
	}{
		{Settings{Method: "sgd"}, "Method"},
		{Settings{Learners: -1}, "Learners"},
		{Settings{Workers: -2}, "Workers"},
		{Settings{LR: math.NaN()}, "LR"},
		{Settings{LR: -1}, "LR"},
		{Settings{Beta1: 1}, "Beta1"},
		{Settings{Beta2: 1.5}, "Beta2"},
		{Settings{MinValidFraction: 1.2}, "MinValidFraction"},
		{Settings{ClipNorm: -1}, "ClipNorm"},
		{Settings{HeldOut: -1}, "HeldOut"},
		{Settings{EvalEvery: -1}, "EvalEvery"},
		{Settings{ES: ESSettings{Sigma: -0.1}}, "ES.Sigma"},
		{Settings{ES: ESSettings{Shaping: "fancy"}}, "ES.Shaping"},
		{Settings{CMA: CMASettings{Population: 1}}, "CMA.Population"},
	}
	for _, c := range cases {
		_, err := New(obj, []float64{0}, c.s)
		if err == nil || !strings.Contains(err.Error(), c.field+" =") {
			t.Errorf("%+v: error = %v, want one naming %s", c.s, err, c.field)
		}
	}
	if _, err := New(obj, nil, Settings{}); err == nil {
		t.Errorf("empty Θ accepted")
	}
	if _, err := New(obj, []float64{math.NaN()}, Settings{}); err == nil {
		t.Errorf("NaN Θ accepted")
	}
	if _, err := New(nil, []float64{0}, Settings{}); err == nil {
		t.Errorf("nil objective accepted")
	}
}

func TestRestoreValidation(t *testing.T) {
	obj := quadratic{opt: target}
	good := mustNew(t, obj, []float64{1, 2}, Settings{Method: MethodCMAES}).State()
	cases := []struct {
		name   string
		edit   func(*State)
		phrase string
	}{
		{"version", func(s *State) { s.Version = 99 }, "version"},
		{"nan", func(s *State) { s.Params[0] = math.NaN() }, "params"},
		{"moments", func(s *State) { s.AdamM = nil }, "adam_m"},
		{"rng", func(s *State) { s.RNG = []byte("x") }, "rng"},
		{"cma", func(s *State) { s.CMA = nil }, "cma"},
		{"settings", func(s *State) { s.Settings.LR = -1 }, "LR"},
	}
	for _, c := range cases {
		st := good.clone()
		c.edit(&st)
		if _, err := Restore(obj, st); err == nil || !strings.Contains(err.Error(), c.phrase) {
			t.Errorf("%s: error = %v, want one mentioning %q", c.name, err, c.phrase)
		}
	}
	if _, err := Restore(obj, good); err != nil {
		t.Errorf("good state: %v", err)
	}
}

func TestParseEstimator(t *testing.T) {
	cases := []struct {
		in     string
		want   Estimator
		method Method
		errHas string
	}{
		{"exact", Estimator{Kind: EstimatorExact}, MethodAdam, ""},
		{" Projection:4 ", Estimator{Kind: EstimatorProjection, Directions: 4}, MethodAdam, ""},
		{"fd", Estimator{Kind: EstimatorFD}, MethodAdam, ""},
		{"es", Estimator{Kind: EstimatorES}, MethodES, ""},
		{"cmaes", Estimator{Kind: EstimatorCMAES}, MethodCMAES, ""},
		{"projection:0", Estimator{}, "", "must be ≥ 1"},
		{"projection:-3", Estimator{}, "", "must be ≥ 1"},
		{"projection:x", Estimator{}, "", "not an integer"},
		{"projection", Estimator{}, "", "needs a direction count"},
		{"exact:2", Estimator{}, "", "takes no argument"},
		{"foo", Estimator{}, "", "unknown estimator"},
		{"", Estimator{}, "", "unknown estimator"},
	}
	for _, c := range cases {
		got, err := ParseEstimator(c.in)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("ParseEstimator(%q) error = %v, want one containing %q", c.in, err, c.errHas)
			}
			continue
		}
		if err != nil || got != c.want || got.Method() != c.method {
			t.Errorf("ParseEstimator(%q) = %+v, %v; want %+v with method %s", c.in, got, err, c.want, c.method)
			continue
		}
		back, err := ParseEstimator(got.String())
		if err != nil || back != got {
			t.Errorf("round trip of %q through %q gave %+v, %v", c.in, got.String(), back, err)
		}
		var u struct{ E Estimator }
		if err := json.Unmarshal([]byte(`{"E":"`+got.String()+`"}`), &u); err != nil || u.E != got {
			t.Errorf("JSON of %q: %+v, %v", c.in, u.E, err)
		}
	}
}

func BenchmarkStep(b *testing.B) {
	obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
		return Eval{J: 1, Grad: make([]float64, len(req.Params))}, nil
	})
	for _, m := range []Method{MethodAdam, MethodES, MethodCMAES} {
		for _, w := range []int{1, 0} {
			b.Run(fmt.Sprintf("%s/workers=%d", m, w), func(b *testing.B) {
				o := mustNew(b, obj, make([]float64, 17), Settings{Method: m, Learners: 8, Workers: w})
				b.ReportAllocs()
				for b.Loop() {
					if _, err := o.Step(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestCMADivergedCandidatesRankLast: candidates beyond a wall Θ₀ > ½ diverge;
// CMA-ES must treat them as worst, report them, and settle at the wall
// (the unconstrained maximum Θ₀ = 1 lies beyond it) without NaN.
func TestCMADivergedCandidatesRankLast(t *testing.T) {
	q := quadratic{opt: target}
	obj := ObjectiveFunc(func(ctx context.Context, req Request) (Eval, error) {
		if req.Params[0] > 0.5 {
			return Eval{}, &plasticity.DivergenceError{Trial: 3, Reason: "wall"}
		}
		return q.Eval(ctx, req)
	})
	s := Settings{Method: MethodCMAES, Learners: 2, Iters: 150, MinValidFraction: 0.1, CMA: CMASettings{Population: 10, Sigma: 0.3}}
	o := mustNew(t, obj, []float64{0, 0, 0, 0}, s)
	var h History
	res, err := o.Run(context.Background(), &h)
	if err != nil {
		t.Fatal(err)
	}
	var diverged int
	for _, r := range h.Records {
		diverged += len(r.Diverged)
		if r.Valid+len(r.Diverged) != 10 {
			t.Fatalf("iteration %d: %d valid + %d diverged ≠ 10 candidates", r.Iter, r.Valid, len(r.Diverged))
		}
	}
	if diverged == 0 {
		t.Errorf("no candidate crossed the wall: the test does not test anything")
	}
	want := []float64{0.5, target[1], target[2], target[3]}
	if !allFinite(res.Params) || dist(res.Params, want) > 0.05 {
		t.Errorf("Θ = %v, want ≈ %v", res.Params, want)
	}
}

// TestHeldOutOnce: Run evaluates the final Θ once; a second Run or
// EvaluateHeldOut reuses it.
func TestHeldOutOnce(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	obj := ObjectiveFunc(func(ctx context.Context, req Request) (Eval, error) {
		if req.HeldOut {
			mu.Lock()
			calls++
			mu.Unlock()
		}
		return quadratic{opt: target}.Eval(ctx, req)
	})
	o := mustNew(t, obj, []float64{0, 0, 0, 0}, Settings{Iters: 3, Learners: 2, HeldOut: 5})
	for range 2 {
		if _, err := o.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	h, err := o.EvaluateHeldOut(context.Background())
	if err != nil || calls != 5 || h.Iter != 3 || h.Valid != 5 {
		t.Errorf("held-out %+v, %v after %d runs; want one evaluation of 5 seeds at iteration 3", h, err, calls)
	}
	if st := o.State(); st.Budget.HeldOutRuns != 5 || st.Best == nil || st.Best.Iter != 3 {
		t.Errorf("state budget %+v best %+v", st.Budget, st.Best)
	}
}

// TestLearnerClipNorm: each learner's gradient is rescaled to the clip norm
// before averaging, so one exploding learner cannot decide the direction.
func TestLearnerClipNorm(t *testing.T) {
	obj := ObjectiveFunc(func(_ context.Context, req Request) (Eval, error) {
		if req.Seed%2 == 0 {
			return Eval{J: 1, Grad: []float64{1e12, 0}}, nil // an exploding learner
		}
		return Eval{J: 1, Grad: []float64{0, 0.5}}, nil
	})
	s := Settings{Learners: 6, LearnerClipNorm: 1}
	o := mustNew(t, obj, []float64{0, 0}, s)
	rec, err := o.Step(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var even int
	for k := 0; k < 6; k++ {
		if s.withDefaults().LearnerSeed(0, k)%2 == 0 {
			even++
		}
	}
	want := []float64{float64(even) / 6, 0.5 * float64(6-even) / 6}
	if math.Abs(rec.Grad[0]-want[0]) > 1e-12 || math.Abs(rec.Grad[1]-want[1]) > 1e-12 {
		t.Fatalf("averaged gradient %v, want %v (exploding learners clipped to norm 1)", rec.Grad, want)
	}
	if _, err := New(obj, []float64{0, 0}, Settings{LearnerClipNorm: -1}); err == nil {
		t.Fatal("negative LearnerClipNorm accepted")
	}
}
