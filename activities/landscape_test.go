package activities

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// TestLandscapeStage runs the landscape unit of testdata/analysis.yaml
// through Unit: before the fixedpoints units ran it fails naming the
// first, after they did it reads their fixed_points datasets (which the
// plan's resolver finds): the rows follow
// the fixed points one to one, the projections are orthogonal projections
// of the points about the trajectories' mean, the connections name
// attractors of the same input, the pair distances match counts written out
// from the rows, the summaries match the pairs, a second call is a cache
// hit and a forced one recomputes the same bytes.
func TestLandscapeStage(t *testing.T) {
	st := newStore(t)
	plan := analysisPlan(t)
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref, nets := trainAll(t, a, plan)
	ctx := t.Context()

	const id = "landscape/gonogo"
	networks := networksOf(t, plan, nets, id)
	if len(networks) != 4 {
		t.Fatalf("landscape unit has %d networks, want 4", len(networks))
	}
	first := "fixedpoints/" + strings.TrimPrefix(networks[0].Unit.ID, "train/")
	if _, err := a.Unit(ctx, unitInput(t, plan, ref, id)); err == nil || !strings.Contains(err.Error(), first) || !strings.Contains(err.Error(), "not committed") {
		t.Fatalf("landscape before its fixed points: err = %v, want %s named as not committed", err, first)
	}
	var fixed [][]schemas.FixedPointRow
	for _, n := range networks {
		out := mustUnit(t, ctx, a, unitInput(t, plan, ref, "fixedpoints/"+strings.TrimPrefix(n.Unit.ID, "train/")))
		rows, _, err := store.ReadRows[schemas.FixedPointRow](ctx, st, out.Datasets[0].Ref)
		if err != nil {
			t.Fatal(err)
		}
		fixed = append(fixed, rows)
	}
	out := runTwice(t, a, plan, ref, id, schemas.Landscape, schemas.LandscapePairs)
	rows, info, err := store.ReadRows[schemas.LandscapeRow](ctx, st, out.Datasets[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != 1 {
		t.Errorf("landscape schema version %d", info.Version)
	}

	type key struct {
		rule  string
		seed  int64
		input string
	}
	counts := map[key][]int{}
	k := 0
	for n, fps := range fixed {
		tr, err := a.loadNetwork(ctx, &networks[n])
		if err != nil {
			t.Fatal(err)
		}
		// The trajectory mean, written out.
		b, err := tr.EvalBatch(stages.FixedPointRepeats)
		if err != nil {
			t.Fatal(err)
		}
		traces, _ := tr.Simulate(b)
		mean := make([]float64, tr.Net.N)
		samples := 0
		for _, trace := range traces {
			for s := 1; s <= trace.T; s++ {
				for i := range mean {
					mean[i] += trace.X[s*trace.N+i]
				}
				samples++
			}
		}
		point := map[string]int{}
		stable := map[string]map[int32]bool{}
		var mine []schemas.LandscapeRow
		for _, fp := range fps {
			if k >= len(rows) {
				t.Fatalf("%d landscape rows, fewer than the fixed points", len(rows))
			}
			r := rows[k]
			k++
			mine = append(mine, r)
			if r.Rule != fp.Rule || r.Seed != fp.Seed || r.Input != fp.Input || r.Index != fp.Index || r.Slow != fp.Slow || r.Type != fp.Type ||
				int(r.Point) != point[fp.Input] {
				t.Fatalf("landscape row %+v does not follow fixed point %s/%d %s index %d (point %d)", r, fp.Rule, fp.Seed, fp.Input, fp.Index, point[fp.Input])
			}
			point[fp.Input]++
			if len(r.PC) != 3 || len(r.Explained) != 3 {
				t.Fatalf("row has %d coordinates and %d explained fractions, want pcs = 3", len(r.PC), len(r.Explained))
			}
			var dd, pp float64
			for i, v := range fp.X {
				d := v - mean[i]/float64(samples)
				dd += d * d
			}
			for _, c := range r.PC {
				pp += c * c
			}
			if pp > dd*(1+1e-9)+1e-12 {
				t.Errorf("‖pc‖² = %g exceeds ‖x − mean‖² = %g: not an orthogonal projection about the mean", pp, dd)
			}
			if !(r.Explained[0] >= r.Explained[1] && r.Explained[1] >= r.Explained[2] && r.Explained[0]+r.Explained[1]+r.Explained[2] <= 1+1e-12) {
				t.Errorf("explained %v: want descending fractions", r.Explained)
			}
			if !fp.Slow && fp.Index >= 0 {
				c := counts[key{fp.Rule, fp.Seed, fp.Input}]
				for len(c) <= int(fp.Index) {
					c = append(c, 0)
				}
				c[fp.Index]++
				counts[key{fp.Rule, fp.Seed, fp.Input}] = c
				if fp.Index == 0 {
					if stable[fp.Input] == nil {
						stable[fp.Input] = map[int32]bool{}
					}
					stable[fp.Input][r.Point] = true
				}
			}
		}
		for _, r := range mine {
			want := 0
			if !r.Slow && r.Index == 1 {
				want = 2
			}
			if len(r.Connects) != want {
				t.Errorf("point %s/%d %s #%d of index %d has connects %v", r.Rule, r.Seed, r.Input, r.Point, r.Index, r.Connects)
			}
			for _, c := range r.Connects {
				if c != -1 && !stable[r.Input][c] {
					t.Errorf("saddle %s/%d %s #%d connects point %d, not an attractor of its input", r.Rule, r.Seed, r.Input, r.Point, c)
				}
			}
		}
	}
	if k != len(rows) {
		t.Errorf("%d landscape rows for %d fixed points", len(rows), k)
	}

	pairs, _, err := store.ReadRows[schemas.LandscapePairRow](ctx, st, out.Datasets[1].Ref)
	if err != nil {
		t.Fatal(err)
	}
	l1 := func(a, b []int) float64 {
		s := 0.0
		for i := range max(len(a), len(b)) {
			var x, y int
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			s += math.Abs(float64(x - y))
		}
		return s
	}
	inputs := []string{"none", "go", "nogo"}
	byPair := map[string]map[string]float64{}
	var sums [3]float64
	var ns [3]int
	methods := map[string]int{}
	for _, p := range pairs {
		methods[p.Method]++
		if p.ARule == "*" {
			continue
		}
		id := fmt.Sprintf("%s/%d-%s/%d", p.ARule, p.ASeed, p.BRule, p.BSeed)
		if byPair[id] == nil {
			byPair[id] = map[string]float64{}
		}
		byPair[id][p.Method] = p.Value
		if p.Method == stages.MethodIndex {
			want := 0.0
			for _, u := range inputs {
				want += l1(counts[key{p.ARule, p.ASeed, u}], counts[key{p.BRule, p.BSeed, u}])
			}
			if want /= 3; math.Abs(p.Value-want) > 1e-12 {
				t.Errorf("%s: index distance %g, written out from the rows %g", id, p.Value, want)
			}
		}
		if p.Method == stages.MethodTopology {
			k := 0
			switch {
			case p.ASeed == p.BSeed:
				k = 2
			case p.ARule != p.BRule:
				k = 1
			}
			sums[k] += p.Value
			ns[k]++
		}
	}
	for id, m := range byPair {
		if math.Abs(m[stages.MethodTopology]-m[stages.MethodIndex]-m[stages.MethodGraph]) > 1e-12 || m[stages.MethodGraph] < 0 {
			t.Errorf("%s: topology %g ≠ index %g + graph %g", id, m[stages.MethodTopology], m[stages.MethodIndex], m[stages.MethodGraph])
		}
	}
	want := map[string]int{stages.MethodTopology: 6, stages.MethodIndex: 6, stages.MethodGraph: 6, stages.WithinPrefix + stages.MethodTopology: 1, stages.SameSeedPrefix + stages.MethodTopology: 1}
	if len(methods) != len(want) {
		t.Errorf("methods %v, want %v", methods, want)
	}
	for m, n := range want {
		if methods[m] != n {
			t.Errorf("%d rows of %s, want %d", methods[m], m, n)
		}
	}
	for _, p := range pairs {
		switch p.Method {
		case stages.WithinPrefix + stages.MethodTopology:
			// Between − within distance over pairs of different seeds.
			if w := sums[1]/float64(ns[1]) - sums[0]/float64(ns[0]); math.Abs(p.Value-w) > 1e-12 || p.Permutations != 50 || !(p.PValue >= 1.0/51 && p.PValue <= 1) {
				t.Errorf("%s: value %g (written out %g), p %g over %d", p.Method, p.Value, w, p.PValue, p.Permutations)
			}
		case stages.SameSeedPrefix + stages.MethodTopology:
			if w := sums[2] / float64(ns[2]); math.Abs(p.Value-w) > 1e-12 || !math.IsNaN(p.PValue) {
				t.Errorf("%s: value %g (written out %g), p %g", p.Method, p.Value, w, p.PValue)
			}
		}
	}
	t.Logf("counts by index: %v", counts)
}
