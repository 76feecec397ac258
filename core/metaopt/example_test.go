package metaopt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"rulescape/core/metaopt"
)

// noisyBowl is J_s(Θ) = −‖Θ − (1, −2)‖² + noise(s), with its exact gradient.
func noisyBowl(_ context.Context, req metaopt.Request) (metaopt.Eval, error) {
	opt := []float64{1, -2}
	noise := rand.New(rand.NewPCG(req.Seed, 0)).NormFloat64()
	ev := metaopt.Eval{J: 0.1 * noise, Cost: 1}
	for i, x := range req.Params {
		ev.J -= (x - opt[i]) * (x - opt[i])
	}
	if req.WantGrad {
		ev.Grad = []float64{-2 * (req.Params[0] - opt[0]), -2 * (req.Params[1] - opt[1])}
		ev.Cost += 2
	}
	return ev, nil
}

func Example() {
	s := metaopt.Settings{Iters: 400, Learners: 4, LR: 0.05, HeldOut: 8, Seed: 1}
	o, err := metaopt.New(metaopt.ObjectiveFunc(noisyBowl), []float64{0, 0}, s)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := o.Run(context.Background(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("Θ = (%.2f, %.2f)\n", res.Params[0], res.Params[1])
	fmt.Printf("learner-runs %d, cost %.0f, held-out runs %d\n", res.Budget.Runs, res.Budget.Cost, res.Budget.HeldOutRuns)
	// Output:
	// Θ = (1.00, -2.00)
	// learner-runs 1600, cost 4800, held-out runs 8
}

// A run checkpoints its State as JSON and resumes exactly where it stopped.
func Example_resume() {
	s := metaopt.Settings{Iters: 10, Learners: 4, Seed: 7, Method: metaopt.MethodES}
	obj := metaopt.ObjectiveFunc(noisyBowl)

	straight, _ := metaopt.New(obj, []float64{0, 0}, s)
	straight.Run(context.Background(), nil)

	first, _ := metaopt.New(obj, []float64{0, 0}, s)
	for range 4 {
		first.Step(context.Background())
	}
	checkpoint, _ := json.Marshal(first.State())

	var st metaopt.State
	json.Unmarshal(checkpoint, &st)
	resumed, _ := metaopt.Restore(obj, st)
	resumed.Run(context.Background(), nil)

	a, b := straight.Params(), resumed.Params()
	fmt.Println(a[0] == b[0] && a[1] == b[1])
	// Output: true
}

func ExampleParseEstimator() {
	for _, s := range []string{"exact", "projection:4", "es", "projection:0"} {
		e, err := metaopt.ParseEstimator(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(e, e.Method(), e.NeedsGradient())
	}
	// Output:
	// exact adam true
	// projection:4 adam true
	// es es false
	// metaopt: estimator "projection:0": direction count Ω = 0 must be ≥ 1
}
