package report

import (
	"rulescape/manifest"
	"rulescape/schemas"
)

// Stage is one stage's progress as the campaign workflow recorded it: the
// report's table of timings and cache hits. Seconds is the stage's wall
// time; it is 0 for a stage that did not run.
type Stage struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Done      int     `json:"done"`
	Total     int     `json:"total"`
	CacheHits int     `json:"cache_hits"`
	Seconds   float64 `json:"seconds"`
}

// Network is the summary of one trained network the report uses (the
// weights themselves are not needed).
type Network struct {
	Task              string
	Rule              string
	Seed              int64
	N                 int
	Trials            int64
	TrialsToCriterion int64 // −1 if never met
}

// MetaoptRun is the history of one metaopt job.
type MetaoptRun struct {
	Unit string // e.g. "metaopt/discovered"
	Rule string // the rule entry the job's Θ becomes
	K, L int    // orders of the rule space; Θ has (K+1)(L+1) values
	Rows []schemas.MetaoptRow
}

// Data is everything a report is built from: the campaign's manifest, the
// rows of every dataset it lists, and optionally the stage timings of the
// run that wrote it.
type Data struct {
	Manifest       manifest.Manifest
	LearningCurves []schemas.LearningCurveRow
	Networks       []Network
	Metaopt        []MetaoptRun
	Trajectories   []schemas.TrajectoryRow
	FixedPoints    []schemas.FixedPointRow
	RDMs           []schemas.RDMRow
	RSAPairs       []schemas.RSAPairRow
	Sensitivity    []schemas.SensitivityRow
	Landscape      []schemas.LandscapeRow
	LandscapePairs []schemas.LandscapePairRow
	DSAOperators   []schemas.DSAOperatorRow
	DSAPairs       []schemas.DSAPairRow
	AtlasNetworks  []schemas.AtlasNetworkRow
	AtlasFamilies  []schemas.AtlasFamilyRow
	AtlasRules     []schemas.AtlasRuleRow
	// Stages are the timings and cache hits of the run; nil when unknown
	// (the report then shows the manifest's statuses only).
	Stages []Stage
}

// sources returns the object keys of the manifest's datasets of kind.
func (d *Data) sources(kind schemas.Kind) []string {
	var out []string
	for _, e := range d.Manifest.Datasets {
		if e.Kind == string(kind) {
			out = append(out, e.Ref.Key)
		}
	}
	return out
}
