package stages

import "rulescape/pipelines"

// The synthetic stages of `rulescape loadtest`. No campaign file can
// name them (pipelines never plans them): the loadtest command builds
// plans of them to measure the workflows, the workers and the store, and
// every worker runs their units (activities.Register), so workers in
// other processes take part. Their units are pipelines.AnalysisUnits with
// Stage set to one of them and LoadtestSettings as settings.
const (
	// StageLoadtest is the train-like stage: many independent units, each
	// sleeping and committing one tiny dataset.
	StageLoadtest pipelines.StageName = "loadtest"
	// StageLoadtestAnalysis is the analysis-like stage: each unit reads
	// the datasets of some loadtest units (their digests enter its keys).
	StageLoadtestAnalysis pipelines.StageName = "loadtest-analysis"
)

// LoadtestKind is the dataset kind of the synthetic units.
const LoadtestKind = "loadtest"

// LoadtestVersions are the engine versions of the synthetic stages.
var loadtestVersions = Versions{StageLoadtest: "loadtest-1", StageLoadtestAnalysis: "loadtest-1"}

// WithLoadtest returns v with the versions of the synthetic stages added
// (a copy; v is not changed).
func (v Versions) WithLoadtest() Versions {
	out := make(Versions, len(v)+len(loadtestVersions))
	for k, s := range v {
		out[k] = s
	}
	for k, s := range loadtestVersions {
		if _, ok := out[k]; !ok {
			out[k] = s
		}
	}
	return out
}

// IsLoadtest reports whether stage is one of the synthetic stages.
func IsLoadtest(stage pipelines.StageName) bool {
	return stage == StageLoadtest || stage == StageLoadtestAnalysis
}

// LoadtestSettings are the settings of a synthetic unit.
type LoadtestSettings struct {
	// SleepMS is how long the unit sleeps before committing its dataset.
	SleepMS int64 `json:"sleep_ms"`
	// Run tells runs apart: a new value gives new content keys, so every
	// unit computes; the same value makes a second run all cache hits.
	Run string `json:"run"`
	// Index is the unit's index in its stage.
	Index int `json:"index"`
}
