package report

import (
	"math"
	"slices"
	"testing"

	"rulescape/schemas"
)

// TestIndexCounts checks the counts by index and their spread against
// values worked out by hand: slow points, points of unknown index and
// initial networks are not counted, index 3 and above share the last
// class, and a network named only by a topology pair counts zero.
func TestIndexCounts(t *testing.T) {
	row := func(task, rule string, seed int64, input string, index int32, slow bool) schemas.LandscapeRow {
		return schemas.LandscapeRow{Task: task, Rule: rule, Seed: seed, Network: "final", Input: input, Index: index, Slow: slow}
	}
	initial := row("t", "b", 1, "none", 1, false)
	initial.Network = "initial"
	rows := []schemas.LandscapeRow{
		row("u", "a", 1, "none", 0, false),
		// a/1: none → 0, 0, 1; A → 0, a slow point, one of unknown index.
		row("t", "a", 1, "none", 0, false), row("t", "a", 1, "none", 0, false), row("t", "a", 1, "none", 1, false),
		row("t", "a", 1, "A", 0, false), row("t", "a", 1, "A", 0, true), row("t", "a", 1, "A", -1, false),
		// a/2: indices 3, 5 (class ≥ 3) and 2.
		row("t", "a", 2, "none", 3, false), row("t", "a", 2, "A", 5, false), row("t", "a", 2, "A", 2, false),
		row("t", "b", 1, "none", 0, false), initial,
	}
	pairs := []schemas.LandscapePairRow{
		{Task: "t", Method: "topology", ARule: "a", ASeed: 3, BRule: "a", BSeed: 1, ANetwork: "final", BNetwork: "final"},
		{Task: "t", Method: "index", ARule: "b", ASeed: 9, BRule: "a", BSeed: 1, ANetwork: "final", BNetwork: "final"},
	}
	got := IndexCounts(rows, pairs)
	if len(got) != 3 || got[0].Task != "t" || got[0].Rule != "a" || got[1].Rule != "b" || got[2].Task != "u" {
		t.Fatalf("IndexCounts: %+v; want t/a, t/b, u/a", got)
	}
	a := got[0]
	// a/1 = [3 1 0 0], a/2 = [0 0 1 2], a/3 = [0 0 0 0].
	wantCounts := [][]int{{3, 1, 0, 0}, {0, 0, 1, 2}, {0, 0, 0, 0}}
	if !slices.Equal(a.Seeds, []int64{1, 2, 3}) || len(a.Counts) != 3 {
		t.Fatalf("t/a: seeds %v, counts %v; want seeds 1 2 3", a.Seeds, a.Counts)
	}
	for i, w := range wantCounts {
		if !slices.Equal(a.Counts[i], w) {
			t.Errorf("t/a seed %d: counts %v, want %v", a.Seeds[i], a.Counts[i], w)
		}
	}
	for name, pair := range map[string][2][]float64{
		"mean": {a.Mean, {1, 1.0 / 3, 1.0 / 3, 2.0 / 3}},
		"min":  {a.Min, {0, 0, 0, 0}},
		"max":  {a.Max, {3, 1, 1, 2}},
	} {
		for b := range IndexBins {
			if !near(pair[0][b], pair[1][b], 1e-12) {
				t.Errorf("t/a %s = %v, want %v", name, pair[0], pair[1])
				break
			}
		}
	}
	if a.Slow != 1 || a.Unknown != 1 || !slices.Equal(a.Inputs, []string{"none", "A"}) {
		t.Errorf("t/a: slow %d, unknown %d, inputs %v; want 1, 1, [none A]", a.Slow, a.Unknown, a.Inputs)
	}
	if b := got[1]; !slices.Equal(b.Seeds, []int64{1}) || !slices.Equal(b.Counts[0], []int{1, 0, 0, 0}) ||
		!slices.Equal(b.Mean, []float64{1, 0, 0, 0}) || !slices.Equal(b.Min, b.Max) {
		t.Errorf("t/b: %+v; want one network [1 0 0 0] (the initial network and the index pair not counted)", b)
	}
}

