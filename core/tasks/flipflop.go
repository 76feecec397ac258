package tasks

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

func init() { Register("flipflop", func() Task { return NewFlipFlop() }) }

// MaxBits is the largest number of flip-flop channels (2^MaxBits conditions).
const MaxBits = 8

// FlipFlop is the 3-bit flip-flop of Sussillo & Barak (2013, Neural Comput
// 25:626): Bits independent input channels receive brief pulses of +InputAmp or
// −InputAmp at random times; output channel k must hold the sign of the last
// pulse on input k (±Target) until the next one. A network that solves it
// stores 2^Bits memories; its fixed points under zero input are expected at
// the corners of a cube.
//
// Inputs (M = Bits) and outputs (O = Bits). Every channel gets a "load" pulse
// at step 0, so every output has a defined target from the start. Later pulse
// onsets on each channel are drawn independently from the trial's rng: at each
// step s with MinGap ≤ s ≤ Steps − Hold − PulseWidth that is at least MinGap
// steps after the channel's previous onset, an onset occurs with probability
// PulseProb. A pulse with onset s sets u_k^t = ±InputAmp for s ≤ t < s +
// PulseWidth. The last Hold steps carry no pulse.
//
// Conditions (2^Bits): the final memory. In condition c, channel k ends at +
// if bit k of c is set, else at −; the condition is named by one character per
// channel, channel 0 first ("+-+" is c = 5). The last pulse on each channel
// has the condition's sign; the signs of earlier pulses are drawn from the rng
// (a pulse may repeat the current sign, which changes nothing).
//
// Targets: row t−1 of channel k (y*_k^t) is Target times the sign of the last
// pulse on channel k with onset ≤ t−1, i.e. the output must switch from y^{s+1}
// on, one step after the input pulse with onset s arrives. Mask: m^t = 0 during
// the Settle steps y^{s+1}…y^{s+Settle} after any onset s (on any channel; a
// grace period for switching), 1 otherwise.
//
// With the defaults (1 ms steps): T = 1000, 10 ms pulses, onsets with
// probability 0.003 per ms per channel at least 100 ms apart (≈1.6 pulses per
// channel besides the load pulse), none in the last 200 ms (onsets ≤ step 790),
// Settle = 0 (every output is scored, as in Sussillo & Barak's training).
//
// Correct: every channel has the right sign in every part of the trial — the
// masked steps are cut into segments wherever any target changes, and in each
// segment each channel's mean output must have the sign of its target
// (SegmentSignCorrect).
type FlipFlop struct {
	Bits       int     `json:"bits"`        // number of channels (default 3)
	Steps      int     `json:"steps"`       // trial length T (default 1000)
	PulseWidth int     `json:"pulse_width"` // steps per pulse (default 10)
	PulseProb  float64 `json:"pulse_prob"`  // probability of an onset per eligible step per channel (default 0.003)
	MinGap     int     `json:"min_gap"`     // minimum steps between onsets on one channel, ≥ PulseWidth (default 100)
	Hold       int     `json:"hold"`        // pulse-free steps at the end of the trial (default 200)
	Settle     int     `json:"settle"`      // unscored steps after each onset (default 0)
	InputAmp   float64 `json:"input_amp"`   // pulse magnitude (default 1)
	Target     float64 `json:"target"`      // target magnitude (default 1)
}

// NewFlipFlop returns the 3-bit flip-flop with its defaults.
func NewFlipFlop() *FlipFlop {
	return &FlipFlop{Bits: 3, Steps: 1000, PulseWidth: 10, PulseProb: 0.003, MinGap: 100, Hold: 200,
		Settle: 0, InputAmp: 1, Target: 1}
}

// Name implements Task.
func (f *FlipFlop) Name() string { return "flipflop" }

// Spec implements Task.
func (f *FlipFlop) Spec() Spec {
	bits := min(max(f.Bits, 0), MaxBits)
	names := make([]string, 1<<bits)
	for c := range names {
		names[c] = flipFlopName(c, bits)
	}
	if f.Bits <= 0 {
		names = nil
	}
	return Spec{Inputs: f.Bits, Outputs: f.Bits, Steps: f.Steps, Conditions: names}
}

