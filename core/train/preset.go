package train

import (
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// Miconi2017 returns Miconi's (2017) setup for a task: N = 200, G = 1.5,
// dt = 1 ms, τ = 30 ms, decoupled perturbations (p = 0.003, A = 16, from step
// 4), α_x = 0.05, gate t ≥ 3, η = 0.1, baseline-scaled gain, clip 3e-4,
// α_R = 0.75, warm-up 100 trials, three clamped bias units (+1, +1, −1), one
// readout unit, x⁰ ~ U[−0.1, 0.1], his rule θ₃₃ = −1 and his criterion.
func Miconi2017(task tasks.Task, trials int) *Setup {
	rule, _ := plasticity.Named("miconi", 3, 3)
	return &Setup{
		Task:      task,
		Init:      rnn.InitConfig{N: 200, G: 1.5, InScale: 1, Readout: rnn.ReadoutUnits, Clamps: []float64{1, 1, -1}},
		Dyn:       rnn.Dynamics{Dt: 1, Tau: 30},
		Perturb:   rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4},
		Rule:      rule,
		Learner:   plasticity.Miconi2017(),
		X0Range:   0.1,
		Trials:    trials,
		Criterion: MiconiCriterion,
	}
}
