package tasks

import (
	"fmt"
	"math/rand/v2"
	"strconv"
)

func init() { Register("perceptual", func() Task { return NewPerceptual() }) }

// Perceptual is two-alternative perceptual decision making in the style of the
// random-dot motion discrimination task (Britten, Shadlen, Newsome & Movshon
// 1992, J Neurosci 12:4745; Shadlen & Newsome 2001, J Neurophysiol 86:1916):
// noisy momentary evidence whose mean is set by a signed coherence must be
// integrated, and after a delay the output must report its direction.
//
// Inputs (M = 2), as in Song, Yang & Wang's (2016) rate-network version: while
// the stimulus is on, channel 0 (evidence for "+") is
// InputAmp·(1 + s·c)/2 + NoiseSD·N(0,1) and channel 1 (evidence for "−") is
// InputAmp·(1 − s·c)/2 + NoiseSD·N(0,1), with independent Gaussian draws from
// the trial's rng at every step; s = ±1 is the direction and c the coherence.
// Both channels are 0 outside the stimulus.
//
// Conditions (2 × len(Coherences)): condition 2i is direction + at
// Coherences[i], condition 2i+1 direction − at Coherences[i]; named by the
// signed coherence ("+0.032", "-0.032", …). The default coherences are the
// non-zero ones of Britten et al. (3.2 … 51.2%).
//
// With the defaults (1 ms steps): T = 1200; fixation steps 0–99 (no input);
// stimulus on steps 100–899 (ms 101–900); delay steps 900–999; response period
// y^1001…y^1200 (the last 200 ms), where the target is s·Target and the mask
// is 1; targets and mask are 0 before. NoiseSD = 1 makes an ideal integrator of
// the 800 ms stimulus about 74% correct at 3.2% coherence and always correct at
// 51.2%.
//
// Correct: the mean response has the sign of the direction (SignCorrect).
type Perceptual struct {
	Steps      int       `json:"steps"`      // trial length T (default 1200)
	StimStart  int       `json:"stim_start"` // first step of the stimulus (default 100)
	StimEnd    int       `json:"stim_end"`   // one past its last step (default 900)
	Response   int       `json:"response"`   // length of the response period at the end of the trial (default 200)
	Coherences []float64 `json:"coherences"` // coherence levels c in (0, 1] (default 0.032, 0.064, 0.128, 0.256, 0.512)
	InputAmp   float64   `json:"input_amp"`  // input scale (default 1)
	NoiseSD    float64   `json:"noise_sd"`   // standard deviation of the per-step noise on each channel (default 1)
	Target     float64   `json:"target"`     // target magnitude (default 1)
}

// NewPerceptual returns the random-dots-style task with Britten et al.'s
// coherences.
func NewPerceptual() *Perceptual {
	return &Perceptual{Steps: 1200, StimStart: 100, StimEnd: 900, Response: 200,
		Coherences: []float64{0.032, 0.064, 0.128, 0.256, 0.512}, InputAmp: 1, NoiseSD: 1, Target: 1}
}

// Name implements Task.
func (p *Perceptual) Name() string { return "perceptual" }

// Spec implements Task.
func (p *Perceptual) Spec() Spec {
	names := make([]string, 0, 2*len(p.Coherences))
	for _, c := range p.Coherences {
		v := strconv.FormatFloat(c, 'g', -1, 64)
		names = append(names, "+"+v, "-"+v)
	}
	return Spec{Inputs: 2, Outputs: 1, Steps: p.Steps, Conditions: names}
}

// Validate checks the epochs fit in the trial and the coherences are usable.
func (p *Perceptual) Validate() error {
	if p.Steps <= 0 || p.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", p.Steps, MaxSteps)
	}
	if !(0 <= p.StimStart && p.StimStart < p.StimEnd && p.StimEnd <= p.Steps) {
		return fmt.Errorf("stimulus epoch [StimStart=%d, StimEnd=%d) must be non-empty and inside [0, Steps=%d)", p.StimStart, p.StimEnd, p.Steps)
	}
	if p.Response <= 0 || p.Response > p.Steps-p.StimStart {
		return fmt.Errorf("Response = %d: must be in [1, Steps−StimStart = %d] (the response cannot precede the stimulus)", p.Response, p.Steps-p.StimStart)
	}
	if len(p.Coherences) == 0 || len(p.Coherences) > MaxConditions/2 {
		return fmt.Errorf("Coherences has %d levels: need 1 to %d", len(p.Coherences), MaxConditions/2)
	}
	for i, c := range p.Coherences {
		if !(c > 0 && c <= 1) {
			return fmt.Errorf("Coherences[%d] = %v: must be in (0, 1] (the direction is the condition's sign)", i, c)
		}
	}
	if !finite(p.InputAmp, p.NoiseSD, p.Target) || p.InputAmp <= 0 || p.NoiseSD < 0 || p.Target <= 0 {
		return fmt.Errorf("InputAmp = %v, NoiseSD = %v, Target = %v: need finite values, InputAmp > 0, NoiseSD ≥ 0, Target > 0",
			p.InputAmp, p.NoiseSD, p.Target)
	}
	return nil
}

// Trial implements Task. The evidence noise comes from rng.
func (p *Perceptual) Trial(cond int, rng *rand.Rand) Trial {
	checkCond(p, cond)
	tr := NewTrial(cond, p.Steps, 2, 1)
	s := 1.0
	if cond%2 == 1 {
		s = -1
	}
	c := p.Coherences[cond/2]
	plus, minus := p.InputAmp*(1+s*c)/2, p.InputAmp*(1-s*c)/2
	for t := p.StimStart; t < p.StimEnd; t++ {
		tr.U[t*2] = plus + p.NoiseSD*rng.NormFloat64()
		tr.U[t*2+1] = minus + p.NoiseSD*rng.NormFloat64()
	}
	setResponse(&tr, 0, p.Steps-p.Response, p.Steps, s*p.Target)
	return tr
}

// Correct implements Task: the mean response has the direction's sign.
func (p *Perceptual) Correct(tr *Trial, y []float64) bool { return SignCorrect(tr, y) }

// FixedPointInputs implements Task: no input, the zero-coherence stimulus
// mean, and the mean stimulus of each direction at the strongest coherence.
func (p *Perceptual) FixedPointInputs() []ConstantInput {
	cmax := 0.0
	for _, c := range p.Coherences {
		cmax = max(cmax, c)
	}
	a := p.InputAmp
	v := strconv.FormatFloat(cmax, 'g', -1, 64)
	return []ConstantInput{
		{Name: "none", U: []float64{0, 0}},
		{Name: "coh0", U: []float64{a / 2, a / 2}},
		{Name: "+" + v, U: []float64{a * (1 + cmax) / 2, a * (1 - cmax) / 2}},
		{Name: "-" + v, U: []float64{a * (1 - cmax) / 2, a * (1 + cmax) / 2}},
	}
}
