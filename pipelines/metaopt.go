package pipelines

import (
	"fmt"
	"runtime"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/core/train"
)

// MetaoptProblem assembles the meta-objective and the optimizer settings of
// a meta-optimization of setup's rule (meta.Spec), as `rulescape metaopt` does: setup
// holds the task, network, learner, horizon (Trials) and initial rule; s
// the optimizer's settings (s.Task is not used); workers bounds the learners
// run in parallel (0 = all cores; results do not depend on it). With
// s.Scale "auto", call AutoScale on the objective before optimizing.
// Start the optimizer at obj.Params(setup.Rule).
func MetaoptProblem(setup *train.Setup, s MetaoptSpec, workers int) (*meta.Learners, metaopt.Settings, error) {
	return meta.Spec{Setup: setup, Estimator: s.Estimator, Dist: meta.Distribution(s.Dist), Gamma: s.Gamma,
		LogEta: s.LogEta, FDStep: s.FDStep, Optimizer: metaopt.Settings{
			Iters: s.Iters, Learners: s.Learners, Workers: workers,
			Seed: s.Seed, FixedSeeds: s.FixedSeeds, HeldOut: s.HeldOut, EvalEvery: s.EvalEvery,
			LR: s.LR, ClipNorm: s.ClipNorm, LearnerClipNorm: s.LearnerClip,
			ES:  metaopt.ESSettings{Pairs: s.ESPairs, Sigma: s.ESSigma},
			CMA: metaopt.CMASettings{Population: s.CMAPopulation, Sigma: s.CMASigma},
		}}.Objective()
}

// Problem returns the job's meta-objective, its optimizer settings and the
// initial parameters (see MetaoptProblem). It does not auto-scale: with
// Settings.Scale "auto", call AutoScale first and then obj.Params again.
//
// Its learners' estimated peak memory (MetaoptBytes, with workers cores)
// must fit the memory budget of this machine (LimitsFromEnv), else the
// error is a *MemoryError: the worker's guard against a job planned for a
// bigger one.
func (j *MetaoptJob) Problem(workers int) (*meta.Learners, metaopt.Settings, error) {
	setup, err := j.Setup()
	if err != nil {
		return nil, metaopt.Settings{}, err
	}
	lim, err := LimitsFromEnv()
	if err != nil {
		return nil, metaopt.Settings{}, err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	e := MetaoptBytes(ShapeOf(setup), &j.Settings, workers)
	if err := lim.CheckMemory(j.ID, e, "lower "+e.Key+" or the workers"); err != nil {
		return nil, metaopt.Settings{}, err
	}
	obj, s, err := MetaoptProblem(setup, j.Settings, workers)
	if err != nil {
		return nil, metaopt.Settings{}, fmt.Errorf("pipelines: %s: %w", j.ID, err)
	}
	return obj, s, nil
}
