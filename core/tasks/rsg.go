package tasks

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

func init() { Register("rsg", func() Task { return NewRSG() }) }

// RSG is the ready-set-go interval reproduction task (Jazayeri & Shadlen 2010,
// Nat Neurosci 13:1020; in the network form of Remington, Narain, Hosseini &
// Jazayeri 2018, Neuron 98:1005): two pulses, Ready and Set, are separated by a
// sample interval ts; the network must produce a Go response ts after Set.
//
// Inputs (M = 2): channel 0 carries the Ready pulse, channel 1 the Set pulse,
// each InputAmp for PulseWidth steps. Ready starts at step ReadyAt, Set at
// step s = ReadyAt + ts. There is no trial noise.
//
// Conditions: one per sample interval of Intervals (in steps), named like
// "ts=480". The defaults are Remington et al.'s five intervals 480–800 ms.
//
// Targets: 0 up to y^s; after Set, a ramp whose speed scales with ts (as the
// population dynamics of Remington et al. do), crossing Threshold exactly ts
// steps after the Set onset and saturating at Target:
//
//	y*^{s+τ} = min(Target, Threshold·τ/ts)   for τ = 1 … T − s
//
// Mask: m^t = 1 from y^{ReadyAt+1} to the end of the trial (the output must
// stay low while the interval is measured, then ramp); 0 before.
//
// With the defaults (1 ms steps): T = 1800; Ready on steps 100–119; Set on
// steps 100+ts … 119+ts; mask on y^101…y^1800; the ramp reaches Threshold 0.5
// at y^{100+2ts} (≤ y^1700) and Target 1 at y^{100+3ts}, or stops at the end
// of the trial.
//
// Correct: the Go time is the first output crossing of Threshold after Set.
// A trial is correct when the output stayed below Threshold from Ready to Set
// (no premature Go) and the produced interval tp (the crossing, in steps after
// the Set onset; see Produced) is within Tolerance·ts of ts.
type RSG struct {
	Steps      int     `json:"steps"`       // trial length T (default 1800)
	ReadyAt    int     `json:"ready_at"`    // onset step of the Ready pulse (default 100)
	PulseWidth int     `json:"pulse_width"` // steps per pulse (default 20)
	Intervals  []int   `json:"intervals"`   // sample intervals ts in steps (default 480, 560, 640, 720, 800)
	Threshold  float64 `json:"threshold"`   // Go threshold, reached by the target ramp at ts (default 0.5)
	Target     float64 `json:"target"`      // level at which the ramp saturates, > Threshold (default 1)
	Tolerance  float64 `json:"tolerance"`   // relative tolerance |tp − ts| ≤ Tolerance·ts (default 0.15)
	InputAmp   float64 `json:"input_amp"`   // pulse value (default 1)
}

// NewRSG returns ready-set-go with Remington et al.'s intervals.
func NewRSG() *RSG {
	return &RSG{Steps: 1800, ReadyAt: 100, PulseWidth: 20, Intervals: []int{480, 560, 640, 720, 800},
		Threshold: 0.5, Target: 1, Tolerance: 0.15, InputAmp: 1}
}

// Name implements Task.
func (r *RSG) Name() string { return "rsg" }

// Spec implements Task.
func (r *RSG) Spec() Spec {
	names := make([]string, len(r.Intervals))
	for i, ts := range r.Intervals {
		names[i] = "ts=" + strconv.Itoa(ts)
	}
	return Spec{Inputs: 2, Outputs: 1, Steps: r.Steps, Conditions: names}
}

