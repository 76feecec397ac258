package tasks

import (
	"fmt"
	"math/rand/v2"
)

func init() { Register("dnms", func() Task { return NewDNMS() }) }

// DNMS is delayed non-match-to-sample as in Miconi (2017): two stimuli, each A
// or B, separated by a delay; the output must be +Target when they differ
// (non-match) and −Target when they are the same, during the response period.
//
// Inputs: channel 0 carries stimulus A, channel 1 stimulus B (value InputAmp
// while the stimulus is on). Conditions: AA, AB, BA, BB. With the defaults (1 ms
// steps): first stimulus on steps 0–199 (ms 1–200), second on 400–599 (ms
// 401–600), response period y^801…y^1000 (the last 200 ms), targets ±0.98.
// The mask is 1 on the response period and 0 elsewhere; targets are 0 outside it.
// Correct: the mean response has the sign of the target (SignCorrect).
type DNMS struct {
	Steps      int     `json:"steps"`       // trial length T (default 1000)
	Stim1Start int     `json:"stim1_start"` // first step of stimulus 1 (default 0)
	Stim1End   int     `json:"stim1_end"`   // one past its last step (default 200)
	Stim2Start int     `json:"stim2_start"` // first step of stimulus 2 (default 400)
	Stim2End   int     `json:"stim2_end"`   // one past its last step (default 600)
	Response   int     `json:"response"`    // length of the response period at the end of the trial (default 200)
	Target     float64 `json:"target"`      // target magnitude (default 0.98)
	InputAmp   float64 `json:"input_amp"`   // input value while a stimulus is on (default 1)
}

// NewDNMS returns Miconi's DNMS.
func NewDNMS() *DNMS {
	return &DNMS{Steps: 1000, Stim1Start: 0, Stim1End: 200, Stim2Start: 400, Stim2End: 600,
		Response: 200, Target: 0.98, InputAmp: 1}
}

// Name implements Task.
func (d *DNMS) Name() string { return "dnms" }

// Spec implements Task.
func (d *DNMS) Spec() Spec {
	return Spec{Inputs: 2, Outputs: 1, Steps: d.Steps, Conditions: []string{"AA", "AB", "BA", "BB"}}
}

// Validate checks the epochs fit in the trial.
func (d *DNMS) Validate() error {
	if d.Steps <= 0 {
		return fmt.Errorf("Steps = %d: must be ≥ 1", d.Steps)
	}
	if !(0 <= d.Stim1Start && d.Stim1Start < d.Stim1End && d.Stim1End <= d.Stim2Start &&
		d.Stim2Start < d.Stim2End && d.Stim2End <= d.Steps) {
		return fmt.Errorf("stimulus epochs [%d,%d) and [%d,%d) must be ordered and inside [0,%d)",
			d.Stim1Start, d.Stim1End, d.Stim2Start, d.Stim2End, d.Steps)
	}
	if d.Response <= 0 || d.Response > d.Steps {
		return fmt.Errorf("Response = %d: must be in [1, Steps=%d]", d.Response, d.Steps)
	}
	if !finite(d.Target, d.InputAmp) {
		return fmt.Errorf("Target = %v, InputAmp = %v: must be finite", d.Target, d.InputAmp)
	}
	return nil
}

// Trial implements Task. DNMS has no trial noise; rng is unused.
func (d *DNMS) Trial(cond int, _ *rand.Rand) Trial {
	checkCond(d, cond)
	tr := NewTrial(cond, d.Steps, 2, 1)
	first, second := cond/2, cond%2 // 0 = A, 1 = B
	for t := d.Stim1Start; t < d.Stim1End; t++ {
		tr.U[t*2+first] = d.InputAmp
	}
	for t := d.Stim2Start; t < d.Stim2End; t++ {
		tr.U[t*2+second] = d.InputAmp
	}
	target := -d.Target
	if first != second {
		target = d.Target
	}
	for t := d.Steps - d.Response; t < d.Steps; t++ {
		tr.Target[t] = target
		tr.Mask[t] = 1
	}
	return tr
}

// Correct implements Task: the mean response has the target's sign.
func (d *DNMS) Correct(tr *Trial, y []float64) bool { return SignCorrect(tr, y) }

// FixedPointInputs implements Task: no input, stimulus A, stimulus B.
func (d *DNMS) FixedPointInputs() []ConstantInput {
	return []ConstantInput{
		{Name: "none", U: []float64{0, 0}},
		{Name: "A", U: []float64{d.InputAmp, 0}},
		{Name: "B", U: []float64{0, d.InputAmp}},
	}
}
