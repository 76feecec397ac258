package tasks

import (
	"fmt"
	"math/rand/v2"
)

func init() { Register("gonogo", func() Task { return NewGoNoGo() }) }

// GoNoGo is the go/no-go task (Donders' c-reaction, as structured in the
// GoNogo task of NeuroGym, Molano-Mazón et al. 2022): a cue says whether to
// respond; after a delay, the output must rise to +Target on go trials and
// stay at 0 on no-go trials (withhold the response).
//
// Inputs (M = 2): channel 0 is the go cue, channel 1 the no-go cue, InputAmp
// while the cue is on and 0 otherwise. There is no trial noise.
//
// Conditions (2): "go", "nogo".
//
// With the defaults (1 ms steps): T = 700; fixation steps 0–99; cue on steps
// 100–299 (ms 101–300); delay steps 300–499; response period y^501…y^700 (the
// last 200 ms), where the mask is 1 and the target is +Target (go) or 0
// (no-go); targets and mask are 0 before.
//
// Correct: the mask-weighted mean response is above Target/2 on go trials and
// below Target/2 on no-go trials (a response is "issued" when the mean output
// crosses half the go target).
type GoNoGo struct {
	Steps     int     `json:"steps"`      // trial length T (default 700)
	StimStart int     `json:"stim_start"` // first step of the cue (default 100)
	StimEnd   int     `json:"stim_end"`   // one past its last step (default 300)
	Response  int     `json:"response"`   // length of the response period at the end of the trial (default 200)
	InputAmp  float64 `json:"input_amp"`  // cue value (default 1)
	Target    float64 `json:"target"`     // go target (default 1)
}

// NewGoNoGo returns the go/no-go task with its defaults.
func NewGoNoGo() *GoNoGo {
	return &GoNoGo{Steps: 700, StimStart: 100, StimEnd: 300, Response: 200, InputAmp: 1, Target: 1}
}

// Name implements Task.
func (g *GoNoGo) Name() string { return "gonogo" }

// Spec implements Task.
func (g *GoNoGo) Spec() Spec {
	return Spec{Inputs: 2, Outputs: 1, Steps: g.Steps, Conditions: []string{"go", "nogo"}}
}

// Validate checks the epochs fit in the trial and the amplitudes are usable.
func (g *GoNoGo) Validate() error {
	if g.Steps <= 0 || g.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", g.Steps, MaxSteps)
	}
	if !(0 <= g.StimStart && g.StimStart < g.StimEnd && g.StimEnd <= g.Steps) {
		return fmt.Errorf("cue epoch [StimStart=%d, StimEnd=%d) must be non-empty and inside [0, Steps=%d)", g.StimStart, g.StimEnd, g.Steps)
	}
	if g.Response <= 0 || g.Response > g.Steps-g.StimStart {
		return fmt.Errorf("Response = %d: must be in [1, Steps−StimStart = %d] (the response cannot precede the cue)", g.Response, g.Steps-g.StimStart)
	}
	if !finite(g.InputAmp, g.Target) || g.InputAmp == 0 || g.Target <= 0 {
		return fmt.Errorf("InputAmp = %v, Target = %v: need finite values, InputAmp ≠ 0, Target > 0", g.InputAmp, g.Target)
	}
	return nil
}

// Trial implements Task. Go/no-go has no trial noise; rng is unused.
func (g *GoNoGo) Trial(cond int, _ *rand.Rand) Trial {
	checkCond(g, cond)
	tr := NewTrial(cond, g.Steps, 2, 1)
	setInput(&tr, cond, g.StimStart, g.StimEnd, g.InputAmp)
	target := g.Target
	if cond == 1 {
		target = 0
	}
	setResponse(&tr, 0, g.Steps-g.Response, g.Steps, target)
	return tr
}

// Correct implements Task: the mean response is above Target/2 on go trials
// and below it on no-go trials.
func (g *GoNoGo) Correct(tr *Trial, y []float64) bool {
	issued := MeanOutput(tr, y, 0) > g.Target/2
	return issued == (tr.Condition == 0)
}

// FixedPointInputs implements Task: no input, the go cue, the no-go cue.
func (g *GoNoGo) FixedPointInputs() []ConstantInput {
	return []ConstantInput{
		{Name: "none", U: []float64{0, 0}},
		{Name: "go", U: []float64{g.InputAmp, 0}},
		{Name: "nogo", U: []float64{0, g.InputAmp}},
	}
}
