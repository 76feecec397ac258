package pipelines

import (
	"os"
	"testing"
)

// TestShipped parses and plans every shipped campaign and checks its units.
func TestShipped(t *testing.T) {
	for _, tc := range []struct {
		file                     string
		metaopt, train, analysis int
		stages                   []StageName
	}{
		{"quickstart.yaml", 1, 1 * 3 * 3, 9 + 1 + 1 + 9 + 1 + 1 + 1, // fixedpoints, rsa, landscape (one per task), sensitivity, dsa, atlas, report
			[]StageName{StageMetaopt, StageTrain, StageFixedPoints, StageRSA, StageLandscape, StageSensitivity, StageDSA, StageAtlas, StageReport}},
		{"miconi2017.yaml", 0, 8, 1, []StageName{StageTrain, StageReport}},
		{"rules-vs-solutions.yaml", 2, 2 * 5 * 20, 200 + 2 + 2 + 200 + 1,
			[]StageName{StageMetaopt, StageTrain, StageFixedPoints, StageRSA, StageLandscape, StageSensitivity, StageReport}},
		{"rules-vs-solutions-full.yaml", 3, 5*20 + 4*20, 180 + 2 + 2 + 180 + 2 + 2 + 1, // dnms: 2 discovered + 3; cdi: 1 discovered + 3
			[]StageName{StageMetaopt, StageTrain, StageFixedPoints, StageRSA, StageLandscape, StageSensitivity, StageDSA, StageAtlas, StageReport}},
		{"solution-atlas.yaml", 0, 10 * 100, 1000 + 1 + 1 + 1 + 1, // fixedpoints, landscape, dsa, atlas, report
			[]StageName{StageTrain, StageFixedPoints, StageLandscape, StageDSA, StageAtlas, StageReport}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			p, err := c.Plan()
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Metaopt) != tc.metaopt || len(p.Train) != tc.train || len(p.Analysis) != tc.analysis {
				t.Errorf("units: %d metaopt, %d train, %d analysis; want %d, %d, %d",
					len(p.Metaopt), len(p.Train), len(p.Analysis), tc.metaopt, tc.train, tc.analysis)
			}
			var names []StageName
			for _, s := range p.Stages {
				names = append(names, s.Name)
			}
			if len(names) != len(tc.stages) {
				t.Fatalf("stages %v, want %v", names, tc.stages)
			}
			for i := range names {
				if names[i] != tc.stages[i] {
					t.Errorf("stages %v, want %v", names, tc.stages)
				}
			}
			if tc.file == "rules-vs-solutions.yaml" {
				j := p.Metaopt[1]
				if j.Settings.Task != "cdi" || j.Params.Task != "cdi" || j.Settings.Seed != 2 || j.Settings.Iters != 80 ||
					j.Settings.Estimator != "es" || j.Settings.Trials != 1000 || j.Params.N != 30 || j.Params.Eta != 1 {
					t.Errorf("second job (merged settings): %+v", j.Settings)
				}
			}
			if tc.file == "rules-vs-solutions-full.yaml" {
				k3 := p.Metaopt[0]
				if k3.Settings.Task != "dnms" || k3.Settings.Trials != 1000 || k3.Params.K != 3 || k3.Settings.Iters != 12 || k3.Settings.Learners != 4 {
					t.Errorf("the K = L = 3 dnms job: settings %+v, params %+v", k3.Settings, k3.Params)
				}
				k5 := p.Metaopt[1]
				if k5.Params.K != 5 || k5.Params.L != 5 || (k5.Params.Precision != "" && k5.Params.Precision != "f64") || k5.Settings.Estimator != "adjoint" ||
					k5.Settings.Trials != 1000 || k5.Params.N != 200 {
					t.Errorf("the K = L = 5 job: settings %+v, params %+v", k5.Settings, k5.Params)
				}
				cdi := p.Metaopt[2]
				if cdi.Settings.Task != "cdi" || cdi.Settings.Trials != 2000 || cdi.Params.K != 3 || (cdi.Params.Precision != "" && cdi.Params.Precision != "f64") {
					t.Errorf("the cdi job: settings %+v, params %+v", cdi.Settings, cdi.Params)
				}
				for _, u := range p.Train {
					if u.Params.Precision != "f32" || u.Params.N != 200 {
						t.Errorf("train unit %s: precision %q, N = %d; want f32, 200", u.ID, u.Params.Precision, u.Params.N)
					}
				}
			}
			if tc.file == "solution-atlas.yaml" {
				st := c.Stages
				if len(st.DSA.Distances) != 1 || st.DSA.Distances[0] != DistanceSpectral || st.Atlas.Weight(DistanceDSA) != 0 ||
					st.Atlas.Weight(DistanceSpectral) != 1 || st.Atlas.Weight(DistanceTopology) != 1 {
					t.Errorf("dsa distances %v, atlas weights %v: want the spectral distance only, weighed with topology", st.DSA.Distances, st.Atlas.Weights)
				}
				if s := p.Stage(StageAtlas); len(s.After) != 2 {
					t.Errorf("atlas runs after %v, want dsa and landscape", s.After)
				}
			}
			if c.Defaults.Trials != p.Train[0].Params.Trials || c.Defaults.Preset != "miconi2017" {
				t.Errorf("defaults %+v", c.Defaults)
			}
			if len(p.CampaignID) != 16 {
				t.Errorf("campaign ID %q", p.CampaignID)
			}
		})
	}
}
