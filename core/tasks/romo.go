package tasks

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

func init() { Register("romo", func() Task { return NewRomo() }) }

// Romo is delayed vibrotactile frequency comparison (Romo, Brody, Hernández &
// Lemus 1999, Nature 399:470): a base flutter frequency f1, a delay, a
// comparison frequency f2; the output must say whether f1 > f2 (+Target) or
// f1 < f2 (−Target). The frequency must be held in working memory as a
// parametric (graded) value across the delay.
//
// Inputs (M = 2), a positively and a negatively tuned channel as in Song, Yang
// & Wang's (2016) model of the task: while a stimulus of frequency f is on,
// channel 0 is InputAmp·(f − FMin)/(FMax − FMin) and channel 1 is
// InputAmp·(FMax − f)/(FMax − FMin), each plus NoiseSD·N(0,1) drawn from the
// trial's rng at every step (no noise by default); both are 0 otherwise.
//
// Conditions: one per (f1, f2) pair of Pairs, named "f1>f2" or "f1<f2" with the
// frequencies in Hz (e.g. "18>10"). The defaults are the ten pairs of Song et
// al. (2016) spanning Romo's 10–34 Hz range with |f1 − f2| = 8 Hz.
//
// With the defaults (1 ms steps): T = 4300; fixation steps 0–99; f1 on steps
// 100–599 (ms 101–600, 500 ms as in Romo et al.); delay steps 600–3599 (3 s);
// f2 on steps 3600–4099; response period y^4101…y^4300 (the last 200 ms), where
// the target is +Target if f1 > f2 and −Target if f1 < f2 and the mask is 1;
// targets and mask are 0 before.
//
// Correct: the mean response has the sign of the target (SignCorrect).
type Romo struct {
	Steps      int          `json:"steps"`       // trial length T (default 4300)
	Stim1Start int          `json:"stim1_start"` // first step of f1 (default 100)
	Stim1End   int          `json:"stim1_end"`   // one past its last step (default 600)
	Stim2Start int          `json:"stim2_start"` // first step of f2 (default 3600)
	Stim2End   int          `json:"stim2_end"`   // one past its last step (default 4100)
	Response   int          `json:"response"`    // length of the response period at the end of the trial, after f2 (default 200)
	Pairs      [][2]float64 `json:"pairs"`       // (f1, f2) pairs in Hz, f1 ≠ f2 (default Song et al. 2016)
	FMin       float64      `json:"f_min"`       // frequency mapped to channel 0 = 0 (default 10 Hz)
	FMax       float64      `json:"f_max"`       // frequency mapped to channel 0 = InputAmp (default 34 Hz)
	InputAmp   float64      `json:"input_amp"`   // input scale (default 1)
	NoiseSD    float64      `json:"noise_sd"`    // standard deviation of the per-step input noise (default 0)
	Target     float64      `json:"target"`      // target magnitude (default 1)
}

// NewRomo returns the delayed comparison task with Romo et al.'s timing and
// Song et al.'s frequency pairs.
func NewRomo() *Romo {
	return &Romo{Steps: 4300, Stim1Start: 100, Stim1End: 600, Stim2Start: 3600, Stim2End: 4100, Response: 200,
		Pairs: [][2]float64{{18, 10}, {22, 14}, {26, 18}, {30, 22}, {34, 26},
			{10, 18}, {14, 22}, {18, 26}, {22, 30}, {26, 34}},
		FMin: 10, FMax: 34, InputAmp: 1, NoiseSD: 0, Target: 1}
}

// Name implements Task.
func (r *Romo) Name() string { return "romo" }

// Spec implements Task.
func (r *Romo) Spec() Spec {
	names := make([]string, len(r.Pairs))
	for i, p := range r.Pairs {
		op := ">"
		if p[0] < p[1] {
			op = "<"
		}
		names[i] = strconv.FormatFloat(p[0], 'g', -1, 64) + op + strconv.FormatFloat(p[1], 'g', -1, 64)
	}
	return Spec{Inputs: 2, Outputs: 1, Steps: r.Steps, Conditions: names}
}

