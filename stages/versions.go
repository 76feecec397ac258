package stages

import (
	"fmt"

	"rulescape/pipelines"
)

// Versions maps each stage to its engine version. The version enters the
// content key of every dataset the stage's units write, so results of
// another version of a stage are never reused.
type Versions map[pipelines.StageName]string

// Current returns the engine version of every stage of this build. Raise
// a stage's number, with a note of why, whenever its numbers change for
// the same settings and inputs (the digest test in digest_test.go says
// when); the datasets of that stage and of every stage downstream of it
// are then recomputed, and `rulescape explain` names the version as the
// reason.
func Current() Versions {
	return Versions{
		// 2: the first per-stage versions (they replace engine 0.1.0,
		// which every stage shared).
		// Every stage that simulates networks (all but report) was raised
		// once more when rnn.Network.Run moved from math.Tanh to the
		// vectorised kern.Tanh (within 2 ulp of it): trajectories, and so
		// every number computed from them, change in the last bits.
		pipelines.StageMetaopt:     "metaopt-6",     // 3: metaopt_history without wall_seconds (schema version 2); 4: kern.Tanh; 5: projection directions drawn in the scaled coordinates; 6: the history's final row (schema version 3)
		pipelines.StageTrain:       "train-3",       // 3: kern.Tanh
		pipelines.StageFixedPoints: "fixedpoints-4", // 3: kern.Tanh (initial states come from simulated trials); 4: fixed_points schema 3 (measures, deflation, completeness), eigenvectors always computed
		pipelines.StageRSA:         "rsa-4",         // 3: seed-stratified permutation test and same-seed summaries (method 2) under the new scheme; 4: kern.Tanh
		pipelines.StageLandscape:   "landscape-3",   // 3: kern.Tanh
		pipelines.StageSensitivity: "sensitivity-3", // 3: kern.Tanh
		pipelines.StageDSA:         "dsa-2",         // 2: kern.Tanh (merged after dsa-1 was recorded with math.Tanh)
		pipelines.StageAtlas:       "atlas-1",
		pipelines.StageReport:      "report-4", // 3: the trials-to-criterion figure; 4: colour bars, labelled rule blocks and legends clear of the data in every figure
	}
}

// TrainF32 is the version of the float32 learner's own arithmetic. It
// follows the train stage's version in the keys (and datasets) of the units
// trained with precision: f32 ("train-3+f32-2"), which the float32 kernels
// change on their own while float64 units keep their bits.
//
// 2: the eligibility as AᵀB summed in blocks of 128 rows, the 16-lane
// recurrent mat-vec, the input drive as one product (docs/PERFORMANCE.md).
const TrainF32 = "f32-2"

// Of returns the version of a stage, or an error naming the stage when v
// has none (a stage added to pipelines without a version here).
func (v Versions) Of(stage pipelines.StageName) (string, error) {
	s, ok := v[stage]
	if !ok || s == "" {
		return "", fmt.Errorf("stages: stage %q has no engine version: add it to stages.Current", stage)
	}
	return s, nil
}

// With returns a copy of v with the version of stage replaced: what a test
// uses to stand for a change to one stage's code.
func (v Versions) With(stage pipelines.StageName, version string) Versions {
	out := make(Versions, len(v))
	for k, s := range v {
		out[k] = s
	}
	out[stage] = version
	return out
}
