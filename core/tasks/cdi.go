package tasks

import (
	"fmt"
	"math/rand/v2"
)

func init() { Register("cdi", func() Task { return NewCDI() }) }

// CDI is context-dependent (selective) integration, after Mante, Sussillo,
// Shenoy & Newsome (2013, Nature 503:78) in the form Miconi (2017, eLife
// 6:e20899) trained with his reward-modulated rule: two noisy sensory
// modalities are presented together and a context cue says which one to
// integrate; the output must report the sign of the relevant modality's bias
// and ignore the other.
//
// Inputs (M = 4): channel 0 is modality 1, channel 1 modality 2, channel 2 the
// context-1 cue ("attend modality 1"), channel 3 the context-2 cue. While the
// stimulus is on, modality k is u_k^t = s_k·Bias + NoiseSD·N(0,1), a fresh
// Gaussian draw from the trial's rng at every step and for each modality; s_k =
// ±1 is the sign of its bias. The cued context channel is CueAmp from CueStart
// to CueEnd, the other context channel is 0.
//
// Conditions (4): "ctx1+", "ctx1-", "ctx2+", "ctx2-" — the context and the sign
// of the relevant modality's bias, which sets the target. As in Miconi's code,
// the irrelevant modality's sign is not part of the condition: it is drawn from
// the rng (±1 with probability ½ each), so that the learner keeps one reward
// baseline per (context, correct answer).
//
// With the defaults (1 ms steps, Miconi's values): T = 700; the context cue is
// on during steps 0–699 (the whole trial); the stimuli on steps 1–500 (ms 2–501);
// response period y^501…y^700 (the last 200 ms), where the target is ±Target
// (+ for "ctx1+" and "ctx2+") and the mask is 1; targets and mask are 0 before.
// Miconi's modality inputs are 0.5·(N(0,1) ± 0.2), i.e. Bias = 0.1, NoiseSD = 0.5.
//
// Correct: the mean response has the sign of the target (SignCorrect).
type CDI struct {
	Steps     int     `json:"steps"`      // trial length T (default 700)
	StimStart int     `json:"stim_start"` // first step of the stimuli (default 1)
	StimEnd   int     `json:"stim_end"`   // one past their last step (default 501)
	CueStart  int     `json:"cue_start"`  // first step of the context cue (default 0)
	CueEnd    int     `json:"cue_end"`    // one past its last step; 0 = to the end of the trial (default 0)
	Response  int     `json:"response"`   // length of the response period at the end of the trial (default 200)
	Bias      float64 `json:"bias"`       // magnitude of each modality's mean input (default 0.1)
	NoiseSD   float64 `json:"noise_sd"`   // standard deviation of the per-step input noise (default 0.5)
	CueAmp    float64 `json:"cue_amp"`    // value of the context cue (default 1)
	Target    float64 `json:"target"`     // target magnitude (default 1)
}

// NewCDI returns Miconi's (2017) selective-integration task.
func NewCDI() *CDI {
	return &CDI{Steps: 700, StimStart: 1, StimEnd: 501, CueStart: 0, CueEnd: 0, Response: 200,
		Bias: 0.1, NoiseSD: 0.5, CueAmp: 1, Target: 1}
}

// Name implements Task.
func (c *CDI) Name() string { return "cdi" }

var cdiConditions = []string{"ctx1+", "ctx1-", "ctx2+", "ctx2-"}

// Spec implements Task.
func (c *CDI) Spec() Spec {
	return Spec{Inputs: 4, Outputs: 1, Steps: c.Steps, Conditions: append([]string(nil), cdiConditions...)}
}

func (c *CDI) cueEnd() int {
	if c.CueEnd == 0 {
		return c.Steps
	}
	return c.CueEnd
}