// Validate checks that every interval fits: Set after the Ready pulse ends,
// and at least 2·ts steps after Ready so that late Go times are seen.
func (r *RSG) Validate() error {
	if r.Steps <= 0 || r.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", r.Steps, MaxSteps)
	}
	if r.ReadyAt < 0 || r.ReadyAt >= r.Steps {
		return fmt.Errorf("ReadyAt = %d: must be in [0, Steps=%d)", r.ReadyAt, r.Steps)
	}
	if len(r.Intervals) == 0 || len(r.Intervals) > MaxConditions {
		return fmt.Errorf("Intervals has %d values: need 1 to %d", len(r.Intervals), MaxConditions)
	}
	if r.PulseWidth < 1 || r.PulseWidth > slices.Min(r.Intervals) {
		return fmt.Errorf("PulseWidth = %d: must be in [1, shortest interval = %d]", r.PulseWidth, slices.Min(r.Intervals))
	}
	for i, ts := range r.Intervals {
		if ts < 1 || ts > MaxSteps || r.ReadyAt+2*ts > r.Steps {
			return fmt.Errorf("Intervals[%d] = %d: must be ≥ 1 with ReadyAt + 2·ts ≤ Steps = %d (raise Steps)", i, ts, r.Steps)
		}
	}
	if !finite(r.Threshold, r.Target, r.Tolerance, r.InputAmp) || !(0 < r.Threshold && r.Threshold < r.Target) {
		return fmt.Errorf("Threshold = %v, Target = %v: need finite 0 < Threshold < Target", r.Threshold, r.Target)
	}
	if !(r.Tolerance > 0 && r.Tolerance <= 1) {
		return fmt.Errorf("Tolerance = %v: must be in (0, 1]", r.Tolerance)
	}
	if !finite(r.InputAmp) || r.InputAmp == 0 {
		return fmt.Errorf("InputAmp = %v: must be finite and ≠ 0", r.InputAmp)
	}
	return nil
}

// Trial implements Task. RSG has no trial noise; rng is unused.
func (r *RSG) Trial(cond int, _ *rand.Rand) Trial {
	checkCond(r, cond)
	tr := NewTrial(cond, r.Steps, 2, 1)
	ts := r.Intervals[cond]
	set := r.ReadyAt + ts
	setInput(&tr, 0, r.ReadyAt, r.ReadyAt+r.PulseWidth, r.InputAmp)
	setInput(&tr, 1, set, set+r.PulseWidth, r.InputAmp)
	for t := r.ReadyAt; t < r.Steps; t++ {
		tr.Mask[t] = 1
	}
	for tau := 1; set+tau <= r.Steps; tau++ {
		tr.Target[set+tau-1] = math.Min(r.Target, r.Threshold*float64(tau)/float64(ts))
	}
	return tr
}

// Produced returns the produced interval tp of a trial of this task: the
// number of steps τ ≥ 1 after the Set onset s at which y^{s+τ} first reaches
// Threshold, and whether there was such a step. premature reports an output
// at or above Threshold between Ready and Set (y^{ReadyAt+1} … y^s).
func (r *RSG) Produced(tr *Trial, y []float64) (tp int, ok, premature bool) {
	set := r.ReadyAt + r.Intervals[tr.Condition]
	for t := r.ReadyAt; t < set; t++ {
		if y[t] >= r.Threshold {
			premature = true
			break
		}
	}
	for tau := 1; set+tau <= tr.T; tau++ {
		if y[set+tau-1] >= r.Threshold {
			return tau, true, premature
		}
	}
	return 0, false, premature
}

// Correct implements Task: no premature Go, and |tp − ts| ≤ Tolerance·ts.
func (r *RSG) Correct(tr *Trial, y []float64) bool {
	tp, ok, premature := r.Produced(tr, y)
	ts := float64(r.Intervals[tr.Condition])
	return ok && !premature && math.Abs(float64(tp)-ts) <= r.Tolerance*ts
}

// FixedPointInputs implements Task: no input (the measurement and production
// epochs), the Ready pulse, the Set pulse.
func (r *RSG) FixedPointInputs() []ConstantInput {
	return []ConstantInput{
		{Name: "none", U: []float64{0, 0}},
		{Name: "ready", U: []float64{r.InputAmp, 0}},
		{Name: "set", U: []float64{0, r.InputAmp}},
	}
}
