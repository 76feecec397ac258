package pipelines

import (
	"strings"
	"testing"
)

// TestParseAtlas checks the atlas stage's weights against the other stages
// and its bad settings, each refused in one line naming the field.
func TestParseAtlas(t *testing.T) {
	full := "  fixedpoints: {}\n  landscape: {}\n  dsa: {}\n"
	tests := []struct {
		name   string
		stages string
		want   map[string]float64 // the completed weights; nil when an error is expected
		field  string             // the error's field
		msg    string             // a substring of the error
	}{
		{"defaults follow the stages", full + "  atlas: {}\n", map[string]float64{"dsa": 1, "spectral": 1, "topology": 1}, "", ""},
		{"spectral only", "  dsa: {distances: [spectral]}\n  atlas:\n", map[string]float64{"dsa": 0, "spectral": 1, "topology": 0}, "", ""},
		{"explicit zero on an absent stage", "  dsa: {}\n  atlas: {weights: {topology: 0, dsa: 2}}\n", map[string]float64{"dsa": 2, "spectral": 1, "topology": 0}, "", ""},
		{"absent landscape", "  dsa: {}\n  atlas: {weights: {topology: 1}}\n", nil, "stages.atlas.weights.topology", "the landscape stage is off"},
		{"absent dsa", full[:len(full)-len("  dsa: {}\n")] + "  atlas: {weights: {spectral: 1}}\n", nil, "stages.atlas.weights.spectral", "the dsa stage is off"},
		{"dsa not computed", "  dsa: {distances: [spectral]}\n  atlas: {weights: {dsa: 1}}\n", nil, "stages.atlas.weights.dsa", "computes distances: [spectral] only"},
		{"negative weight", full + "  atlas: {weights: {dsa: -1}}\n", nil, "stages.atlas.weights.dsa", "out of range"},
		{"all zero", full + "  atlas: {weights: {dsa: 0, spectral: 0, topology: 0}}\n", nil, "stages.atlas.weights", "all 0"},
		{"no distance at all", "  atlas: {}\n", nil, "stages.atlas.weights", "all 0"},
		{"unknown distance", full + "  atlas: {weights: {rsa: 1}}\n", nil, "stages.atlas.weights", `"rsa" is not a distance`},
		{"families", full + "  atlas: {min_families: 5, max_families: 3}\n", nil, "stages.atlas.max_families", "max_families = 3"},
		{"min families", full + "  atlas: {min_families: 1}\n", nil, "stages.atlas.min_families", "min_families = 1"},
		{"fraction", full + "  atlas: {fraction: 1}\n", nil, "stages.atlas.fraction", "fraction = 1"},
		{"resamples", full + "  atlas: {resamples: 0}\n", nil, "stages.atlas.resamples", "resamples = 0"},
		{"permutations", full + "  atlas: {permutations: -2}\n", nil, "stages.atlas.permutations", "permutations = -2"},
		{"dsa distances unknown", "  dsa: {distances: [procrustes]}\n", nil, "stages.dsa.distances", `"procrustes" is not a distance`},
		{"dsa distances empty", "  dsa: {distances: []}\n", nil, "stages.dsa.distances", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("t.yaml", []byte(base+"stages:\n"+tt.stages))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("parsed, want an error at %s", tt.field)
				}
				msg := err.Error()
				if strings.Count(strings.TrimSpace(msg), "\n") > 1 || !strings.Contains(msg, tt.field) || !strings.Contains(msg, tt.msg) {
					t.Fatalf("error %q: want one line at %s containing %q", msg, tt.field, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.want {
				if got := c.Stages.Atlas.Weights[k]; got != v {
					t.Errorf("weight %s = %v, want %v", k, got, v)
				}
			}
		})
	}
}

// TestDSADistancesKeepKeys checks that a dsa stage listing both distances
// plans the same units, and so the same campaign ID, as one that does not
// set distances, and that spectral only changes it.
func TestDSADistancesKeepKeys(t *testing.T) {
	id := func(stages string) string {
		t.Helper()
		c, err := Parse("t.yaml", []byte(base+"stages:\n"+stages))
		if err != nil {
			t.Fatal(err)
		}
		return c.ID()
	}
	plain := id("  dsa: {}\n")
	if both := id("  dsa: {distances: [spectral, dsa]}\n"); both != plain {
		t.Errorf("distances: [spectral, dsa] gives campaign %s, the default %s", both, plain)
	}
	if spec := id("  dsa: {distances: [spectral]}\n"); spec == plain {
		t.Errorf("distances: [spectral] keeps campaign %s", spec)
	}
}

// TestPlanAtlas checks the atlas units: one per task, after the stages
// whose distances weigh, reading their units.
func TestPlanAtlas(t *testing.T) {
	c, err := Parse("t.yaml", []byte(base+"stages:\n  fixedpoints: {}\n  landscape: {}\n  dsa: {distances: [spectral]}\n  atlas: {weights: {topology: 0}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	s := p.Stage(StageAtlas)
	if s == nil || len(s.Units) != 1 || s.Units[0] != "atlas/dnms" {
		t.Fatalf("atlas stage %+v, want one unit atlas/dnms", s)
	}
	if len(s.After) != 1 || s.After[0] != StageDSA {
		t.Errorf("atlas runs after %v, want [dsa]", s.After)
	}
	var u *AnalysisUnit
	for i := range p.Analysis {
		if p.Analysis[i].ID == "atlas/dnms" {
			u = &p.Analysis[i]
		}
	}
	if u == nil || len(u.Inputs) != 1 || u.Inputs[0] != "dsa/dnms" {
		t.Fatalf("atlas unit %+v, want inputs [dsa/dnms]", u)
	}
	names := []StageName{}
	for _, s := range p.Stages {
		names = append(names, s.Name)
	}
	if got := names[len(names)-2:]; got[0] != StageAtlas || got[1] != StageReport {
		t.Errorf("stages end %v, want atlas then report", got)
	}
}