// TestTopologyMatrices: the pairs, in any order and orientation, fill a
// symmetric matrix ordered by rule then seed, 0 on the diagonal and NaN
// where no pair was compared; the summary rows are kept.
func TestTopologyMatrices(t *testing.T) {
	pair := func(task, method, ar string, as int64, br string, bs int64, v float64) schemas.LandscapePairRow {
		return schemas.LandscapePairRow{Task: task, Method: method, ARule: ar, ASeed: as, BRule: br, BSeed: bs,
			ANetwork: "final", BNetwork: "final", Value: v, PValue: math.NaN()}
	}
	initial := pair("t", "topology", "a", 1, "c", 1, 99)
	initial.BNetwork = "initial"
	rows := []schemas.LandscapePairRow{
		pair("u", "topology", "x", 1, "x", 2, 7),
		pair("t", "topology", "b", 1, "a", 2, 3),
		pair("t", "topology", "a", 1, "a", 2, 1),
		pair("t", "index", "a", 1, "a", 2, 50),
		pair("t", "topology", "b", 1, "a", 1, 2),
		pair("t", "topology", "a", 1, "b", 2, 4),
		initial,
		{Task: "t", Method: "within_vs_between:topology", ARule: "*", BRule: "*", Value: 0.5, PValue: 0.2, Permutations: 10},
		{Task: "t", Method: "same_seed_between:topology", ARule: "*", BRule: "*", Value: 1.5, PValue: math.NaN()},
	}
	got := TopologyMatrices(rows)
	if len(got) != 2 || got[0].Task != "t" || got[1].Task != "u" {
		t.Fatalf("TopologyMatrices: %+v; want tasks t, u", got)
	}
	m := got[0]
	wantIDs := []NetworkID{{"a", 1}, {"a", 2}, {"b", 1}, {"b", 2}}
	if !slices.Equal(m.Networks, wantIDs) {
		t.Fatalf("networks %v, want %v", m.Networks, wantIDs)
	}
	nan := math.NaN()
	want := []float64{
		0, 1, 2, 4,
		1, 0, 3, nan,
		2, 3, 0, nan,
		4, nan, nan, 0,
	}
	for i := range want {
		if !near(m.D[i], want[i], 0) {
			t.Fatalf("D = %v, want %v", m.D, want)
		}
	}
	if m.Within == nil || m.Within.Value != 0.5 || m.Within.PValue != 0.2 || m.SameSeed == nil || m.SameSeed.Value != 1.5 {
		t.Errorf("summaries: within %+v, same seed %+v", m.Within, m.SameSeed)
	}
	if u := got[1]; u.Within != nil || u.SameSeed != nil || len(u.Networks) != 2 || u.D[1] != 7 {
		t.Errorf("task u: %+v", u)
	}
}

