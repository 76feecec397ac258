package meta

import (
	"context"
	"math"
	"testing"

	"rulescape/core/metaopt"
	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
	"rulescape/core/train"
)

// goNoGoSetup is a small go/no-go learner (N = 30, T = 150) on which Miconi's
// rule learns within a few hundred trials (core/tasks' learning test).
func goNoGoSetup(t testing.TB, H int) *train.Setup {
	t.Helper()
	task, err := tasks.New("gonogo")
	if err != nil {
		t.Fatal(err)
	}
	if err := tasks.Configure(task, []byte(`{"steps":150,"stim_start":10,"stim_end":60,"response":50}`)); err != nil {
		t.Fatal(err)
	}
	rule, _ := plasticity.Named("zero", 3, 3)
	cfg := plasticity.Defaults()
	cfg.Eta, cfg.Clip, cfg.Loss, cfg.WarmupTrials, cfg.GateStart = 1, 0.01, plasticity.LossMSE, 20, 3
	return &train.Setup{Task: task,
		Init:    rnn.InitConfig{N: 30, G: 1.5, InScale: 1, Readout: rnn.ReadoutUnits, Clamps: []float64{1, 1, -1}},
		Dyn:     rnn.Dynamics{Dt: 1, Tau: 30},
		Perturb: rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4},
		Rule:    rule, Learner: cfg, X0Range: 0.1, Trials: H, Criterion: train.MiconiCriterion}
}

// TestMetaOptimizationImprovesHeldOut is the acceptance test of rule
// discovery: from the zero rule, meta-optimization raises the meta-objective
// of held-out learners (seeds never used for an update) by a margin far
// outside seed noise. The comparison is paired: the same 48 held-out seeds
// under the initial and the final rule. It uses antithetic ES, which on this
// chaotic learning problem climbs fastest per unit of compute
// (docs/METAOPT.md); the gradient estimators are checked against finite
// differences elsewhere.
func TestMetaOptimizationImprovesHeldOut(t *testing.T) {
	if testing.Short() {
		t.Skip("meta-optimization: 50 ES iterations of 16 learners; run without -short")
	}
	const H, heldOut = 150, 48
	obj := &Learners{Setup: goNoGoSetup(t, H), H: H, Gamma: 1, Estimator: metaopt.Estimator{Kind: metaopt.EstimatorES}}
	settings := metaopt.Settings{Method: metaopt.MethodES, Iters: 50, Learners: 8, Seed: 1, LR: 0.1}
	ctx := context.Background()
	seeds := make([]uint64, 4)
	for i := range seeds {
		seeds[i] = settings.LearnerSeed(0, i)
	}
	var err error
	if obj.Scale, err = obj.AutoScale(ctx, seeds, 5); err != nil {
		t.Fatal(err)
	}
	init := obj.Params(obj.Setup.Rule)
	opt, err := metaopt.New(obj, init, settings)
	if err != nil {
		t.Fatal(err)
	}
	res, err := opt.Run(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var diffs []float64
	for j := 0; j < heldOut; j++ {
		seed := settings.HeldOutSeed(j)
		before, err := obj.Eval(ctx, metaopt.Request{Params: init, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		after, err := obj.Eval(ctx, metaopt.Request{Params: res.Params, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		diffs = append(diffs, after.J-before.J)
	}
	var mean, ss float64
	for _, d := range diffs {
		mean += d / heldOut
	}
	for _, d := range diffs {
		ss += (d - mean) * (d - mean)
	}
	se := math.Sqrt(ss / (heldOut - 1) / heldOut)
	rule, _, _ := obj.Rule(res.Params)
	t.Logf("held-out J gain %.2f ± %.2f (paired, %d seeds); Θ = %v", mean, se, heldOut, rule.Matrix())
	if rule.At(3, 3) >= 0 && rule.At(1, 3) >= 0 {
		t.Errorf("the discovered rule has no negative cubic post-synaptic term (Miconi's family): %v", rule.Matrix())
	}
	if mean < 5*se || mean <= 0 {
		t.Fatalf("held-out J changed by %.2f ± %.2f: want an improvement of at least 5 standard errors", mean, se)
	}
}
