package tasks_test

import (
	"fmt"
	"math"
	"testing"

	"rulescape/core/tasks"
)

// The tests in this file check every task's inputs, targets and mask against
// the epochs its documentation states, written out here as literal step
// numbers (the defaults, 1 ms steps) and filled by plain loops.

// expect is an expected trial built independently of the task code.
type expect struct {
	T, M, O int
	U, Y, K []float64 // inputs T×M, targets T×O, mask T
}

func newExpect(T, M, O int) *expect {
	return &expect{T: T, M: M, O: O, U: make([]float64, T*M), Y: make([]float64, T*O), K: make([]float64, T)}
}

// in sets input channel ch on steps from…to inclusive.
func (e *expect) in(ch, from, to int, v float64) {
	for t := from; t <= to; t++ {
		e.U[t*e.M+ch] = v
	}
}

// out sets target channel ch and the mask for outputs y^from … y^to
// (inclusive, 1-based as in the docs: y^t is row t−1).
func (e *expect) out(ch, from, to int, v float64) {
	for t := from; t <= to; t++ {
		e.Y[(t-1)*e.O+ch] = v
		e.K[t-1] = 1
	}
}

func (e *expect) check(t *testing.T, what string, tr *tasks.Trial) {
	t.Helper()
	if tr.T != e.T || tr.M != e.M || tr.O != e.O {
		t.Fatalf("%s: trial is T=%d M=%d O=%d, want %d %d %d", what, tr.T, tr.M, tr.O, e.T, e.M, e.O)
	}
	report := func(name string, got, want []float64, width int) {
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("%s: %s at step %d channel %d = %v, want %v", what, name, k/width, k%width, got[k], want[k])
				return
			}
		}
	}
	report("input u", tr.U, e.U, e.M)
	report("target (row t−1 = y*^t)", tr.Target, e.Y, e.O)
	report("mask (entry t−1 = m^t)", tr.Mask, e.K, 1)
}

// at reads input channel ch at step t.
func at(tr *tasks.Trial, t, ch int) float64 { return tr.U[t*tr.M+ch] }

func TestDNMSEpochs(t *testing.T) {
	task := tasks.NewDNMS()
	for c, name := range []string{"AA", "AB", "BA", "BB"} {
		tr := task.Trial(c, nil)
		first, second := c/2, c%2
		e := newExpect(1000, 2, 1)
		e.in(first, 0, 199, 1)
		e.in(second, 400, 599, 1)
		target := -0.98
		if first != second {
			target = 0.98
		}
		e.out(0, 801, 1000, target)
		e.check(t, name, &tr)
		// Spot checks at the documented boundaries.
		if at(&tr, 199, first) != 1 || at(&tr, 200, first) != 0 || at(&tr, 399, second) != 0 || at(&tr, 599, second) != 1 ||
			at(&tr, 600, second) != 0 || tr.Mask[799] != 0 || tr.Mask[800] != 1 || tr.Target[999] != target {
			t.Errorf("%s: boundary values wrong", name)
		}
	}
}

func TestCDIEpochs(t *testing.T) {
	task := mustConfigure(t, "cdi", `{"noise_sd": 0}`)
	for c, name := range []string{"ctx1+", "ctx1-", "ctx2+", "ctx2-"} {
		for seed := uint64(0); seed < 4; seed++ {
			tr := task.Trial(c, rng(seed))
			ctx := c / 2
			rel := 0.1
			if c%2 == 1 {
				rel = -0.1
			}
			// The irrelevant modality's sign is drawn per trial: read it back
			// and check it is ±Bias, constant over the stimulus.
			irr := at(&tr, 1, 1-ctx)
			if irr != 0.1 && irr != -0.1 {
				t.Fatalf("%s: irrelevant modality = %v, want ±0.1", name, irr)
			}
			e := newExpect(700, 4, 1)
			e.in(2+ctx, 0, 699, 1)
			e.in(ctx, 1, 500, rel)
			e.in(1-ctx, 1, 500, irr)
			e.out(0, 501, 700, math.Copysign(1, rel))
			e.check(t, fmt.Sprintf("%s seed %d", name, seed), &tr)
		}
	}
	// The irrelevant sign takes both values, about equally often.
	pos := 0
	for seed := uint64(0); seed < 400; seed++ {
		tr := task.Trial(0, rng(seed))
		if at(&tr, 1, 1) > 0 {
			pos++
		}
	}
	if pos < 160 || pos > 240 { // ±4 SD of Binomial(400, ½)
		t.Errorf("irrelevant modality positive in %d of 400 trials", pos)
	}
}