// Validate checks the epochs are ordered, the response follows f2 and the
// frequencies are usable.
func (r *Romo) Validate() error {
	if r.Steps <= 0 || r.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", r.Steps, MaxSteps)
	}
	if !(0 <= r.Stim1Start && r.Stim1Start < r.Stim1End && r.Stim1End <= r.Stim2Start &&
		r.Stim2Start < r.Stim2End && r.Stim2End <= r.Steps) {
		return fmt.Errorf("stimulus epochs [Stim1Start=%d, Stim1End=%d) and [Stim2Start=%d, Stim2End=%d) must be non-empty, ordered and inside [0, Steps=%d)",
			r.Stim1Start, r.Stim1End, r.Stim2Start, r.Stim2End, r.Steps)
	}
	if r.Response <= 0 || r.Response > r.Steps-r.Stim2Start {
		return fmt.Errorf("Response = %d: must be in [1, Steps−Stim2Start = %d] (the response cannot precede f2)", r.Response, r.Steps-r.Stim2Start)
	}
	if !finite(r.FMin, r.FMax) || !(r.FMin < r.FMax) {
		return fmt.Errorf("FMin = %v, FMax = %v: need finite FMin < FMax", r.FMin, r.FMax)
	}
	if len(r.Pairs) == 0 || len(r.Pairs) > MaxConditions {
		return fmt.Errorf("Pairs has %d (f1, f2) pairs: need 1 to %d", len(r.Pairs), MaxConditions)
	}
	for i, p := range r.Pairs {
		if !finite(p[0], p[1]) || p[0] == p[1] {
			return fmt.Errorf("Pairs[%d] = %v: f1 and f2 must be finite and differ", i, p)
		}
	}
	if !finite(r.InputAmp, r.NoiseSD, r.Target) || r.InputAmp <= 0 || r.NoiseSD < 0 || r.Target <= 0 {
		return fmt.Errorf("InputAmp = %v, NoiseSD = %v, Target = %v: need finite values, InputAmp > 0, NoiseSD ≥ 0, Target > 0",
			r.InputAmp, r.NoiseSD, r.Target)
	}
	return nil
}

// encode returns the two channel values for frequency f.
func (r *Romo) encode(f float64) (pos, neg float64) {
	return r.InputAmp * (f - r.FMin) / (r.FMax - r.FMin), r.InputAmp * (r.FMax - f) / (r.FMax - r.FMin)
}

// Trial implements Task. Input noise, if any, comes from rng.
func (r *Romo) Trial(cond int, rng *rand.Rand) Trial {
	checkCond(r, cond)
	tr := NewTrial(cond, r.Steps, 2, 1)
	f1, f2 := r.Pairs[cond][0], r.Pairs[cond][1]
	stim := func(f float64, from, to int) {
		pos, neg := r.encode(f)
		for t := from; t < to; t++ {
			tr.U[t*2], tr.U[t*2+1] = pos, neg
			if r.NoiseSD > 0 {
				tr.U[t*2] += r.NoiseSD * rng.NormFloat64()
				tr.U[t*2+1] += r.NoiseSD * rng.NormFloat64()
			}
		}
	}
	stim(f1, r.Stim1Start, r.Stim1End)
	stim(f2, r.Stim2Start, r.Stim2End)
	target := r.Target
	if f1 < f2 {
		target = -r.Target
	}
	setResponse(&tr, 0, r.Steps-r.Response, r.Steps, target)
	return tr
}

// Correct implements Task: the mean response has the target's sign.
func (r *Romo) Correct(tr *Trial, y []float64) bool { return SignCorrect(tr, y) }

// FixedPointInputs implements Task: no input (the delay, where the line
// attractor storing f1 is expected) and the input of every distinct frequency
// of Pairs in increasing order, named like "f=18".
func (r *Romo) FixedPointInputs() []ConstantInput {
	var freqs []float64
	for _, p := range r.Pairs {
		freqs = append(freqs, p[0], p[1])
	}
	slices.Sort(freqs)
	freqs = slices.Compact(freqs)
	out := []ConstantInput{{Name: "none", U: []float64{0, 0}}}
	for _, f := range freqs {
		pos, neg := r.encode(f)
		out = append(out, ConstantInput{Name: "f=" + strconv.FormatFloat(f, 'g', -1, 64), U: []float64{pos, neg}})
	}
	return out
}
