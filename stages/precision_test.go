package stages_test

import (
	"context"
	"strings"
	"testing"

	"rulescape/pipelines"
	"rulescape/stages"
)

// TestTrainPrecisionF32 trains the unit of a campaign with precision: f32
// through stages.Train, as a worker does: the rows keep their float64
// columns, the weights are float32 values (W0 the initial network rounded),
// the curve differs from the f64 unit's only by rounding, and the networks
// row loads for the (float64) analyses.
func TestTrainPrecisionF32(t *testing.T) {
	const src = `
name: precision
defaults: {preset: miconi2017, n: 12, eta: 1, clip: 0.01, gain: plain, loss: mse, warmup: 5PRECISION}
tasks:
  - name: gonogo
    task_params: {steps: 40, stim_start: 5, stim_end: 20, response: 15}
rules: [{name: miconi}]
seeds: 1
train: {trials: 30}
`
	rows := map[string]stages.TrainRows{}
	for _, p := range []string{"", "f32"} {
		text := strings.Replace(src, "PRECISION", "", 1)
		if p != "" {
			text = strings.Replace(src, "PRECISION", ", precision: "+p, 1)
		}
		c, err := pipelines.Parse("precision.yaml", []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := c.Plan()
		if err != nil {
			t.Fatal(err)
		}
		u := &plan.Train[0]
		r, err := stages.Train(context.Background(), "precision", u, nil, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stages.LoadNetwork(u, nil, r.Network, stages.Final); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		rows[p] = r
	}
	f64, f32 := rows[""], rows["f32"]
	for k, w := range f32.Network.WFinal {
		if w != float64(float32(w)) {
			t.Fatalf("f32 w_final[%d] = %v is not a float32 value", k, w)
		}
		if w0 := f64.Network.W0[k]; f32.Network.W0[k] != float64(float32(w0)) {
			t.Fatalf("f32 w0[%d] = %v, want the f64 unit's %v rounded", k, f32.Network.W0[k], w0)
		}
	}
	if len(f32.Curve) != len(f64.Curve) {
		t.Fatalf("curves of %d and %d rows", len(f32.Curve), len(f64.Curve))
	}
	same := true
	for h := range f64.Curve {
		a, b := f32.Curve[h].Error, f64.Curve[h].Error
		same = same && a == b
		if d := a - b; d > 1e-4 || d < -1e-4 {
			t.Fatalf("trial %d: error %v in f32, %v in f64", h, a, b)
		}
	}
	if same {
		t.Fatal("the f32 unit's curve equals the f64 unit's bit for bit: not trained in float32")
	}
}
