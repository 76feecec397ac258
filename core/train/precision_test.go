package train

import (
	"context"
	"fmt"
	"math"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/tasks"
)

// quickstartGoNoGo is the quickstart's training setting: go/no-go with
// 150-step trials at N = 30, Miconi's rule with η = 1, clip 0.01, plain
// gain, mse loss, warm-up 20, gate t ≥ 3.
func quickstartGoNoGo(trials int) *Setup {
	task := tasks.NewGoNoGo()
	task.Steps, task.StimStart, task.StimEnd, task.Response = 150, 10, 60, 50
	s := Miconi2017(task, trials)
	s.Init.N = 30
	s.Learner.Eta, s.Learner.Clip, s.Learner.Gain, s.Learner.Loss, s.Learner.WarmupTrials =
		1, 0.01, plasticity.GainPlain, plasticity.LossMSE, 20
	return s
}

// pairedCI returns the mean of d and the half-width of its two-sided 95%
// t-interval, and the standard deviation of d.
func pairedCI(d []float64) (mean, half, sd float64) {
	n := float64(len(d))
	for _, v := range d {
		mean += v
	}
	mean /= n
	for _, v := range d {
		sd += (v - mean) * (v - mean)
	}
	sd = math.Sqrt(sd / (n - 1))
	// t quantile 0.975 for 31 degrees of freedom (32 seeds).
	const t975 = 2.0395
	return mean, t975 * sd / math.Sqrt(n), sd
}

// TestPrecisionCurves compares float32 and float64 training, seed by
// seed (paired: the same seeds give the same initial network up to
// rounding, the same trials and the same perturbations), on the
// quickstart's go/no-go setting over 32 seeds × 800 trials. For each seed
// it takes the mean error over all trials (the area under the learning
// curve), the final error (last 100 trials) and the trials to criterion,
// and it asserts that the paired f32 − f64 difference of the first two has
// a 95% interval inside ±0.1 standard deviations of the seed-to-seed
// spread. A positive control — float64 with η 10% lower — must be detected
// by the same interval (it excludes 0), so the comparison would detect a
// real difference of that size. The figures are logged; docs/PERFORMANCE.md
// records them.
func TestPrecisionCurves(t *testing.T) {
	if testing.Short() {
		t.Skip("precision comparison: 3 × 32 seeds × 800 go/no-go trials at N = 30 (≈ 10 s); run without -short")
	}
	const nSeeds, trials = 32, 800
	seeds := make([]uint64, nSeeds)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	run := func(mut func(*Setup)) []*Result {
		s := quickstartGoNoGo(trials)
		mut(s)
		res, err := RunAll(context.Background(), s, seeds, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	r64 := run(func(*Setup) {})
	r32 := run(func(s *Setup) { s.Precision = F32 })
	rCtl := run(func(s *Setup) { s.Learner.Eta *= 0.9 })

	auc := func(r *Result) float64 { return mean(r.Errors) }
	final := func(r *Result) float64 { return r.FinalError }
	ttc := func(r *Result) float64 { return float64(r.TrialsToCriterion) }
	for _, st := range []struct {
		name   string
		f      func(*Result) float64
		assert bool
	}{{"mean error", auc, true}, {"final error", final, true}, {"trials to criterion", ttc, false}} {
		var base []float64
		d32, dCtl := make([]float64, nSeeds), make([]float64, nSeeds)
		reached := [2]int{}
		for i := range seeds {
			base = append(base, st.f(r64[i]))
			d32[i] = st.f(r32[i]) - st.f(r64[i])
			dCtl[i] = st.f(rCtl[i]) - st.f(r64[i])
			if r64[i].TrialsToCriterion >= 0 {
				reached[0]++
			}
			if r32[i].TrialsToCriterion >= 0 {
				reached[1]++
			}
		}
		m0, _, sd0 := pairedCI(base)
		m, h, sd := pairedCI(d32)
		mc, hc, _ := pairedCI(dCtl)
		t.Logf("%-20s f64 mean %.4g (seed sd %.3g) | f32−f64 %+.3g ± %.3g (sd %.3g) | control (η −10%%) %+.3g ± %.3g",
			st.name, m0, sd0, m, h, sd, mc, hc)
		if st.name == "trials to criterion" {
			t.Logf("reached the criterion: f64 %d of %d seeds, f32 %d of %d", reached[0], nSeeds, reached[1], nSeeds)
		}
		if !st.assert {
			continue
		}
		if math.Abs(m)+h > 0.1*sd0 {
			t.Errorf("%s: f32 − f64 = %+.3g ± %.3g, outside ±0.1 seed sd = %.3g", st.name, m, h, 0.1*sd0)
		}
		if math.Abs(mc) <= hc {
			t.Errorf("%s: the control (η −10%%) gives %+.3g ± %.3g: the comparison cannot detect it", st.name, mc, hc)
		}
	}
	same, maxDiff := 0, 0.0
	for i := range seeds {
		if fmt.Sprint(r32[i].Errors) == fmt.Sprint(r64[i].Errors) {
			same++
		}
		for h, e := range r64[i].Errors {
			maxDiff = max(maxDiff, math.Abs(r32[i].Errors[h]-e))
		}
	}
	t.Logf("largest |E_f32 − E_f64| of one trial over all seeds and trials: %.3g; identical curves: %d of %d", maxDiff, same, nSeeds)
	if same == nSeeds {
		t.Fatal("every f32 curve equals its f64 curve: the f32 path is not in use")
	}
}
