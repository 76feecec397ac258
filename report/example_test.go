package report_test

import (
	"fmt"
	"strings"

	"rulescape/manifest"
	"rulescape/report"
	"rulescape/schemas"
)

// Build a report from data already loaded: one rule's learning curves.
// The sections of stages the campaign did not run say so.
func ExampleBuild() {
	d := &report.Data{Manifest: manifest.Manifest{Campaign: "0123456789abcdef", Name: "demo",
		Stages: map[string]string{"train": "completed", "report": "running"}}}
	for h := range int64(100) {
		e := 1 / float64(h+1)
		d.LearningCurves = append(d.LearningCurves, schemas.LearningCurveRow{Task: "gonogo", Rule: "miconi", Seed: 1, Trial: h, Error: e})
	}
	rep, err := report.Build(d)
	if err != nil {
		panic(err)
	}
	for _, s := range rep.Sections[:3] {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %d figures. %s", s.ID, len(s.Figures), s.Note)))
	}
	last := rep.Files[len(rep.Files)-1]
	fmt.Println(len(rep.Files), "files, the last", last.Name)
	// Output:
	// learning-curves: 1 figures.
	// metaopt: 0 figures. The campaign has no metaopt stage.
	// fixed-points: 0 figures. The campaign has no fixedpoints stage.
	// 3 files, the last index.html
}

// Count the fixed points of two networks by index, slow points apart.
func ExampleIndexCounts() {
	rows := []schemas.LandscapeRow{
		{Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Input: "none", Index: 0},
		{Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Input: "none", Index: 0},
		{Task: "dnms", Rule: "miconi", Seed: 1, Network: "final", Input: "none", Index: 1},
		{Task: "dnms", Rule: "miconi", Seed: 2, Network: "final", Input: "none", Index: 0},
		{Task: "dnms", Rule: "miconi", Seed: 2, Network: "final", Input: "none", Index: 0, Slow: true},
	}
	for _, c := range report.IndexCounts(rows, nil) {
		fmt.Println(c.Rule, c.Seeds, c.Counts, "mean", c.Mean, "max", c.Max, "slow", c.Slow)
	}
	// Output: miconi [1 2] [[2 1 0 0] [1 0 0 0]] mean [1.5 0.5 0 0] max [2 1 0 0] slow 1
}

// The topology distance matrix of three networks, ordered by rule, then seed.
func ExampleTopologyMatrices() {
	pair := func(ar string, as int64, br string, bs int64, v float64) schemas.LandscapePairRow {
		return schemas.LandscapePairRow{Task: "dnms", Method: "topology", ARule: ar, ASeed: as, BRule: br, BSeed: bs,
			ANetwork: "final", BNetwork: "final", Value: v}
	}
	m := report.TopologyMatrices([]schemas.LandscapePairRow{pair("np", 1, "miconi", 1, 2), pair("miconi", 1, "miconi", 2, 0), pair("miconi", 2, "np", 1, 1)})[0]
	fmt.Println(m.Networks)
	for i := range m.Networks {
		fmt.Println(m.D[3*i : 3*i+3])
	}
	// Output:
	// [{miconi 1} {miconi 2} {np 1}]
	// [0 0 2]
	// [0 0 1]
	// [2 1 0]
}
