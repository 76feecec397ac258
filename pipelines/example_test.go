package pipelines_test

import (
	"fmt"
	"log"

	"rulescape/pipelines"
)

// Parse a campaign and expand it into units.
func ExampleParse() {
	spec := []byte(`
name: demo
defaults: {n: 30, eta: 1, clip: 0.01, gain: plain, loss: mse, warmup: 20}
tasks:
  - name: gonogo
    task_params: {steps: 150, stim_start: 10, stim_end: 60, response: 50}
rules:
  - name: miconi
  - name: discovered
    from: metaopt
    metaopt: {iters: 5, learners: 2, trials: 50}
seeds: 1-2
train: {trials: 600}
stages:
  fixedpoints: {inits: 8}
`)
	c, err := pipelines.Parse("demo.yaml", spec)
	if err != nil {
		log.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range plan.Stages {
		fmt.Printf("%-12s after %v: %d unit(s), first %s\n", s.Name, s.After, len(s.Units), s.Units[0])
	}
	u := plan.Train[0]
	fmt.Println(u.ID, "N =", u.Params.N, "trials =", u.Params.Trials, "rule =", u.Params.Rule)

	// A mistake is reported with its place, the field and the fix.
	_, err = pipelines.Parse("demo.yaml", []byte("name: demo\ntasks: [{name: gonogo}]\nrules: [{name: miconi}]\nseeds: 1-2\ndefaults: {etaa: 1}\n"))
	fmt.Println(err)
	// Output:
	// metaopt      after []: 1 unit(s), first metaopt/discovered
	// train        after [metaopt]: 4 unit(s), first train/gonogo/miconi/seed=1
	// fixedpoints  after [train]: 4 unit(s), first fixedpoints/gonogo/miconi/seed=1
	// report       after [fixedpoints]: 1 unit(s), first report
	// train/gonogo/miconi/seed=1 N = 30 trials = 600 rule = miconi
	// demo.yaml:5:12: defaults.etaa: is not a known key — did you mean "eta"? (valid keys here: preset, n, g, density, in_scale, readout, clamps, dt, tau, perturb, perturb_prob, perturb_amp, perturb_sigma, perturb_start, x0_range, k, l, eta, gain, clip, warmup, alpha_r, loss, alpha_x, tau_e, gate_start, max_weight, precision, criterion_threshold, criterion_window, criterion_fraction, trials)
}
