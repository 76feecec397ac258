package stages_test

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/stages"
)

// A train unit of a campaign file is trained by stages.Train; its networks
// row, rebuilt by stages.LoadNetwork, is what the analysis stages read.
func Example() {
	c, err := pipelines.Parse("example.yaml", []byte(`
name: example
defaults: {preset: miconi2017, n: 8, eta: 1, clip: 0.01, gain: plain, loss: mse, warmup: 5}
tasks:
  - name: gonogo
    task_params: {steps: 40, stim_start: 5, stim_end: 20, response: 15}
rules: [{name: miconi}]
seeds: 1
train: {trials: 20}
`))
	if err != nil {
		panic(err)
	}
	plan, err := c.Plan()
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	u := &plan.Train[0]
	rows, err := stages.Train(ctx, "example", u, nil, 0, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d learning_curves rows, diverged: %v\n", u.ID, len(rows.Curve), rows.Diverged != nil)

	n, err := stages.LoadNetwork(u, nil, rows.Network, stages.Final)
	if err != nil {
		panic(err)
	}
	row, err := stages.Sensitivity(ctx, "example", n, pipelines.SensitivityStage{Perturbations: 2, Scale: 1e-3})
	if err != nil {
		panic(err)
	}
	fmt.Printf("sensitivity of the %s weights: %d singular values, largest first: %v\n",
		row.Network, len(row.SingularValues), row.SingularValues[0] >= row.SingularValues[len(row.SingularValues)-1])
	// Output:
	// train/gonogo/miconi/seed=1: 20 learning_curves rows, diverged: false
	// sensitivity of the final weights: 8 singular values, largest first: true
}
