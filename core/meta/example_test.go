package meta_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"

	"rulescape/core/meta"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// Evaluate a case file: J, the exact gradient and a finite-difference check.
func ExampleGradient() {
	f, err := os.Open("testdata/case-plain.json")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	c, err := meta.ReadCase(f)
	if err != nil {
		log.Fatal(err)
	}
	p, rule, err := meta.FromCase(c)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	g, err := meta.Gradient(ctx, p, rule, meta.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fd, err := meta.FiniteDifference(ctx, p, rule, 1e-6, meta.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("J = %.6f, ∂J/∂θ₀₀ = %.6f, rel. error vs fd < 1e-6: %v\n",
		g.J, g.Grad[0], meta.RelError(g.Grad, fd.Grad) < 1e-6)
	// Output: J = -9.931907, ∂J/∂θ₀₀ = 8.196113, rel. error vs fd < 1e-6: true
}

// Estimate the gradient of a learner on a short DNMS from Ω = 4 random
// directions: one primal pass, four tangent systems instead of P = 16.
func ExampleProjection() {
	task := &tasks.DNMS{Steps: 50, Stim1End: 10, Stim2Start: 20, Stim2End: 30, Response: 10,
		Target: 0.98, InputAmp: 1}
	s := train.Miconi2017(task, 10)
	s.Init.N = 20
	s.Learner.WarmupTrials = 0
	p, err := meta.FromSetup(s, 7, 10, 1)
	if err != nil {
		log.Fatal(err)
	}
	res, err := meta.Projection(context.Background(), p, s.Rule, 4, meta.Rademacher,
		rand.New(rand.NewPCG(1, 2)), meta.Options{LogEta: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Grad), "coordinates,", len(res.Samples), "samples")
	// Output: 17 coordinates, 4 samples
}
