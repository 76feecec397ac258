package sensitivity_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/sensitivity"
	"rulescape/core/tasks"
)

// The behavioural sensitivity of a small untrained network on a short
// go/no-go task: its gradient, spectrum and the effect of moving the weights
// along the top singular direction.
func Example() {
	task := tasks.NewGoNoGo()
	if err := tasks.Configure(task, []byte(`{"steps": 100, "stim_start": 10, "stim_end": 40, "response": 30}`)); err != nil {
		panic(err)
	}
	net, err := rnn.Init(rand.New(rand.NewPCG(1, 1)), rnn.InitConfig{N: 20, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		panic(err)
	}
	dyn := rnn.Dynamics{Dt: 1, Tau: 10}
	batch, err := sensitivity.NewBatch(task, net, dyn, sensitivity.BatchSettings{
		Repeats: 4, Seed: 7, X0Range: 0.1,
		Perturb: rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	s, g, err := sensitivity.Gradient(ctx, net, batch, plasticity.LossMSE)
	if err != nil {
		panic(err)
	}
	spec, err := sensitivity.Spectrum(g, net.N)
	if err != nil {
		panic(err)
	}
	self, err := sensitivity.Alignment(g, g)
	if err != nil {
		panic(err)
	}
	const eps = 1e-3
	eff, err := sensitivity.PerturbationEffect(ctx, net, batch, plasticity.LossMSE, spec.Direction(0), eps, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d trials, S = %.3f\n", len(batch.Items), s)
	fmt.Printf("alignment of G with itself: %.3f\n", self)
	fmt.Printf("ΔS/ε along u₁v₁ᵀ ≈ σ₁: %.2f ≈ %.2f\n", eff.Along.DeltaS/eps, spec.Values[0])
	fmt.Println("top direction moves S more than a random one:", eff.Along.DeltaS > eff.Random.DeltaS)
	// Output:
	// 8 trials, S = -1.661
	// alignment of G with itself: 1.000
	// ΔS/ε along u₁v₁ᵀ ≈ σ₁: 3.99 ≈ 3.99
	// top direction moves S more than a random one: true
}