// TestRuleComparison: the caption's sentence carries the numbers of the
// landscape and RSA summary rows of its task, and says when there is no
// test.
func TestRuleComparison(t *testing.T) {
	within := &schemas.LandscapePairRow{Task: "t", Method: "within_vs_between:topology", Value: 0.125, PValue: 0.75, Permutations: 200}
	same := &schemas.LandscapePairRow{Task: "t", Method: "same_seed_between:topology", Value: 1.5, PValue: math.NaN()}
	rsaRows := []schemas.RSAPairRow{
		{Task: "t", Method: "within_vs_between:cka", Value: 0.3, PValue: 0.02, Permutations: 100},
		{Task: "t", Method: "same_seed_between:cka", Value: 0.9, PValue: math.NaN()},
		{Task: "t", Method: "within_vs_between:spearman", Value: 0.25, PValue: 0.04, Permutations: 100},
		{Task: "u", Method: "within_vs_between:spearman", Value: 9, PValue: 0.9, Permutations: 9},
		{Task: "t", Method: "spearman", Value: 0.7},
	}
	for _, c := range []struct {
		name         string
		within, same *schemas.LandscapePairRow
		rsa          []schemas.RSAPairRow
		want         string
	}{
		{"both stages", within, same, rsaRows,
			"Topology (landscape_pairs): mean between-rule − mean within-rule distance over pairs of different seeds 0.125, seed-stratified permutation p = 0.75 (200 permutations); mean distance of same-seed networks of different rules 1.5." +
				" Geometry (rsa_pairs): Spearman correlation of RDMs: mean within-rule − mean between-rule similarity 0.25, p = 0.04 (100 permutations); linear CKA: mean within-rule − mean between-rule similarity 0.3, p = 0.02 (100 permutations), same-seed between-rule similarity 0.9."},
		{"no tests", nil, nil, rsaRows[3:],
			"Topology (landscape_pairs): no within- vs between-rule test (one rule, no permutations, or no within-rule pair across seeds)." +
				" Geometry: the campaign has no RSA test of this task."},
		{"same-seed rows only", nil, same, rsaRows[1:2],
			"Topology (landscape_pairs): no within- vs between-rule test (one rule, no permutations, or no within-rule pair across seeds); mean distance of same-seed networks of different rules 1.5." +
				" Geometry (rsa_pairs): linear CKA: no within- vs between-rule test, same-seed between-rule similarity 0.9."},
	} {
		if got := ruleComparison("t", c.within, c.same, c.rsa); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// TestFixedPointMapsLandscape: with a landscape row for every fixed point
// of the drawn network, the points are at their pc coordinates (cut to
// dims), the axes carry the landscape's explained variance, and each
// saddle's connects become edges (−1 and repeated attractors left out);
// without one row per point the map falls back to its own PCA.
func TestFixedPointMapsLandscape(t *testing.T) {
	fp := func(seed int64, x float64, typ string) schemas.FixedPointRow {
		return schemas.FixedPointRow{Task: "t", Rule: "r", Seed: seed, Network: "final", Input: "none", X: []float64{x, 0}, Type: typ}
	}
	fps := []schemas.FixedPointRow{fp(1, 0, "stable"), fp(1, 1, "saddle"), fp(1, 2, "stable"), fp(1, 3, "saddle"), fp(2, 5, "stable")}
	lr := func(seed int64, input string, point int32, typ string, pc []float64, connects ...int32) schemas.LandscapeRow {
		return schemas.LandscapeRow{Task: "t", Rule: "r", Seed: seed, Network: "final", Input: input, Point: point, Type: typ,
			PC: pc, Explained: []float64{0.5, 0.3, 0.1}, Connects: connects}
	}
	land := []schemas.LandscapeRow{
		lr(1, "none", 0, "stable", []float64{1, 2, 3}),
		lr(1, "none", 1, "saddle", []float64{4, 5, 6}, 0, 2),
		lr(1, "none", 2, "stable", []float64{7, 8, 9}),
		lr(1, "none", 3, "saddle", []float64{0, 0, 0}, 2, 2),
		lr(1, "A", 0, "stable", []float64{-1, -1, -1}), // another input's point 0: not an end of the saddles above
		lr(2, "none", 0, "stable", []float64{9, 9, 9}),
	}
	maps, err := FixedPointMaps(fps, nil, land[:4], 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(maps) != 1 {
		t.Fatalf("%d maps, want 1", len(maps))
	}
	m := maps[0]
	if m.Basis != "landscape" || m.Seed != 1 || !slices.Equal(m.Explained, []float64{0.5, 0.3}) || len(m.Points) != 4 {
		t.Fatalf("map %+v; want the landscape basis of seed 1, explained [0.5 0.3], 4 points", m)
	}
	if !slices.Equal(m.Points[1].PC, []float64{4, 5}) || m.Points[1].Type != "saddle" {
		t.Errorf("point 1: %+v; want the saddle at (4, 5)", m.Points[1])
	}
	if want := [][2]int{{1, 0}, {1, 2}, {3, 2}}; !slices.Equal(m.Edges, want) {
		t.Errorf("edges %v, want %v", m.Edges, want)
	}

	// The input A row makes 5 landscape rows for 4 fixed points: fall back.
	maps, err = FixedPointMaps(fps, nil, land, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m := maps[0]; m.Basis != "fixed points" || m.Edges != nil || !near(m.Points[0].PC[0], -1.5, 1e-9) {
		t.Errorf("mismatched landscape: %+v; want the fixed points' own PCA (x − 1.5 on PC1) and no edges", m)
	}
}
