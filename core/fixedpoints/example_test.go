package fixedpoints_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"rulescape/core/fixedpoints"
	"rulescape/core/rnn"
)

// Two independent bistable units (W = 2I) form a 2-bit memory: four stable
// states at (±x*, ±x*), four saddles of index 1 and an unstable origin.
// The initial states are sampled from trajectories that leave the origin.
func ExampleFind() {
	net, err := rnn.NewNetwork(2, 0, 1)
	if err != nil {
		panic(err)
	}
	net.W = []float64{2, 0, 0, 2}

	rng := rand.New(rand.NewPCG(1, 2))
	var traces []*rnn.Trace
	for range 8 {
		x0 := []float64{0.1 * rng.NormFloat64(), 0.1 * rng.NormFloat64()}
		tr := new(rnn.Trace)
		net.Run(rnn.Dynamics{Dt: 1, Tau: 10}, x0, nil, nil, 60, tr)
		traces = append(traces, tr)
	}
	inits, err := fixedpoints.SampleInits(net, traces, fixedpoints.Settings{Seed: 3})
	if err != nil {
		panic(err)
	}
	res, err := fixedpoints.Find(context.Background(), net, nil, inits, fixedpoints.Settings{})
	if err != nil {
		panic(err)
	}
	count := map[fixedpoints.Kind]int{}
	for _, p := range res.Fixed {
		count[p.Kind]++
	}
	fmt.Println(len(res.Fixed), "fixed points:", count[fixedpoints.Stable], "stable,",
		count[fixedpoints.Saddle], "saddles,", count[fixedpoints.Unstable], "unstable;", len(res.Slow), "slow")
	// Output: 9 fixed points: 4 stable, 4 saddles, 1 unstable; 0 slow
}
