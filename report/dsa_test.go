package report

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"rulescape/schemas"
)

// withDSA adds a completed dsa stage to d: operators and pair rows for the
// synthetic campaign's six networks (two rules × three seeds), networks of
// one rule closer, and the rule-comparison rows of dsa.
func withDSA(d *Data) {
	const task = "gonogo"
	rules := []string{"discovered", "miconi"}
	d.Manifest.Stages["dsa"] = "completed"
	for i := range 6 {
		d.DSAOperators = append(d.DSAOperators, schemas.DSAOperatorRow{Task: task, Rule: rules[i/3], Seed: int64(i%3 + 1), Network: "final",
			Delays: 10, DelayInterval: 1, Rank: 2, Effective: 2, R2: 0.99,
			EigenRe: []float64{0.9, 0.9}, EigenIm: []float64{0.1 * float64(i/3+1), -0.1 * float64(i/3+1)}, Singular: []float64{2, 1},
			A: []float64{0.9, -0.1, 0.1, 0.9}})
	}
	for i := range 6 {
		for j := i + 1; j < 6; j++ {
			v := 0.3 + 0.01*float64(i+j)
			if i/3 == j/3 {
				v = 0.05
			}
			for _, m := range []string{"dsa", "dsa_frobenius", "spectral"} {
				d.DSAPairs = append(d.DSAPairs, schemas.DSAPairRow{Task: task, Method: m, ARule: rules[i/3], ASeed: int64(i%3 + 1),
					BRule: rules[j/3], BSeed: int64(j%3 + 1), ANetwork: "final", BNetwork: "final", Value: v, PValue: math.NaN()})
			}
		}
	}
	d.DSAPairs = append(d.DSAPairs,
		schemas.DSAPairRow{Task: task, Method: "within_vs_between:dsa", ARule: "*", BRule: "*", ANetwork: "final", BNetwork: "final",
			Value: 0.27, PValue: 0.04, Permutations: 100},
		schemas.DSAPairRow{Task: task, Method: "same_seed_between:dsa", ARule: "*", BRule: "*", ANetwork: "final", BNetwork: "final",
			Value: 0.31, PValue: math.NaN()})
}

// TestDSAMatrices checks the matrix of one method against the rows: rule
// then seed order, symmetric, zero diagonal, the summaries picked up.
func TestDSAMatrices(t *testing.T) {
	d := synthetic()
	withDSA(d)
	got := DSAMatrices(d.DSAPairs, "dsa")
	if len(got) != 1 || len(got[0].Networks) != 6 || got[0].Within == nil || got[0].SameSeed == nil {
		t.Fatalf("DSAMatrices: %+v", got)
	}
	m := got[0]
	for i, id := range m.Networks {
		if want := (NetworkID{[]string{"discovered", "miconi"}[i/3], int64(i%3 + 1)}); id != want {
			t.Errorf("network %d is %v, want %v", i, id, want)
		}
		for j := range 6 {
			want := 0.3 + 0.01*float64(i+j)
			switch {
			case i == j:
				want = 0
			case i/3 == j/3:
				want = 0.05
			}
			if v := m.D[i*6+j]; !near(v, want, 1e-15) {
				t.Errorf("D[%d][%d] = %v, want %v", i, j, v, want)
			}
		}
	}
	if s := DSAMatrices(d.DSAPairs, "spectral"); len(s) != 1 || s[0].Within != nil {
		t.Errorf("spectral: %+v, want one matrix without a test row", s)
	}
}

// TestBuildDSA builds the report of a campaign with a dsa stage: its
// section has one figure per task whose caption states the scale, the
// order, the test and the same-seed mean, with a drawn PNG.
func TestBuildDSA(t *testing.T) {
	d := synthetic()
	withDSA(d)
	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	var sec *Section
	for i := range rep.Sections {
		if rep.Sections[i].ID == "dsa" {
			sec = &rep.Sections[i]
		}
	}
	if sec == nil || len(sec.Figures) != 1 {
		t.Fatalf("dsa section %+v, want one figure", sec)
	}
	f := sec.Figures[0]
	for _, w := range []string{
		"colour from 0 (black) to 0.37 (white)",
		"discovered/1, discovered/2, discovered/3, miconi/1",
		"Mean between-rule − mean within-rule dsa over pairs of different seeds 0.27, seed-stratified permutation p = 0.04 (100 permutations)",
		"Mean dsa of same-seed networks of different rules (shared W⁰) 0.31",
		"No within- vs between-rule test of spectral",
		"eigenvalues of the 6 networks",
	} {
		if !strings.Contains(f.Caption, w) {
			t.Errorf("caption lacks %q:\n%s", w, f.Caption)
		}
	}
	files := map[string][]byte{}
	for _, file := range rep.Files {
		files[file.Name] = file.Data
	}
	checkPNG(t, f.PNG, files[f.PNG], 8)
	checkSVG(t, f.SVG, files[f.SVG], 20)
	// Without the stage the section says so.
	d = synthetic()
	rep, err = Build(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Sections {
		if s.ID == "dsa" && (len(s.Figures) != 0 || s.Note != fmt.Sprintf("The campaign has no %s stage.", "dsa")) {
			t.Errorf("no dsa stage: section %+v", s)
		}
	}
}
