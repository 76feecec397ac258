package stages_test

import (
	"math"
	"strings"
	"testing"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// atlasCase returns dsa_pairs and landscape_pairs rows of 3 rules × 4
// seeds whose rules a and b share one tight group of dynamics and rule c
// another, far away.
func atlasCase() ([]schemas.DSAPairRow, []schemas.LandscapePairRow) {
	type net struct {
		rule string
		seed int64
		x    float64
	}
	var nets []net
	for _, r := range []string{"a", "b", "c"} {
		for s := int64(1); s <= 4; s++ {
			x := 0.1 * float64(s)
			if r == "c" {
				x += 10
			}
			nets = append(nets, net{r, s, x})
		}
	}
	var dp []schemas.DSAPairRow
	var lp []schemas.LandscapePairRow
	for i := range nets {
		for j := i + 1; j < len(nets); j++ {
			a, b := nets[i], nets[j]
			d := math.Abs(a.x - b.x)
			dp = append(dp, schemas.DSAPairRow{Task: "gonogo", Method: "spectral", ARule: a.rule, ASeed: a.seed, ANetwork: "final",
				BRule: b.rule, BSeed: b.seed, BNetwork: "final", Value: d, PValue: math.NaN()})
			lp = append(lp, schemas.LandscapePairRow{Task: "gonogo", Method: "topology", ARule: a.rule, ASeed: a.seed, ANetwork: "final",
				BRule: b.rule, BSeed: b.seed, BNetwork: "final", Value: 2 * d, PValue: math.NaN()})
		}
	}
	dp = append(dp, schemas.DSAPairRow{Task: "gonogo", Method: "within_vs_between:spectral", ARule: "*", BRule: "*", Value: 1, PValue: 0.5})
	return dp, lp
}

func atlasSettings(w map[string]float64) pipelines.AtlasStage {
	return pipelines.AtlasStage{Enabled: true, Weights: w, MinFamilies: 2, MaxFamilies: 5, MinSilhouette: 0.25,
		Resamples: 10, Fraction: 0.8, Permutations: 99}
}

func TestAtlasFindsPlantedFamilies(t *testing.T) {
	dp, lp := atlasCase()
	st := atlasSettings(map[string]float64{"spectral": 1, "topology": 1, "dsa": 0})
	rows, err := stages.Atlas(t.Context(), "c1", "gonogo", stages.AtlasMeasures(st, dp, lp), st)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows.Networks) != 12 || len(rows.Families) != 2 || len(rows.Rules) != 6 {
		t.Fatalf("%d networks, %d families, %d rule rows; want 12, 2, 6", len(rows.Networks), len(rows.Families), len(rows.Rules))
	}
	medoids := 0
	for _, r := range rows.Networks {
		want := int32(0)
		if r.Rule == "c" {
			want = 1
		}
		if r.Family != want {
			t.Errorf("%s seed %d in family %d, want %d", r.Rule, r.Seed, r.Family, want)
		}
		if r.Medoid {
			medoids++
			f := rows.Families[r.Family]
			if f.MedoidRule != r.Rule || f.MedoidSeed != r.Seed {
				t.Errorf("family %d's medoid is %s/%d, the network rows say %s/%d", r.Family, f.MedoidRule, f.MedoidSeed, r.Rule, r.Seed)
			}
		}
		if !(r.Silhouette > 0.9) {
			t.Errorf("%s seed %d: silhouette %g, want > 0.9 for well-separated families", r.Rule, r.Seed, r.Silhouette)
		}
	}
	if medoids != 2 {
		t.Errorf("%d medoids, want one per family", medoids)
	}
	for _, f := range rows.Families {
		if f.Stability != 1 || f.CramersV != 1 || !(f.PValue < 0.05) || f.Permutations != 99 {
			t.Errorf("family %d: stability %g, V %g, p %g (%d permutations); want 1, 1, < 0.05, 99", f.Family, f.Stability, f.CramersV, f.PValue, f.Permutations)
		}
	}
	for _, r := range rows.Rules {
		want := int32(4)
		if (r.Rule == "c") != (r.Family == 1) {
			want = 0
		}
		if r.Count != want || r.Share != float64(want)/4 {
			t.Errorf("rule %s family %d: count %d share %g, want %d", r.Rule, r.Family, r.Count, r.Share, want)
		}
	}
}

func TestAtlasErrors(t *testing.T) {
	dp, lp := atlasCase()
	st := atlasSettings(map[string]float64{"spectral": 1, "topology": 1})
	for _, tc := range []struct {
		name     string
		measures []stages.AtlasMeasure
		st       pipelines.AtlasStage
		want     string
	}{
		{"missing pairs", stages.AtlasMeasures(st, dp, lp[:10]), st, "topology: 10 pair distances for 12 networks"},
		{"no weights", nil, atlasSettings(map[string]float64{"spectral": 0}), "weights"},
		{"fraction", stages.AtlasMeasures(st, dp, lp), func() pipelines.AtlasStage { s := st; s.Fraction = 1.5; return s }(), "fraction"},
		{"too few", stages.AtlasMeasures(st, dp[:1], nil), atlasSettings(map[string]float64{"spectral": 1}), "2 networks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stages.Atlas(t.Context(), "c1", "gonogo", tc.measures, tc.st)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !stages.Invalid(err) {
				t.Fatalf("error %v, want an Invalid error containing %q", err, tc.want)
			}
		})
	}
}
