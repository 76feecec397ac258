package train

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/tasks"
)

// smallDNMS is a shortened DNMS on a small network, for fast tests.
func smallDNMS(t *testing.T, trials int) *Setup {
	t.Helper()
	task := tasks.NewDNMS()
	task.Steps, task.Stim1End, task.Stim2Start, task.Stim2End, task.Response = 200, 40, 80, 120, 40
	s := Miconi2017(task, trials)
	s.Init.N = 40
	s.Learner.WarmupTrials = 10
	return s
}

func TestSameSeedIsBitIdentical(t *testing.T) {
	for _, p := range []Precision{F64, F32} {
		t.Run(string(p), func(t *testing.T) { sameSeedIsBitIdentical(t, p) })
	}
}

func sameSeedIsBitIdentical(t *testing.T, p Precision) {
	s := smallDNMS(t, 60)
	s.Precision = p
	seeds := []uint64{3, 4, 5}
	a, err := RunAll(context.Background(), s, seeds, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := RunAll(context.Background(), s, seeds, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range seeds {
		if !slices.Equal(a[i].Errors, b[i].Errors) || !slices.Equal(a[i].Final.W, b[i].Final.W) {
			t.Fatalf("seed %d: results differ between 1 and 3 workers", seeds[i])
		}
	}
	if slices.Equal(a[0].Errors, a[1].Errors) {
		t.Fatal("different seeds gave identical learning curves")
	}
}

// TestRunSeedsReportsRunInSeedOrder checks that RunSeeds reports every
// seed once, in the order given, with exactly the result of Run for that
// seed, whatever the number of workers.
func TestRunSeedsReportsRunInSeedOrder(t *testing.T) {
	s := smallDNMS(t, 30)
	seeds := []uint64{9, 2, 7, 4, 1}
	want := map[uint64]*Result{}
	for _, seed := range seeds {
		r, err := Run(context.Background(), s, seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[seed] = r
	}
	for _, workers := range []int{1, 2, 5, 0} {
		var got []uint64
		err := RunSeeds(context.Background(), s, seeds, workers, nil, func(seed uint64, res *Result, err error) {
			got = append(got, seed)
			if err != nil {
				t.Errorf("workers %d seed %d: %v", workers, seed, err)
				return
			}
			w := want[seed]
			if res.Seed != seed || !slices.Equal(res.Errors, w.Errors) || !slices.Equal(res.Final.W, w.Final.W) ||
				res.TrialsToCriterion != w.TrialsToCriterion {
				t.Errorf("workers %d seed %d: result differs from Run's", workers, seed)
			}
		})
		if err != nil || !slices.Equal(got, seeds) {
			t.Errorf("workers %d: reported %v (err %v), want %v", workers, got, err, seeds)
		}
	}
}

// TestRunSeedsKeepsGoingAfterAFailure checks that a diverging seed is
// reported with its error and partial result, that the others still train,
// and that the returned error names it.
func TestRunSeedsKeepsGoingAfterAFailure(t *testing.T) {
	s := smallDNMS(t, 40)
	s.Learner.Clip, s.Learner.Eta, s.Learner.WarmupTrials, s.Learner.MaxWeight = 0, 1e6, 0, 50
	n := 0
	err := RunSeeds(context.Background(), s, []uint64{1, 2}, 2, nil, func(seed uint64, res *Result, err error) {
		n++
		if !errors.Is(err, plasticity.ErrDiverged) || res == nil {
			t.Errorf("seed %d: err %v, result %v; want a divergence and a partial result", seed, err, res)
		}
	})
	if n != 2 || !errors.Is(err, plasticity.ErrDiverged) {
		t.Errorf("%d reports, error %v", n, err)
	}
	bad := *s
	bad.Trials = 0
	if err := RunSeeds(context.Background(), &bad, []uint64{1}, 1, nil, func(uint64, *Result, error) { t.Error("reported a seed of an invalid setup") }); err == nil {
		t.Error("invalid setup accepted")
	}
}

func TestDivergenceNamesTheTrial(t *testing.T) {
	s := smallDNMS(t, 200)
	s.Learner.Clip = 0
	s.Learner.Eta = 1e6
	s.Learner.WarmupTrials = 0
	s.Learner.MaxWeight = 50
	res, err := Run(context.Background(), s, 1, nil)
	var div *plasticity.DivergenceError
	if !errors.As(err, &div) {
		t.Fatalf("want a DivergenceError, got %v", err)
	}
	if res == nil || res.Trials != div.Trial {
		t.Fatalf("partial result should hold the %d trials before divergence, has %+v", div.Trial, res)
	}
	if !errors.Is(err, plasticity.ErrDiverged) {
		t.Fatal("errors.Is(err, ErrDiverged) should hold")
	}
}

func TestBadSetupIsRejected(t *testing.T) {
	for name, mutate := range map[string]func(*Setup){
		"negative N":    func(s *Setup) { s.Init.N = -3 },
		"zero trials":   func(s *Setup) { s.Trials = 0 },
		"bad gain":      func(s *Setup) { s.Learner.Gain = "huge" },
		"tau below dt":  func(s *Setup) { s.Dyn.Tau = 0.5 },
		"bad scheme":    func(s *Setup) { s.Perturb.Scheme = "pink" },
		"short theta":   func(s *Setup) { s.Rule.Theta = s.Rule.Theta[:3] },
		"bad criterion": func(s *Setup) { s.Criterion.Window = 0 },
		"bad precision": func(s *Setup) { s.Precision = "f16" },
	} {
		s := smallDNMS(t, 10)
		mutate(s)
		if _, err := Run(context.Background(), s, 1, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestMiconi2017Reproduction is the reproduction of Miconi (2017): with his
// settings, DNMS reaches his criterion (95% of the last 100 trials with error
// < 0.5) within 3000 trials for at least 6 of 8 seeds.
func TestMiconi2017Reproduction(t *testing.T) {
	miconi2017Reproduction(t, F64)
}

// TestMiconi2017ReproductionF32 is the same reproduction on the float32
// path.
func TestMiconi2017ReproductionF32(t *testing.T) {
	miconi2017Reproduction(t, F32)
}

func miconi2017Reproduction(t *testing.T, p Precision) {
	if testing.Short() {
		t.Skip("reproduction: 8 seeds of up to 3000 DNMS trials at N = 200; run without -short")
	}
	s := Miconi2017(tasks.NewDNMS(), 3000)
	s.Precision = p
	s.StopAtCriterion = true
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8}
	res, err := RunAll(context.Background(), s, seeds, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var reached []int
	for _, r := range res {
		t.Logf("seed %d: trials to criterion %d", r.Seed, r.TrialsToCriterion)
		if r.TrialsToCriterion > 0 {
			reached = append(reached, r.TrialsToCriterion)
		}
	}
	sort.Ints(reached)
	t.Logf("reached by %d of 8 seeds; sorted: %v", len(reached), reached)
	if len(reached) < 6 {
		t.Fatalf("only %d of 8 seeds reached Miconi's criterion within 3000 trials, want ≥ 6", len(reached))
	}
}

// TestZeroRuleDoesNotLearn is the control: without plasticity the error stays
// where it started and the criterion is never met.
func TestZeroRuleDoesNotLearn(t *testing.T) {
	s := Miconi2017(tasks.NewDNMS(), 250)
	s.Rule, _ = plasticity.Named("zero", 3, 3)
	res, err := RunAll(context.Background(), s, []uint64{1, 2}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.TrialsToCriterion >= 0 {
			t.Fatalf("seed %d met the criterion with no plasticity", r.Seed)
		}
		if !slices.Equal(r.Initial.W, r.Final.W) {
			t.Fatalf("seed %d: W changed under the zero rule", r.Seed)
		}
		first, last := mean(r.Errors[:100]), mean(r.Errors[150:])
		if math.Abs(first-last) > 0.15 || last < 0.5 {
			t.Fatalf("seed %d: error went from %.3f to %.3f without plasticity", r.Seed, first, last)
		}
	}
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestPrecisionF32 checks the float32 path end to end: it starts from the
// float64 initial network rounded to float32, its curve follows the
// float64 one closely over the first trials (the same draws; the
// trajectories then drift apart by rounding, as chaotic ones do), it is a
// float32 computation (its weights are float32 values and differ from
// the float64 run's), and a bad precision is refused naming the values.
func TestPrecisionF32(t *testing.T) {
	s64 := smallDNMS(t, 40)
	s32 := *s64
	s32.Precision = F32
	r64, err := Run(context.Background(), s64, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	r32, err := Run(context.Background(), &s32, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range r64.Initial.W {
		if r32.Initial.W[k] != float64(float32(w)) {
			t.Fatalf("f32 initial W[%d] = %v, want %v rounded to float32", k, r32.Initial.W[k], w)
		}
	}
	for k, w := range r32.Final.W {
		if w != float64(float32(w)) {
			t.Fatalf("f32 final W[%d] = %v is not a float32 value", k, w)
		}
	}
	if slices.Equal(r32.Final.W, r64.Final.W) {
		t.Fatal("f32 and f64 runs ended with the same weights")
	}
	if !slices.Equal(r32.Conditions, r64.Conditions) {
		t.Fatal("f32 and f64 runs drew different conditions from the same seed")
	}
	for h := range 10 {
		if d := math.Abs(r32.Errors[h] - r64.Errors[h]); d > 1e-3*math.Max(1, r64.Errors[h]) {
			t.Fatalf("trial %d: error %v in f32, %v in f64", h, r32.Errors[h], r64.Errors[h])
		}
	}
	if _, err := ParsePrecision("f16"); err == nil || !strings.Contains(err.Error(), "f64 or f32") {
		t.Fatalf("ParsePrecision(f16) = %v, want an error naming f64 and f32", err)
	}
	if !strings.Contains(strings.Join(s32.Describe(), "\n"), "precision=f32") || strings.Contains(strings.Join(s64.Describe(), "\n"), "precision") {
		t.Fatal("Describe should name the precision for f32 only")
	}
}
