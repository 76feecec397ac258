package atlas

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// points returns the Euclidean distances of points in the plane.
func points(xy [][2]float64) Distances {
	n := len(xy)
	d := make([]float64, n*n)
	for i := range n {
		for j := range n {
			d[i*n+j] = math.Hypot(xy[i][0]-xy[j][0], xy[i][1]-xy[j][1])
		}
	}
	return Distances{N: n, D: d}
}

// blobs draws per points around each centre with standard deviation sd.
func blobs(rng *rand.Rand, centres [][2]float64, per int, sd float64) ([][2]float64, []int) {
	var xy [][2]float64
	var truth []int
	for c, ctr := range centres {
		for range per {
			xy = append(xy, [2]float64{ctr[0] + sd*rng.NormFloat64(), ctr[1] + sd*rng.NormFloat64()})
			truth = append(truth, c)
		}
	}
	return xy, truth
}

// naiveAverageLinkage merges, n−1 times, the pair of current clusters with
// the least average distance between their members, computed from the
// original distances: the textbook O(n³) definition.
func naiveAverageLinkage(d Distances) (heights []float64, cuts map[int][]int) {
	n := d.N
	clusters := make([][]int, n)
	for i := range n {
		clusters[i] = []int{i}
	}
	cuts = map[int][]int{}
	record := func() {
		labels := make([]int, n)
		// number clusters by their smallest member's order, as Cut does
		order := slices.Clone(clusters)
		slices.SortFunc(order, func(a, b []int) int { return slices.Min(a) - slices.Min(b) })
		for c, members := range order {
			for _, i := range members {
				labels[i] = c
			}
		}
		cuts[len(clusters)] = labels
	}
	record()
	for len(clusters) > 1 {
		ba, bb, best := -1, -1, math.Inf(1)
		for a := range clusters {
			for b := a + 1; b < len(clusters); b++ {
				s := 0.0
				for _, i := range clusters[a] {
					for _, j := range clusters[b] {
						s += d.At(i, j)
					}
				}
				if v := s / float64(len(clusters[a])*len(clusters[b])); v < best {
					ba, bb, best = a, b, v
				}
			}
		}
		heights = append(heights, best)
		clusters[ba] = append(clusters[ba], clusters[bb]...)
		clusters = slices.Delete(clusters, bb, bb+1)
		record()
	}
	return heights, cuts
}

func TestAverageLinkageMatchesNaive(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 1))
		n := 2 + int(seed)
		xy := make([][2]float64, n)
		for i := range xy {
			xy[i] = [2]float64{rng.Float64(), rng.Float64()}
		}
		d := points(xy)
		merges := AverageLinkage(d)
		want, cuts := naiveAverageLinkage(d)
		if len(merges) != n-1 {
			t.Fatalf("n=%d: %d merges", n, len(merges))
		}
		for i, m := range merges {
			if math.Abs(m.Height-want[i]) > 1e-12 {
				t.Fatalf("n=%d merge %d: height %.15g, naive %.15g", n, i, m.Height, want[i])
			}
		}
		if merges[n-2].Size != n {
			t.Errorf("n=%d: last merge has size %d", n, merges[n-2].Size)
		}
		for k := 1; k <= n; k++ {
			got, err := Cut(merges, n, k)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, cuts[k]) {
				t.Fatalf("n=%d k=%d: cut %v, naive %v", n, k, got, cuts[k])
			}
		}
	}
}

