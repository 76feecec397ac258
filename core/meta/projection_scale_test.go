package meta

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// TestProjectionScaled: with Options.Scale each directional derivative is
// the derivative along Scale ⊙ u, i.e. ∇_z J · u with ∇_z J = Scale ⊙ ∇_θ J
// (checked against the exact gradient, direction by direction), and Grad is
// the mean of (∇_z J · u) u — an estimate of ∇_z J whose direction noise is
// set by ∇_z J alone, not by the raw θ gradient.
func TestProjectionScaled(t *testing.T) {
	ctx := context.Background()
	o := defaultOpts()
	o.n, o.T, o.H, o.K, o.L = 5, 10, 4, 2, 2
	c := randomCase(21, o)
	c.Trials = c.Trials[:o.H]
	p, rule, err := FromCase(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, logEta := range []bool{false, true} {
		exact, err := Gradient(ctx, p, rule, Options{LogEta: logEta})
		if err != nil {
			t.Fatal(err)
		}
		D := len(exact.Grad)
		scale := make([]float64, D)
		gz := make([]float64, D)
		for i := range scale {
			scale[i] = math.Pow(10, float64(i%5)-2) // 1e-2 … 1e2: the spread AutoScale gives
			gz[i] = scale[i] * exact.Grad[i]
		}
		const omega = 6
		res, err := Projection(ctx, p, rule, omega, Rademacher, rand.New(rand.NewPCG(3, 4)), Options{LogEta: logEta, Scale: scale})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, D)
		for w, u := range res.Directions {
			dot, norm := 0.0, 0.0
			for i := range u {
				dot += gz[i] * u[i]
				norm += math.Abs(gz[i] * u[i])
			}
			if math.Abs(res.Derivs[w]-dot) > 1e-10*norm {
				t.Errorf("logEta %v direction %d: J̇ %.15g, ∇_z J·u %.15g", logEta, w, res.Derivs[w], dot)
			}
			for i := range u {
				want[i] += dot * u[i] / omega
			}
		}
		for i := range want {
			if math.Abs(res.Grad[i]-want[i]) > 1e-10*(math.Abs(want[i])+1e-300)+1e-12 {
				t.Errorf("logEta %v coordinate %d: ĝ %.15g, want %.15g", logEta, i, res.Grad[i], want[i])
			}
		}
	}
	if _, err := Projection(ctx, p, rule, 2, Rademacher, rand.New(rand.NewPCG(1, 1)), Options{Scale: []float64{1}}); err == nil {
		t.Error("a scale of the wrong length was accepted")
	}
}
