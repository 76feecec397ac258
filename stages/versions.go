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
		pipelines.StageMetaopt:     "metaopt-3", // 3: metaopt_history without wall_seconds (schema version 2)
		pipelines.StageTrain:       "train-2",
		pipelines.StageFixedPoints: "fixedpoints-2",
		pipelines.StageRSA:         "rsa-3", // 3: seed-stratified permutation test and same-seed summaries (method 2) under the new scheme
		pipelines.StageLandscape:   "landscape-2",
		pipelines.StageSensitivity: "sensitivity-2",
		pipelines.StageDSA:         "dsa-1",
		pipelines.StageReport:      "report-2",
	}
}

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