func TestClusterFindsPlantedFamilies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xy, truth := blobs(rng, [][2]float64{{0, 0}, {10, 0}, {0, 10}, {10, 10}}, 25, 1)
	d := points(xy)
	res, err := Cluster(context.Background(), d, Settings{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Families != 4 {
		t.Fatalf("%d families (silhouettes %v over %v), want the 4 planted", res.Families, res.Silhouette, res.Tried)
	}
	if ari := AdjustedRand(res.Labels, truth); ari != 1 {
		t.Errorf("adjusted Rand against the planted families %g, want 1", ari)
	}
	for f, s := range res.Stability {
		if s < 0.95 {
			t.Errorf("family %d: stability %g, want ≥ 0.95 for well-separated blobs", f, s)
		}
	}
	if res.Rand < 0.95 {
		t.Errorf("mean subsample adjusted Rand %g, want ≥ 0.95", res.Rand)
	}
	for f, m := range res.Medoids {
		if res.Labels[m] != f {
			t.Errorf("medoid %d of family %d is in family %d", m, f, res.Labels[m])
		}
		c := xy[m]
		if math.Abs(math.Mod(c[0]+5, 10)-5) > 1.5 || math.Abs(math.Mod(c[1]+5, 10)-5) > 1.5 {
			t.Errorf("medoid of family %d at %v, far from every centre", f, c)
		}
	}
	if !reflect.DeepEqual(res.Sizes, []int{25, 25, 25, 25}) {
		t.Errorf("sizes %v", res.Sizes)
	}
	again, err := Cluster(context.Background(), d, Settings{Seed: 1})
	if err != nil || !reflect.DeepEqual(again, res) {
		t.Errorf("a second run with the same seed differs (%v)", err)
	}
}

// TestClusterNoStructure: a Gaussian cloud in 12 dimensions has no
// families, and no cut of it reaches the "substantial structure"
// silhouette, so the atlas reports one family. (Points uniform in a square
// are another matter: average linkage cuts them into tessellation cells
// with silhouettes near 0.4 that subsamples reproduce; docs/ANALYSIS.md
// says what the atlas can and cannot tell.)
func TestClusterNoStructure(t *testing.T) {
	for seed := range uint64(5) {
		rng := rand.New(rand.NewPCG(seed, 9))
		const n, dim = 150, 12
		x := make([][dim]float64, n)
		for i := range x {
			for k := range dim {
				x[i][k] = rng.NormFloat64()
			}
		}
		d := make([]float64, n*n)
		for i := range n {
			for j := range n {
				s := 0.0
				for k := range dim {
					s += (x[i][k] - x[j][k]) * (x[i][k] - x[j][k])
				}
				d[i*n+j] = math.Sqrt(s)
			}
		}
		res, err := Cluster(context.Background(), Distances{N: n, D: d}, Settings{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if res.Families != 1 {
			t.Errorf("seed %d: %d families from a structureless cloud (silhouettes %v)", seed, res.Families, res.Silhouette)
		}
	}
}

func TestSilhouetteByHand(t *testing.T) {
	// Points 0, 1 on a line and 10: clusters {0, 1} and {10}.
	d := points([][2]float64{{0, 0}, {1, 0}, {10, 0}})
	// item 0: a = 1, b = 10 → 0.9; item 1: a = 1, b = 9 → 8/9; item 2: singleton → 0.
	want := (0.9 + 8.0/9) / 3
	if got := Silhouette(d, []int{0, 0, 1}); math.Abs(got-want) > 1e-15 {
		t.Errorf("silhouette %.17g, want %.17g", got, want)
	}
	if got := Silhouette(d, []int{0, 0, 0}); got != 0 {
		t.Errorf("one cluster: %g, want 0", got)
	}
	w := SilhouetteWidths(d, []int{0, 0, 1})
	for i, want := range []float64{0.9, 8.0 / 9, 0} {
		if math.Abs(w[i]-want) > 1e-15 {
			t.Errorf("width of item %d = %.17g, want %.17g", i, w[i], want)
		}
	}
	if w := SilhouetteWidths(d, []int{0, 0, 0}); w != nil {
		t.Errorf("one cluster: widths %v, want nil (undefined)", w)
	}
}

func TestAdjustedRand(t *testing.T) {
	for _, tc := range []struct {
		x, y []int
		want float64
	}{
		{[]int{0, 0, 1, 1}, []int{1, 1, 0, 0}, 1},
		{[]int{0, 0, 0, 0}, []int{0, 0, 0, 0}, 1},
		// index = 1, Σa = 2, Σb = 1, expected = 2/6, max = 1.5 → (1 − 1/3)/(1.5 − 1/3) = 4/7
		{[]int{0, 0, 1, 1}, []int{0, 0, 1, 2}, 4.0 / 7},
		// index = 0, Σa = 2, Σb = 2, expected = 4/6, max = 2 → −(2/3)/(4/3) = −1/2
		{[]int{0, 0, 1, 1}, []int{0, 1, 0, 1}, -0.5},
	} {
		if got := AdjustedRand(tc.x, tc.y); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("ARI(%v, %v) = %.17g, want %.17g", tc.x, tc.y, got, tc.want)
		}
	}
}

func TestCramersV(t *testing.T) {
	if v := CramersV([][]int{{10, 0}, {0, 10}}); math.Abs(v-1) > 1e-15 {
		t.Errorf("perfect association: V = %g, want 1", v)
	}
	if v := CramersV([][]int{{5, 5}, {5, 5}}); v != 0 {
		t.Errorf("independence: V = %g, want 0", v)
	}
	// χ² of [[10, 20], [30, 40]]: n = 100, expected [[12, 18], [28, 42]]
	// → 4/12 + 4/18 + 4/28 + 4/42 = 0.79365…, V = √(χ²/100).
	chi := 4.0/12 + 4.0/18 + 4.0/28 + 4.0/42
	if v := CramersV([][]int{{10, 20}, {30, 40}}); math.Abs(v-math.Sqrt(chi/100)) > 1e-15 {
		t.Errorf("V = %.17g, want %.17g", v, math.Sqrt(chi/100))
	}
	if v := CramersV([][]int{{3, 4}, {0, 0}}); v != 0 {
		t.Errorf("one non-empty row: V = %g, want 0", v)
	}
}

func TestAssociationTest(t *testing.T) {
	// 4 rules × 10 seeds; a network's family is its rule's parity.
	var groups, strata, determined, random []int
	rng := rand.New(rand.NewPCG(5, 6))
	for r := range 4 {
		for s := range 10 {
			groups = append(groups, r)
			strata = append(strata, s)
			determined = append(determined, r%2)
			random = append(random, rng.IntN(2))
		}
	}
	a, err := AssociationTest(groups, determined, strata, 999, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.V-1) > 1e-12 || a.P != 1.0/1000 {
		t.Errorf("families set by the rule: V %g p %g, want 1 and 1/1000", a.V, a.P)
	}
	b, err := AssociationTest(groups, random, strata, 999, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if b.P < 0.05 {
		t.Errorf("families independent of the rule: V %g p %g, want p ≥ 0.05 for this fixed draw", b.V, b.P)
	}
	if _, err := AssociationTest(groups, random[:3], strata, 9, rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "one of each per network") {
		t.Errorf("mismatched lengths: %v", err)
	}
}

func TestCombineDistances(t *testing.T) {
	a := Distances{N: 3, D: []float64{0, 1, 2, 1, 0, 3, 2, 3, 0}}       // median 2
	b := Distances{N: 3, D: []float64{0, 10, 10, 10, 0, 40, 10, 40, 0}} // median 10
	c, err := CombineDistances([]Distances{a, b}, []float64{1, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0.5 + 0.5, 1 + 0.5, 0.5 + 0.5, 0, 1.5 + 2, 1 + 0.5, 1.5 + 2, 0}
	for i := range want {
		if math.Abs(c.D[i]-want[i]) > 1e-15 {
			t.Fatalf("combined %v, want %v", c.D, want)
		}
	}
	if _, err := CombineDistances([]Distances{a}, []float64{-1}); err == nil || !strings.Contains(err.Error(), "weight 0") {
		t.Errorf("negative weight: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  func() error
		want string
	}{
		{"asymmetric", func() error { _, err := NewDistances(2, []float64{0, 1, 2, 0}); return err }, "must be symmetric"},
		{"diagonal", func() error { _, err := NewDistances(2, []float64{1, 1, 1, 0}); return err }, "to itself"},
		{"nan", func() error { _, err := NewDistances(2, []float64{0, math.NaN(), math.NaN(), 0}); return err }, "finite value"},
		{"size", func() error { _, err := NewDistances(3, []float64{0}); return err }, "want n² = 9"},
		{"min_families", func() error { return Settings{MinFamilies: 1}.Check() }, "min_families = 1"},
		{"max_families", func() error { return Settings{MinFamilies: 4, MaxFamilies: 3}.Check() }, "max_families = 3"},
		{"fraction", func() error { return Settings{Fraction: 1}.Check() }, "fraction = 1"},
		{"resamples", func() error { return Settings{Resamples: -2}.Check() }, "resamples = -2"},
		{"few networks", func() error {
			_, err := Cluster(context.Background(), Distances{N: 2, D: []float64{0, 1, 1, 0}}, Settings{})
			return err
		}, "at least 3"},
	} {
		err := tc.err()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
}

func BenchmarkCluster1000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xy, _ := blobs(rng, [][2]float64{{0, 0}, {10, 0}, {0, 10}, {10, 10}, {5, 5}}, 200, 1.5)
	d := points(xy)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Cluster(context.Background(), d, Settings{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAverageLinkage1000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	xy := make([][2]float64, 1000)
	for i := range xy {
		xy[i] = [2]float64{rng.Float64(), rng.Float64()}
	}
	d := points(xy)
	b.ResetTimer()
	for b.Loop() {
		AverageLinkage(d)
	}
}
