package rsa_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"rulescape/core/rnn"
	"rulescape/core/rsa"
)

// End to end on an rnn.Trace: noisy trials of three input conditions,
// condition-averaged in bins of 5 steps, checked against a written-out mean
// for one entry; the cross-validated RDM separates the conditions.
func TestFromTraces(t *testing.T) {
	const n, steps, bin, reps = 6, 20, 5, 4
	net, err := rnn.NewNetwork(n, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range net.W {
		net.W[i] = 0.3 * rng.NormFloat64()
	}
	for i := range net.Win {
		net.Win[i] = rng.NormFloat64()
	}
	var states [][]float64
	var labels []int
	for range reps {
		for c := range 3 {
			u := make([]float64, steps)
			for k := range u {
				u[k] = float64(c) - 1
			}
			xi := make([]float64, steps*n)
			for k := range xi {
				xi[k] = 0.05 * rng.NormFloat64()
			}
			var tr rnn.Trace
			net.Run(rnn.Dynamics{Dt: 1, Tau: 5}, make([]float64, n), u, xi, steps, &tr)
			states = append(states, slices.Clone(tr.R[tr.N:]))
			labels = append(labels, c)
		}
	}
	resp, err := rsa.ConditionAverage(states, labels, n, bin)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stimuli() != 3*steps/bin {
		t.Fatalf("%d stimuli, want %d", resp.Stimuli(), 3*steps/bin)
	}
	// Condition 2, bin 1, unit 3: mean over its trials and steps 5…9.
	want := 0.0
	for i, s := range states {
		if labels[i] == 2 {
			for step := 5; step < 10; step++ {
				want += s[step*n+3]
			}
		}
	}
	want /= reps * bin
	if got := resp.Row(2*resp.Bins + 1)[3]; !near(got, want, 1e-14) {
		t.Errorf("condition 2 bin 1 unit 3 = %v, want %v", got, want)
	}
	folds, err := rsa.ConditionAverageFolds(states, labels, n, bin, 2)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := rsa.CrossnobisRDM(folds, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Last bins of conditions 0 and 2 (inputs −1 and +1) are far apart.
	if d := cv[rsa.PairIndex(resp.Stimuli(), resp.Bins-1, 3*resp.Bins-1)]; d < 0.01 {
		t.Errorf("crossnobis distance between opposite inputs = %v", d)
	}
}