// noiseStats returns the mean and SD of input channel ch over steps [from, to).
func noiseStats(trs []tasks.Trial, ch, from, to int) (mean, sd float64) {
	var s, ss, n float64
	for i := range trs {
		for t := from; t < to; t++ {
			v := at(&trs[i], t, ch)
			s += v
			ss += v * v
			n++
		}
	}
	mean = s / n
	return mean, math.Sqrt(ss/n - mean*mean)
}

func TestCDINoise(t *testing.T) {
	task := tasks.NewCDI()
	var trs []tasks.Trial
	for seed := uint64(0); seed < 20; seed++ {
		trs = append(trs, task.Trial(0, rng(seed))) // ctx1+: modality 1 has mean +0.1
	}
	// 20 trials × 500 steps = 10⁴ draws: SE of the mean 0.005, of the SD ≈ 0.0035.
	mean, sd := noiseStats(trs, 0, 1, 501)
	if math.Abs(mean-0.1) > 0.02 || math.Abs(sd-0.5) > 0.015 {
		t.Errorf("modality 1: mean %.4f SD %.4f, want 0.1 and 0.5", mean, sd)
	}
	for i := range trs {
		if at(&trs[i], 0, 0) != 0 || at(&trs[i], 501, 0) != 0 || at(&trs[i], 699, 1) != 0 {
			t.Fatal("modality input outside the stimulus epoch")
		}
	}
}

func TestPerceptualEpochs(t *testing.T) {
	task := mustConfigure(t, "perceptual", `{"noise_sd": 0}`)
	cohs := []float64{0.032, 0.064, 0.128, 0.256, 0.512}
	for c, name := range task.Spec().Conditions {
		tr := task.Trial(c, rng(1))
		coh, s := cohs[c/2], 1.0
		if c%2 == 1 {
			s = -1
		}
		if want := fmt.Sprintf("%+g", s*coh); name != want {
			t.Errorf("condition %d named %q, want %q", c, name, want)
		}
		e := newExpect(1200, 2, 1)
		e.in(0, 100, 899, (1+s*coh)/2)
		e.in(1, 100, 899, (1-s*coh)/2)
		e.out(0, 1001, 1200, s)
		e.check(t, name, &tr)
	}
	// With noise: unit-SD Gaussian around the same means, nothing outside.
	noisy := tasks.NewPerceptual()
	var trs []tasks.Trial
	for seed := uint64(0); seed < 12; seed++ {
		trs = append(trs, noisy.Trial(9, rng(seed))) // −0.512
	}
	mean, sd := noiseStats(trs, 1, 100, 900)
	if math.Abs(mean-0.756) > 0.05 || math.Abs(sd-1) > 0.03 {
		t.Errorf("channel 1 at −0.512: mean %.4f SD %.4f, want 0.756 and 1", mean, sd)
	}
	if at(&trs[0], 99, 0) != 0 || at(&trs[0], 900, 1) != 0 {
		t.Error("evidence outside the stimulus epoch")
	}
}

func TestGoNoGoEpochs(t *testing.T) {
	task := tasks.NewGoNoGo()
	for c, name := range []string{"go", "nogo"} {
		tr := task.Trial(c, nil)
		e := newExpect(700, 2, 1)
		e.in(c, 100, 299, 1)
		target := 1.0
		if c == 1 {
			target = 0
		}
		e.out(0, 501, 700, target)
		e.check(t, name, &tr)
	}
	go_, nogo := task.Trial(0, nil), task.Trial(1, nil)
	for _, tc := range []struct {
		tr   *tasks.Trial
		y    float64
		want bool
	}{{&go_, 0.6, true}, {&go_, 0.4, false}, {&go_, -1, false}, {&nogo, 0.4, true}, {&nogo, -1, true}, {&nogo, 0.6, false}} {
		y := make([]float64, 700)
		for i := range y {
			y[i] = tc.y
		}
		if got := task.Correct(tc.tr, y); got != tc.want {
			t.Errorf("condition %d, constant output %v: Correct = %v", tc.tr.Condition, tc.y, got)
		}
	}
}