func flipFlopName(c, bits int) string {
	var b strings.Builder
	for k := 0; k < bits; k++ {
		if c>>k&1 == 1 {
			b.WriteByte('+')
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// Validate checks the sizes, the pulse schedule and the amplitudes.
func (f *FlipFlop) Validate() error {
	if f.Bits < 1 || f.Bits > MaxBits {
		return fmt.Errorf("Bits = %d: must be in [1, %d]", f.Bits, MaxBits)
	}
	if f.Steps <= 0 || f.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", f.Steps, MaxSteps)
	}
	if f.PulseWidth < 1 || f.PulseWidth > f.Steps {
		return fmt.Errorf("PulseWidth = %d: must be in [1, Steps=%d]", f.PulseWidth, f.Steps)
	}
	if f.MinGap < f.PulseWidth || f.MinGap > MaxSteps {
		return fmt.Errorf("MinGap = %d: must be at least PulseWidth = %d (pulses on a channel must not overlap)", f.MinGap, f.PulseWidth)
	}
	if f.Hold < 0 || f.Hold > f.Steps-f.PulseWidth {
		return fmt.Errorf("Hold = %d: must be in [0, Steps−PulseWidth = %d] (the load pulse must fit before it)", f.Hold, f.Steps-f.PulseWidth)
	}
	if f.Settle < 0 || f.Settle >= f.Hold+f.PulseWidth {
		return fmt.Errorf("Settle = %d: must be in [0, Hold+PulseWidth = %d) so that the final memory is scored", f.Settle, f.Hold+f.PulseWidth)
	}
	if !(f.PulseProb >= 0 && f.PulseProb <= 1) {
		return fmt.Errorf("PulseProb = %v: must be in [0, 1]", f.PulseProb)
	}
	if !finite(f.InputAmp, f.Target) || f.InputAmp <= 0 || f.Target <= 0 {
		return fmt.Errorf("InputAmp = %v, Target = %v: need finite values > 0", f.InputAmp, f.Target)
	}
	return nil
}

// Trial implements Task. Pulse times and the signs of all but the last pulse
// of each channel come from rng.
func (f *FlipFlop) Trial(cond int, rng *rand.Rand) Trial {
	checkCond(f, cond)
	nb, T := f.Bits, f.Steps
	tr := NewTrial(cond, T, nb, nb)
	for t := range tr.Mask {
		tr.Mask[t] = 1
	}
	lastOnset := T - f.Hold - f.PulseWidth
	var onsets []int
	var signs []float64
	for k := 0; k < nb; k++ {
		onsets = append(onsets[:0], 0)
		for s, prev := f.MinGap, 0; s <= lastOnset; s++ {
			if s-prev >= f.MinGap && rng.Float64() < f.PulseProb {
				onsets = append(onsets, s)
				prev = s
			}
		}
		signs = signs[:0]
		for range onsets[1:] {
			signs = append(signs, float64(2*rng.IntN(2)-1))
		}
		final := -1.0
		if cond>>k&1 == 1 {
			final = 1
		}
		signs = append(signs, final)
		for j, s := range onsets {
			setInput(&tr, k, s, s+f.PulseWidth, signs[j]*f.InputAmp)
			end := T
			if j+1 < len(onsets) {
				end = onsets[j+1]
			}
			for t := s; t < end; t++ {
				tr.Target[t*nb+k] = signs[j] * f.Target
			}
			clear(tr.Mask[s:min(s+f.Settle, T)])
		}
	}
	return tr
}

// Correct implements Task: in every segment between target changes, every
// channel's mean output has the target's sign.
func (f *FlipFlop) Correct(tr *Trial, y []float64) bool { return SegmentSignCorrect(tr, y) }

// FixedPointInputs implements Task: no input (where the 2^Bits memories
// live) and a +pulse and a −pulse on each channel alone ("pulse0+", …).
func (f *FlipFlop) FixedPointInputs() []ConstantInput {
	out := []ConstantInput{{Name: "none", U: make([]float64, f.Bits)}}
	for k := 0; k < f.Bits; k++ {
		for _, s := range []float64{1, -1} {
			u := make([]float64, f.Bits)
			u[k] = s * f.InputAmp
			name := fmt.Sprintf("pulse%d+", k)
			if s < 0 {
				name = fmt.Sprintf("pulse%d-", k)
			}
			out = append(out, ConstantInput{Name: name, U: u})
		}
	}
	return out
}
