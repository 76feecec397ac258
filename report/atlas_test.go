package report

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/plot"

	"rulescape/schemas"
)

// withAtlas adds a completed atlas stage to d: the synthetic campaign's six
// networks in two families, discovered's in family 0 (prototype seed 2)
// and miconi's in family 1 (prototype seed 1) but for miconi seed 3.
func withAtlas(d *Data) {
	const task = "gonogo"
	d.Manifest.Stages["atlas"] = "completed"
	counts := map[string][2]int32{"discovered": {3, 0}, "miconi": {1, 2}}
	for _, rule := range []string{"discovered", "miconi"} {
		for f, c := range counts[rule] {
			d.AtlasRules = append(d.AtlasRules, schemas.AtlasRuleRow{Task: task, Rule: rule, Family: int32(f), Count: c, Share: float64(c) / 3})
		}
	}
	d.AtlasFamilies = []schemas.AtlasFamilyRow{
		{Task: task, Family: 0, Families: 2, Size: 4, Stability: 0.9, MedoidRule: "discovered", MedoidSeed: 2, MedoidNetwork: "final",
			WithinDistance: 0.3, Silhouette: 0.55, Rand: 0.8, CramersV: 0.71, PValue: 0.03, Permutations: 200},
		{Task: task, Family: 1, Families: 2, Size: 2, Stability: 0.45, MedoidRule: "miconi", MedoidSeed: 1, MedoidNetwork: "final",
			WithinDistance: math.NaN(), Silhouette: 0.55, Rand: 0.8, CramersV: 0.71, PValue: 0.03, Permutations: 200},
	}
}

func TestAtlasTables(t *testing.T) {
	d := synthetic()
	withAtlas(d)
	got := AtlasTables(d.AtlasRules, d.AtlasFamilies)
	if len(got) != 1 || len(got[0].Families) != 2 || strings.Join(got[0].Rules, ",") != "discovered,miconi" {
		t.Fatalf("AtlasTables: %+v", got)
	}
	for i, want := range []float64{3, 0, 1, 2} {
		if got[0].Counts[i] != want {
			t.Errorf("count %d = %g, want %g", i, got[0].Counts[i], want)
		}
	}
}

// TestBuildAtlas builds the report of a campaign with an atlas stage: one
// figure per task whose caption gives the scale, the association test,
// every family's stability and its prototype with its fixed points by
// index, with a drawn PNG.
func TestBuildAtlas(t *testing.T) {
	d := synthetic()
	withAtlas(d)
	var protoFPs = map[int32]int{}
	for _, p := range d.FixedPoints {
		if p.Rule == "discovered" && p.Seed == 2 {
			protoFPs[p.Index]++
		}
	}
	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	var sec *Section
	for i := range rep.Sections {
		if rep.Sections[i].ID == "atlas" {
			sec = &rep.Sections[i]
		}
	}
	if sec == nil || len(sec.Figures) != 1 {
		t.Fatalf("atlas section %+v, want one figure", sec)
	}
	f := sec.Figures[0]
	for _, w := range []string{
		"cut at 2 families (mean silhouette 0.55; adjusted Rand of subsample clusterings against the full one 0.80)",
		"colour from 0 (black) to 3 networks (white)",
		"Cramér's V = 0.71, seed-stratified permutation p = 0.03 (200 permutations)",
		"family 0 (4 networks, stability 0.90): prototype discovered seed 2, fixed points " + indexSummary(filterFPs(d.FixedPoints, "discovered", 2)),
		"family 1 (2 networks, stability 0.45): prototype miconi seed 1",
		"on the principal axes of the network's trajectories as the landscape stage projected them",
	} {
		if !strings.Contains(f.Caption, w) {
			t.Errorf("caption lacks %q:\n%s", w, f.Caption)
		}
	}
	if len(protoFPs) == 0 || !strings.Contains(f.Caption, "of index 0") {
		t.Errorf("the prototype's fixed points (%v) are not counted in the caption", protoFPs)
	}
	files := map[string][]byte{}
	for _, file := range rep.Files {
		files[file.Name] = file.Data
	}
	checkPNG(t, f.PNG, files[f.PNG], 8)
	checkSVG(t, f.SVG, files[f.SVG], 20)
}

func filterFPs(fps []schemas.FixedPointRow, rule string, seed int64) []schemas.FixedPointRow {
	var out []schemas.FixedPointRow
	for _, p := range fps {
		if p.Rule == rule && p.Seed == seed {
			out = append(out, p)
		}
	}
	return out
}

// TestLargeHeatMapIsRaster checks that a distance matrix above rasterCells
// (the atlas pipeline's 1,000 networks) is drawn as one embedded image,
// not a rectangle per cell, and a small one still as rectangles.
func TestLargeHeatMapIsRaster(t *testing.T) {
	for _, tc := range []struct {
		n      int
		raster bool
	}{{250, true}, {20, false}} {
		m := DSADistances{Task: "gonogo", Method: "spectral"}
		for i := range tc.n {
			m.Networks = append(m.Networks, NetworkID{Rule: []string{"a", "b"}[i*2/tc.n], Seed: int64(i + 1)})
		}
		m.D = make([]float64, tc.n*tc.n)
		for i := range tc.n {
			for j := range tc.n {
				if i != j {
					m.D[i*tc.n+j] = 1 + float64((i+j)%7)
				}
			}
		}
		hm, _, err := distancePanel(m)
		if err != nil {
			t.Fatal(err)
		}
		r, err := renderGrid([][]*plot.Plot{{hm}})
		if err != nil {
			t.Fatal(err)
		}
		svg := string(r.SVG)
		images := strings.Count(svg, "<image")
		if tc.raster && (images != 1 || len(svg) > 1<<20) {
			t.Errorf("n = %d: %d images in a %d-byte SVG, want one image and under 1 MiB", tc.n, images, len(svg))
		}
		if !tc.raster && (images != 0 || strings.Count(svg, "<path") < tc.n*tc.n) {
			t.Errorf("n = %d: %d images and %d paths, want a rectangle per cell", tc.n, images, strings.Count(svg, "<path"))
		}
	}
}