func TestRomoEpochs(t *testing.T) {
	task := tasks.NewRomo()
	pairs := [][2]float64{{18, 10}, {22, 14}, {26, 18}, {30, 22}, {34, 26}, {10, 18}, {14, 22}, {18, 26}, {22, 30}, {26, 34}}
	for c, name := range task.Spec().Conditions {
		f1, f2 := pairs[c][0], pairs[c][1]
		tr := task.Trial(c, rng(1))
		e := newExpect(4300, 2, 1)
		e.in(0, 100, 599, (f1-10)/24)
		e.in(1, 100, 599, (34-f1)/24)
		e.in(0, 3600, 4099, (f2-10)/24)
		e.in(1, 3600, 4099, (34-f2)/24)
		target := 1.0
		if f1 < f2 {
			target = -1
		}
		e.out(0, 4101, 4300, target)
		e.check(t, name, &tr)
	}
	if got := task.Spec().Conditions[0]; got != "18>10" {
		t.Errorf("condition 0 named %q", got)
	}
	fps := task.FixedPointInputs()
	if len(fps) != 8 || fps[1].Name != "f=10" || fps[7].Name != "f=34" || fps[7].U[0] != 1 || fps[7].U[1] != 0 {
		t.Errorf("fixed-point inputs %v", fps)
	}
}

func TestRSGEpochs(t *testing.T) {
	task := tasks.NewRSG()
	for c, ts := range []int{480, 560, 640, 720, 800} {
		tr := task.Trial(c, nil)
		e := newExpect(1800, 2, 1)
		e.in(0, 100, 119, 1)
		e.in(1, 100+ts, 119+ts, 1)
		for t := 101; t <= 1800; t++ {
			e.K[t-1] = 1
		}
		set := 100 + ts
		for tau := 1; set+tau <= 1800; tau++ {
			e.Y[set+tau-1] = math.Min(1, 0.5*float64(tau)/float64(ts))
		}
		e.check(t, fmt.Sprintf("ts=%d", ts), &tr)
		// The ramp crosses the threshold exactly ts steps after Set.
		if tr.Target[set+ts-1] != 0.5 || tr.Target[set+ts-2] >= 0.5 || tr.Target[set-1] != 0 {
			t.Errorf("ts=%d: ramp does not reach 0.5 at y^{s+ts}", ts)
		}
	}
	// Correct: produced interval within 15% of ts and no premature Go.
	tr := task.Trial(0, nil) // ts = 480, Set onset 580
	shifted := func(d int) []float64 {
		y := make([]float64, 1800)
		for i := range y {
			if j := i - d; j >= 0 && j < 1800 {
				y[i] = tr.Target[j]
			}
		}
		return y
	}
	for _, tc := range []struct {
		shift int
		tp    int
		want  bool
	}{{0, 480, true}, {70, 550, true}, {-70, 410, true}, {80, 560, false}, {-80, 400, false}} {
		y := shifted(tc.shift)
		tp, ok, pre := task.Produced(&tr, y)
		if !ok || pre || tp != tc.tp || task.Correct(&tr, y) != tc.want {
			t.Errorf("shift %d: Produced = %d, %v, %v; Correct = %v; want tp %d, correct %v", tc.shift, tp, ok, pre, task.Correct(&tr, y), tc.tp, tc.want)
		}
	}
	y := shifted(0)
	y[300] = 0.6 // a premature Go between Ready and Set
	if _, _, pre := task.Produced(&tr, y); !pre || task.Correct(&tr, y) {
		t.Error("premature Go not detected")
	}
	if _, ok, _ := task.Produced(&tr, make([]float64, 1800)); ok {
		t.Error("a silent output produced an interval")
	}
}
