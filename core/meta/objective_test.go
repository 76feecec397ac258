package meta

import (
	"context"
	"math"
	"testing"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

func tinyLearners(t *testing.T, est string) *Learners {
	t.Helper()
	task := tasks.NewDNMS()
	task.Steps, task.Stim1End, task.Stim2Start, task.Stim2End, task.Response = 60, 12, 24, 36, 12
	s := train.Miconi2017(task, 10)
	s.Init.N = 12
	s.Learner = plasticity.Defaults()
	s.Learner.Eta = 0.5
	s.Rule, _ = plasticity.Named("miconi", 3, 3)
	s.Rule.Set(1, 1, -0.3)
	e, err := metaopt.ParseEstimator(est)
	if err != nil {
		t.Fatal(err)
	}
	l := &Learners{Setup: s, H: 6, Gamma: 0.95, Estimator: e, LogEta: true}
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLearnersGradientAgainstFiniteDifferences checks the adapter end to end:
// the gradient Eval returns for a parameter vector (Θ and log η) matches
// central differences of the J that Eval returns for shifted vectors.
func TestLearnersGradientAgainstFiniteDifferences(t *testing.T) {
	l := tinyLearners(t, "exact")
	params := l.Params(l.Setup.Rule)
	ctx := context.Background()
	ev, err := l.Eval(ctx, metaopt.Request{Params: params, Seed: 7, WantGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Cost != float64(1+l.Dim()) {
		t.Fatalf("cost %v, want %d", ev.Cost, 1+l.Dim())
	}
	const h = 1e-6
	fd := make([]float64, len(params))
	for i := range params {
		var js [2]float64
		for k, s := range []float64{1, -1} {
			q := append([]float64(nil), params...)
			q[i] += s * h
			e, err := l.Eval(ctx, metaopt.Request{Params: q, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			js[k] = e.J
		}
		fd[i] = (js[0] - js[1]) / (2 * h)
	}
	if re := RelError(ev.Grad, fd); re > 1e-6 {
		t.Fatalf("relative error %.3g between Eval's gradient and finite differences\n%v\n%v", re, ev.Grad, fd)
	}
	if math.Abs(fd[len(fd)-1]) < 1e-8 {
		t.Fatal("the log η coordinate should matter")
	}
}

func TestLearnersProjectionUsesEstimatorSeed(t *testing.T) {
	l := tinyLearners(t, "projection:2")
	params := l.Params(l.Setup.Rule)
	ctx := context.Background()
	a, err := l.Eval(ctx, metaopt.Request{Params: params, Seed: 3, EstimatorSeed: 1, WantGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := l.Eval(ctx, metaopt.Request{Params: params, Seed: 3, EstimatorSeed: 1, WantGrad: true})
	c, _ := l.Eval(ctx, metaopt.Request{Params: params, Seed: 3, EstimatorSeed: 2, WantGrad: true})
	if RelError(a.Grad, b.Grad) != 0 {
		t.Fatal("same estimator seed gave different projections")
	}
	if RelError(a.Grad, c.Grad) == 0 {
		t.Fatal("different estimator seeds gave the same projection")
	}
	if a.J != c.J {
		t.Fatal("J must not depend on the estimator seed")
	}
}

func TestLearnersRejectsWrongLength(t *testing.T) {
	l := tinyLearners(t, "fd")
	if _, err := l.Eval(context.Background(), metaopt.Request{Params: []float64{1, 2}, Seed: 1}); err == nil {
		t.Fatal("accepted 2 parameters for a 3×3 rule")
	}
}

// TestLearnersScaledCoordinates checks that with Scale the gradient is taken
// with respect to z (θ = z∘Scale): it matches finite differences in z, and
// Params/Rule invert each other.
func TestLearnersScaledCoordinates(t *testing.T) {
	l := tinyLearners(t, "exact")
	scale, err := l.AutoScale(context.Background(), []uint64{1, 2}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if scale[0] == scale[len(scale)-2] {
		t.Fatal("constant and cubic terms got the same scale")
	}
	l.Scale = scale
	z := l.Params(l.Setup.Rule)
	back, _, _ := l.Rule(z)
	if RelError(back.Theta, l.Setup.Rule.Theta) > 1e-15 {
		t.Fatal("Rule(Params(θ)) ≠ θ")
	}
	ctx := context.Background()
	ev, err := l.Eval(ctx, metaopt.Request{Params: z, Seed: 5, WantGrad: true})
	if err != nil {
		t.Fatal(err)
	}
	fd := make([]float64, len(z))
	for i := range z {
		h := 1e-6 * math.Max(1, math.Abs(z[i]))
		var js [2]float64
		for k, s := range []float64{1, -1} {
			q := append([]float64(nil), z...)
			q[i] += s * h
			e, err := l.Eval(ctx, metaopt.Request{Params: q, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			js[k] = e.J
		}
		fd[i] = (js[0] - js[1]) / (2 * h)
	}
	if re := RelError(ev.Grad, fd); re > 1e-6 {
		t.Fatalf("relative error %.3g in scaled coordinates", re)
	}
}