// Validate checks the epochs fit in the trial and the amplitudes are usable.
func (c *CDI) Validate() error {
	if c.Steps <= 0 || c.Steps > MaxSteps {
		return fmt.Errorf("Steps = %d: must be in [1, %d]", c.Steps, MaxSteps)
	}
	if !(0 <= c.StimStart && c.StimStart < c.StimEnd && c.StimEnd <= c.Steps) {
		return fmt.Errorf("stimulus epoch [StimStart=%d, StimEnd=%d) must be non-empty and inside [0, Steps=%d)", c.StimStart, c.StimEnd, c.Steps)
	}
	if c.CueEnd != 0 && !(0 <= c.CueStart && c.CueStart < c.CueEnd && c.CueEnd <= c.Steps) {
		return fmt.Errorf("cue epoch [CueStart=%d, CueEnd=%d) must be non-empty and inside [0, Steps=%d) (CueEnd 0 = to the end)", c.CueStart, c.CueEnd, c.Steps)
	}
	if c.CueStart < 0 || c.CueStart >= c.Steps {
		return fmt.Errorf("CueStart = %d: must be in [0, Steps=%d)", c.CueStart, c.Steps)
	}
	if c.Response <= 0 || c.Response > c.Steps-c.StimStart {
		return fmt.Errorf("Response = %d: must be in [1, Steps−StimStart = %d] (the response cannot precede the stimulus)", c.Response, c.Steps-c.StimStart)
	}
	if !finite(c.Bias, c.NoiseSD, c.CueAmp, c.Target) || c.NoiseSD < 0 || c.Bias <= 0 || c.Target <= 0 {
		return fmt.Errorf("Bias = %v, NoiseSD = %v, CueAmp = %v, Target = %v: need finite values, Bias > 0, NoiseSD ≥ 0, Target > 0",
			c.Bias, c.NoiseSD, c.CueAmp, c.Target)
	}
	return nil
}

// Trial implements Task. The input noise and the sign of the irrelevant
// modality come from rng.
func (c *CDI) Trial(cond int, rng *rand.Rand) Trial {
	checkCond(c, cond)
	tr := NewTrial(cond, c.Steps, 4, 1)
	ctx, neg := cond/2, cond%2 // ctx 0 = attend modality 1
	sign := [2]float64{}
	sign[ctx] = 1
	if neg == 1 {
		sign[ctx] = -1
	}
	sign[1-ctx] = 1
	if rng.IntN(2) == 1 {
		sign[1-ctx] = -1
	}
	setInput(&tr, 2+ctx, c.CueStart, c.cueEnd(), c.CueAmp)
	for t := c.StimStart; t < c.StimEnd; t++ {
		tr.U[t*4] = sign[0]*c.Bias + c.NoiseSD*rng.NormFloat64()
		tr.U[t*4+1] = sign[1]*c.Bias + c.NoiseSD*rng.NormFloat64()
	}
	setResponse(&tr, 0, c.Steps-c.Response, c.Steps, sign[ctx]*c.Target)
	return tr
}

// Correct implements Task: the mean response has the target's sign.
func (c *CDI) Correct(tr *Trial, y []float64) bool { return SignCorrect(tr, y) }

// FixedPointInputs implements Task: no input, each context cue alone (Mante et
// al. analysed the dynamics in each context with zero-mean evidence), and each
// context cue with the relevant modality at +Bias and −Bias (the irrelevant one
// at 0).
func (c *CDI) FixedPointInputs() []ConstantInput {
	a, b := c.CueAmp, c.Bias
	return []ConstantInput{
		{Name: "none", U: []float64{0, 0, 0, 0}},
		{Name: "ctx1", U: []float64{0, 0, a, 0}},
		{Name: "ctx2", U: []float64{0, 0, 0, a}},
		{Name: "ctx1,mod1+", U: []float64{b, 0, a, 0}},
		{Name: "ctx1,mod1-", U: []float64{-b, 0, a, 0}},
		{Name: "ctx2,mod2+", U: []float64{0, b, 0, a}},
		{Name: "ctx2,mod2-", U: []float64{0, -b, 0, a}},
	}
}
