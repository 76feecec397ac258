package rnn_test

import (
	"fmt"
	"math/rand/v2"

	"rulescape/core/rnn"
)

// A network with Miconi's three clamped bias units, run for 100 steps with
// no input.
func ExampleNetwork_Run() {
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := rnn.Init(rng, rnn.InitConfig{N: 50, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		panic(err)
	}
	x0 := make([]float64, net.N)
	net.InitState(rng, x0, 0.1)
	u := make([]float64, 100*net.M)
	var tr rnn.Trace
	net.Run(rnn.Dynamics{Dt: 1, Tau: 30}, x0, u, nil, 100, &tr)
	fmt.Println(len(tr.Y), "outputs; clamped unit", net.ClampIndex[2], "holds", tr.X[100*net.N+net.ClampIndex[2]])
	// Output: 100 outputs; clamped unit 3 holds -1
}
