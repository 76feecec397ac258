package report

import (
	"bytes"
	"encoding/base64"
	stdhtml "html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"rulescape/schemas"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol || (math.IsNaN(a) && math.IsNaN(b)) }

// TestLearningCurves checks the bands against values worked out by hand
// for three seeds, one of which is shorter and one diverged at a trial.
func TestLearningCurves(t *testing.T) {
	errs := map[int64][]float64{
		1: {1, 2, 3},
		2: {3, 4, 5},
		3: {5, math.NaN()}, // diverged at trial 1, stopped after 2 trials
	}
	var rows []schemas.LearningCurveRow
	for seed, es := range errs {
		for h, e := range es {
			rows = append(rows, schemas.LearningCurveRow{Task: "t", Rule: "r", Seed: seed, Trial: int64(h), Error: e})
		}
	}
	rows = append(rows, schemas.LearningCurveRow{Task: "t", Rule: "a", Seed: 1, Trial: 0, Error: 7})
	nets := []Network{{Task: "t", Rule: "r", Seed: 1, TrialsToCriterion: 30}, {Task: "t", Rule: "r", Seed: 2, TrialsToCriterion: -1},
		{Task: "t", Rule: "r", Seed: 3, TrialsToCriterion: 10}, {Task: "u", Rule: "r", Seed: 1, TrialsToCriterion: 1}}

	curves := LearningCurves(rows, nets, 1)
	if len(curves) != 2 || curves[0].Rule != "a" || curves[1].Rule != "r" {
		t.Fatalf("curves %+v: want rules a, r in order", curves)
	}
	c := curves[1]
	// Trial 0: {1, 3, 5}; trial 1: {2, 4} (seed 3 NaN); trial 2: {3, 5}.
	want := Band{X: []float64{0, 1, 2}, Median: []float64{3, 3, 4}, Q25: []float64{2, 2.5, 3.5}, Q75: []float64{4, 3.5, 4.5}}
	for name, pair := range map[string][2][]float64{"x": {c.Band.X, want.X}, "median": {c.Band.Median, want.Median},
		"q25": {c.Band.Q25, want.Q25}, "q75": {c.Band.Q75, want.Q75}} {
		if len(pair[0]) != len(pair[1]) {
			t.Fatalf("%s = %v, want %v", name, pair[0], pair[1])
		}
		for i := range pair[0] {
			if !near(pair[0][i], pair[1][i], 1e-12) {
				t.Errorf("%s = %v, want %v", name, pair[0], pair[1])
				break
			}
		}
	}
	// Seeds 1 and 3 met the criterion at 30 and 10 trials: median 20.
	if c.Seeds != 3 || c.Reached != 2 || c.Criterion != 20 {
		t.Errorf("seeds %d, reached %d, criterion %v; want 3, 2, 20", c.Seeds, c.Reached, c.Criterion)
	}
	if a := curves[0]; a.Reached != 0 || !math.IsNaN(a.Criterion) {
		t.Errorf("rule a: reached %d, criterion %v; want 0, NaN", a.Reached, a.Criterion)
	}

	// Window 2: seed 1 → 1, 1.5, 2.5; seed 2 → 3, 3.5, 4.5; seed 3 → 5, 5
	// (its NaN left out of the mean). Trial 1: {1.5, 3.5, 5} → median 3.5.
	c = LearningCurves(rows, nets, 2)[1]
	if got := c.Band.Median; !near(got[0], 3, 1e-12) || !near(got[1], 3.5, 1e-12) || !near(got[2], 3.5, 1e-12) {
		t.Errorf("window 2: median %v, want [3 3.5 3.5]", got)
	}
}

// A single point (a network with one fixed point and no trajectories) gets
// one zero-variance axis, every point at 0; more points get stats.FitPCA.
func TestFitPCAOnePoint(t *testing.T) {
	one, err := fitPCA([][]float64{{4, 5, 6}}, 2)
	if err != nil || len(one.Axes) != 1 || one.Explained[0] != 0 || one.Project([]float64{4, 5, 6})[0] != 0 || one.Project([]float64{5, 0, 0})[0] != 1 {
		t.Errorf("PCA of one point: %+v, %v", one, err)
	}
	two, err := fitPCA([][]float64{{0, 0}, {3, 4}}, 2)
	if err != nil || !near(two.Variance[0], 12.5, 1e-12) || !near(two.Explained[0], 1, 1e-12) {
		t.Errorf("PCA of two points: %+v, %v", two, err)
	}
	if _, err := fitPCA(nil, 2); err == nil {
		t.Error("PCA of no points: no error")
	}
}

func TestFixedPointMaps(t *testing.T) {
	// Trajectory points along x₁ (variance large), fixed points at known
	// places: their first coordinates on the axes are x₁ − mean.
	var trajs []schemas.TrajectoryRow
	for i := range 5 {
		trajs = append(trajs, schemas.TrajectoryRow{Task: "t", Rule: "r", Seed: 2, Network: "final", T: int32(i), X: []float32{float32(i), 0, float32(i % 2)}})
	}
	fps := []schemas.FixedPointRow{
		{Task: "t", Rule: "r", Seed: 2, Network: "final", X: []float64{4, 0, 0}, Type: "stable"},
		{Task: "t", Rule: "r", Seed: 5, Network: "final", X: []float64{9, 9, 9}, Type: "saddle"}, // another seed: not drawn
		{Task: "t", Rule: "q", Seed: 1, Network: "final", X: []float64{1, 0, 0}, Type: "stable"},
		{Task: "t", Rule: "q", Seed: 1, Network: "final", X: []float64{3, 0, 0}, Type: "unstable"},
	}
	maps, err := FixedPointMaps(fps, trajs, nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 2 || maps[0].Rule != "q" || maps[1].Rule != "r" {
		t.Fatalf("maps %+v", maps)
	}
	q, r := maps[0], maps[1]
	if q.Basis != "fixed points" || len(q.Points) != 2 || !near(q.Points[0].PC[0], -1, 1e-9) || !near(q.Points[1].PC[0], 1, 1e-9) ||
		!near(q.Explained[0], 1, 1e-9) {
		t.Errorf("rule q: %+v", q)
	}
	// Mean of the trajectory is (2, 0, 0.4); the point (4, 0, 0) is at +2
	// along x₁ (the first axis, sign fixed positive).
	if r.Basis != "trajectories" || r.Seed != 2 || len(r.Points) != 1 || !near(r.Points[0].PC[0], 2, 0.05) || len(r.Trajectories) != 1 || len(r.Trajectories[0]) != 5 {
		t.Errorf("rule r: %+v", r)
	}
}

func TestMeanRDMs(t *testing.T) {
	rows := []schemas.RDMRow{
		{Task: "t", Rule: "r", Seed: 1, Network: "final", K: 2, Labels: []string{"a", "b"}, D: []float64{0, 1, 1, 0}},
		{Task: "t", Rule: "r", Seed: 2, Network: "final", K: 2, Labels: []string{"a", "b"}, D: []float64{0, 3, 3, 0}},
		{Task: "t", Rule: "r", Seed: 3, Network: "initial", K: 2, Labels: []string{"a", "b"}, D: []float64{0, 100, 100, 0}},
		{Task: "t", Rule: "r", Seed: 4, Network: "final", K: 1, Labels: []string{"a"}, D: []float64{0}},
	}
	m := MeanRDMs(rows)
	if len(m) != 1 || m[0].Networks != 2 || m[0].D[1] != 2 || m[0].D[2] != 2 || m[0].D[0] != 0 {
		t.Errorf("MeanRDMs = %+v, want one mean of two networks with off-diagonal 2", m)
	}
}

func TestSimilarities(t *testing.T) {
	// Three networks at the corners of a right triangle: 1 − S = 3, 4, 5.
	rows := []schemas.RSAPairRow{
		{Task: "t", Method: "spearman", ARule: "b", ASeed: 1, BRule: "a", BSeed: 1, ANetwork: "final", BNetwork: "final", Value: 1 - 3},
		{Task: "t", Method: "spearman", ARule: "a", ASeed: 1, BRule: "a", BSeed: 2, ANetwork: "final", BNetwork: "final", Value: 1 - 4},
		{Task: "t", Method: "spearman", ARule: "a", ASeed: 2, BRule: "b", BSeed: 1, ANetwork: "final", BNetwork: "final", Value: 1 - 5},
		{Task: "t", Method: "cka", ARule: "a", ASeed: 2, BRule: "b", BSeed: 1, ANetwork: "final", BNetwork: "final", Value: 0.9},
		{Task: "t", Method: "within_vs_between:spearman", ARule: "*", BRule: "*", Value: 0.1, PValue: 0.2, Permutations: 10},
	}
	sims, err := Similarities(rows, "spearman")
	if err != nil {
		t.Fatal(err)
	}
	if len(sims) != 1 {
		t.Fatalf("%d tasks, want 1", len(sims))
	}
	s := sims[0]
	want := []NetworkID{{"a", 1}, {"a", 2}, {"b", 1}}
	for i := range want {
		if s.Networks[i] != want[i] {
			t.Fatalf("networks %v, want %v", s.Networks, want)
		}
	}
	// a/1–a/2: −3, a/1–b/1: −2, a/2–b/1: −4.
	wantS := []float64{1, -3, -2, -3, 1, -4, -2, -4, 1}
	for i := range wantS {
		if s.S[i] != wantS[i] {
			t.Fatalf("S = %v, want %v", s.S, wantS)
		}
	}
	if s.Within == nil || s.Within.PValue != 0.2 {
		t.Errorf("permutation test row %+v", s.Within)
	}
	// The MDS of a Euclidean triangle reproduces its side lengths.
	dist := func(i, j int) float64 { return math.Hypot(s.MDS[i][0]-s.MDS[j][0], s.MDS[i][1]-s.MDS[j][1]) }
	if !near(dist(0, 1), 4, 1e-9) || !near(dist(0, 2), 3, 1e-9) || !near(dist(1, 2), 5, 1e-9) || s.NegativeFraction > 1e-9 {
		t.Errorf("MDS %v: distances %v %v %v, want 4 3 5", s.MDS, dist(0, 1), dist(0, 2), dist(1, 2))
	}
}

func TestSpectra(t *testing.T) {
	rows := []schemas.SensitivityRow{
		{Task: "t", Rule: "r", Seed: 2, Network: "final", SingularValues: []float64{4, 2, 1}},
		{Task: "t", Rule: "r", Seed: 1, Network: "final", SingularValues: []float64{2, 2, 0}},
	}
	s := Spectra(rows)
	if len(s) != 1 || len(s[0].Seeds) != 2 || s[0].Seeds[0][1] != 1 || s[0].Median[1] != 0.75 || s[0].Median[2] != 0.125 {
		t.Errorf("Spectra = %+v; want seed 1 first, median [1 0.75 0.125]", s)
	}
}

// TestBuild builds the synthetic campaign's report and checks every file:
// PNGs decode with many colours, SVGs parse with many paths, the page
// references exactly the figures, by relative paths, with no script or
// external resource, the learning curves come first, and index.html is
// the last file. Building twice gives identical bytes.
func TestBuild(t *testing.T) {
	d := synthetic()
	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range rep.Files {
		files[f.Name] = f.Data
	}
	if last := rep.Files[len(rep.Files)-1]; last.Name != Index {
		t.Fatalf("last file %s, want %s", last.Name, Index)
	}
	html := string(files[Index])
	wantFigs := []string{"fig-learning-curves", "fig-criterion", "fig-metaopt", "fig-fixed-points", "fig-rdms", "fig-similarity", "fig-landscape-gonogo", "fig-sensitivity"}
	pos := -1
	for _, id := range wantFigs {
		i := strings.Index(html, `<figure id="`+id+`">`)
		if i < 0 {
			t.Errorf("index.html has no figure %s", id)
			continue
		}
		if i < pos {
			t.Errorf("figure %s is out of order", id)
		}
		pos = i
		base := "figures/" + strings.TrimPrefix(id, "fig-")
		checkPNG(t, base+".png", files[base+".png"], 8)
		checkSVG(t, base+".svg", files[base+".svg"], 20)
		// The page shows the figure inline (a data: URL of the same PNG),
		// so a presigned link to index.html alone shows it.
		inline := regexp.MustCompile(`<figure id="` + id + `">\n<a href="[^"]+"><img src="data:image/png;base64,([^"]+)"`).FindStringSubmatch(html)
		if inline == nil {
			t.Errorf("figure %s: no inline data: PNG", id)
		} else if png, err := base64.StdEncoding.DecodeString(stdhtml.UnescapeString(inline[1])); err != nil || !bytes.Equal(png, files[base+".png"]) {
			t.Errorf("figure %s: the inline PNG is not %s (%v)", id, base+".png", err)
		}
	}
	if i := strings.Index(html, `id="fig-learning-curves"`); i < 0 || i > strings.Index(html, `id="stages"`) {
		t.Error("the learning curves do not come before the stage table")
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"#:]+)"`).FindAllStringSubmatch(html, -1)
	if len(refs) < 2*len(wantFigs) {
		t.Errorf("index.html references %d files, want at least %d", len(refs), 2*len(wantFigs))
	}
	for _, m := range refs {
		if _, ok := files[m[1]]; !ok {
			t.Errorf("index.html references %s, which the report does not have", m[1])
		}
	}
	// The only link is the empty inline icon, which spares browsers a
	// favicon request (and a console error) when the page is served.
	if strings.Count(html, "<link") != 1 || !strings.Contains(html, `<link rel="icon" href="data:,">`) {
		t.Error("index.html links something besides its empty inline icon")
	}
	for _, bad := range []string{"<script", "http://", "https://", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("index.html contains %q: it must work offline without scripts", bad)
		}
	}
	for _, want := range []string{d.Manifest.Campaign, "engine <code>test</code>", "Reproduce this",
		"rulescape run synthetic.yaml", d.Manifest.Datasets[0].Ref.SHA256[:12], "10.0 s",
		// The fixed points on the landscape's axes, with its graph.
		"gonogo/discovered seed 1: 2 stable, 1 saddle, 1 unstable on the PCs of its trajectories (landscape stage), 1 saddle → attractor connections",
		// The landscape figure: the discovered rule's seed 2 has a third
		// attractor, so its mean is 7/3 with range 2–3; the test rows' numbers.
		"discovered (3 networks) 0: 2.33 [2–3], 1: 1 [1–1], 2: 0 [0–0], ≥ 3: 0 [0–0]", "Slow points are not counted (6 left out)",
		"over pairs of different seeds 0.25, seed-stratified permutation p = 0.5 (100 permutations); mean distance of same-seed networks of different rules 0.75.",
		"Spearman correlation of RDMs: mean within-rule − mean between-rule similarity 0.5, p = 0.01 (100 permutations)"} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if len(rep.Cited) != len(d.Manifest.Datasets) {
		t.Errorf("%d datasets cited, the manifest lists %d", len(rep.Cited), len(d.Manifest.Datasets))
	}
	if _, ok := files[StagesFile]; !ok {
		t.Errorf("no %s", StagesFile)
	}

	again, err := Build(synthetic())
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Files) != len(rep.Files) {
		t.Fatalf("second build: %d files, first %d", len(again.Files), len(rep.Files))
	}
	for i, f := range again.Files {
		if f.Name != rep.Files[i].Name || !bytes.Equal(f.Data, rep.Files[i].Data) {
			t.Errorf("second build: %s differs from the first", f.Name)
		}
	}

	dir := t.TempDir()
	index, err := WriteDir(dir, rep.Files)
	if err != nil || index != filepath.Join(dir, Index) {
		t.Fatalf("WriteDir: %s, %v", index, err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "figures", "learning-curves.png")); err != nil || !bytes.Equal(got, files["figures/learning-curves.png"]) {
		t.Errorf("WriteDir: learning-curves.png: %v", err)
	}
	if _, err := WriteDir(dir, rep.Files[:1]); err == nil {
		t.Error("WriteDir of files not ending in index.html: no error")
	}
}

// TestBuildAbsentStages: stages that did not run have no figures and a
// line saying so; without timings the stage table says they are unknown.
func TestBuildAbsentStages(t *testing.T) {
	d := synthetic()
	d.Manifest.Stages = map[string]string{"train": "completed", "rsa": "skipped: not implemented yet (analysis issue)", "report": "running"}
	d.Stages = nil
	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	html := string(rep.Files[len(rep.Files)-1].Data)
	for _, want := range []string{`id="fig-learning-curves"`, "The campaign has no metaopt stage.", "The rsa stage did not run (status: skipped",
		"The campaign has no fixedpoints stage.", "The campaign has no landscape stage.", "Timings and cache hits are not known"} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	for _, f := range rep.Files {
		if f.Name != Index && !strings.HasPrefix(f.Name, "figures/learning-curves.") && !strings.HasPrefix(f.Name, "figures/criterion.") {
			t.Errorf("unexpected file %s", f.Name)
		}
	}
}

// BenchmarkBuild renders the synthetic campaign's report from loaded data.
func BenchmarkBuild(b *testing.B) {
	d := synthetic()
	for b.Loop() {
		if _, err := Build(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBuildDegenerate: diverged networks (NaN errors), zero spectra, NaN
// RDMs, a single fixed point and a single network still give a report
// (figures with what can be drawn), never a panic.
func TestBuildDegenerate(t *testing.T) {
	d := synthetic()
	for i := range d.LearningCurves {
		if d.LearningCurves[i].Rule == "miconi" {
			d.LearningCurves[i].Error = math.NaN()
		}
	}
	for i := range d.Sensitivity {
		d.Sensitivity[i].SingularValues = make([]float64, len(d.Sensitivity[i].SingularValues))
	}
	for i := range d.RDMs {
		for j := range d.RDMs[i].D {
			d.RDMs[i].D[j] = math.NaN()
		}
	}
	d.FixedPoints = d.FixedPoints[:1]
	d.Trajectories = nil
	d.RSAPairs = d.RSAPairs[:1]
	d.Landscape = d.Landscape[:1]
	d.LandscapePairs = d.LandscapePairs[:1]
	rep, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	// A landscape with pairs but no points: every count is zero.
	d.Landscape = nil
	d.LandscapePairs[0].Value = 0
	rep, err = Build(d)
	if err != nil {
		t.Fatal(err)
	}
	html := string(rep.Files[len(rep.Files)-1].Data)
	for _, want := range []string{"of every pair of final networks, all 0 (black);", "summed over the inputs (none has a landscape row)"} {
		if !strings.Contains(html, want) {
			t.Errorf("a landscape with one zero distance and no points: the caption lacks %q", want)
		}
	}
	for _, f := range rep.Files {
		switch {
		case strings.HasSuffix(f.Name, ".png"):
			checkPNG(t, f.Name, f.Data, 2)
		case strings.HasSuffix(f.Name, ".svg"):
			checkSVG(t, f.Name, f.Data, 1)
		}
	}
}
