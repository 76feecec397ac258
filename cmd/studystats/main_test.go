package main

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
	"rulescape/schemas"
)

// TestSubsetTest: the subset test equals rsa.StratifiedPermutationTest on
// the similarity matrix of the chosen rules' networks assembled by hand,
// whatever order the pairs come in, and sees a planted rule effect.
func TestSubsetTest(t *testing.T) {
	rules := []string{"a", "b", "c"}
	const seeds = 10
	// Similarity: 0.5 + 0.3 for the same rule + 0.1 for the same seed,
	// except that rule c is like rule a (no effect between a and c).
	group := map[string]int{"a": 0, "b": 1, "c": 0}
	sim := func(x, y item) float64 {
		v := 0.5
		if group[x.rule] == group[y.rule] {
			v += 0.3
		}
		if x.seed == y.seed {
			v += 0.1
		}
		return v + 0.01*math.Sin(float64(7*x.seed+3*y.seed)) // no exact ties
	}
	var items []item
	for _, r := range rules {
		for s := int64(1); s <= seeds; s++ {
			items = append(items, item{r, s})
		}
	}
	var pairs []pair
	for i := len(items) - 1; i >= 0; i-- { // reverse order on purpose
		for j := 0; j < i; j++ {
			pairs = append(pairs, pair{"t", "m", items[i], items[j], sim(items[i], items[j])})
		}
	}
	for _, tc := range []struct {
		subset []string
		n      int
		effect bool
	}{
		{nil, 30, true},
		{[]string{"a", "b"}, 20, true},
		{[]string{"a", "c"}, 20, false},
	} {
		got, err := test(pairs, tc.subset, 999)
		if err != nil {
			t.Fatal(err)
		}
		// The same test by hand: items sorted by rule then seed.
		var chosen []item
		for _, it := range items {
			if tc.subset == nil || it.rule == tc.subset[0] || it.rule == tc.subset[len(tc.subset)-1] {
				chosen = append(chosen, it)
			}
		}
		s := mat.NewSymDense(len(chosen), nil)
		labels, blocks := make([]int, len(chosen)), make([]int, len(chosen))
		ids := map[string]int{}
		for i, x := range chosen {
			if _, ok := ids[x.rule]; !ok {
				ids[x.rule] = len(ids)
			}
			labels[i], blocks[i] = ids[x.rule], int(x.seed)
			for j, y := range chosen[:i] {
				s.SetSym(i, j, sim(x, y))
			}
		}
		want, err := rsa.StratifiedPermutationTest(s, labels, blocks, 999, rand.New(rand.NewPCG(0, permStream)))
		if err != nil {
			t.Fatal(err)
		}
		if got.n != tc.n || got.Observed != want.Observed || got.P != want.P || got.SameBlockBetween != want.SameBlockBetween {
			t.Errorf("subset %v: n %d, observed %v, p %v, same-seed %v; want %d, %v, %v, %v",
				tc.subset, got.n, got.Observed, got.P, got.SameBlockBetween, tc.n, want.Observed, want.P, want.SameBlockBetween)
		}
		if tc.effect != (got.P < 0.01) {
			t.Errorf("subset %v: p = %v, observed %v; want a rule effect: %v", tc.subset, got.P, got.Observed, tc.effect)
		}
	}
	if _, err := test(pairs, []string{"a"}, 99); err == nil {
		t.Error("a subset of one rule's networks: want an error (no between-rule pairs)")
	}
}

// TestParseSeeds: ranges and lists; "" is every seed.
func TestParseSeeds(t *testing.T) {
	got, err := parseSeeds("11-13,20")
	if err != nil || len(got) != 4 || !got[11] || !got[12] || !got[13] || !got[20] || got[14] {
		t.Errorf("parseSeeds(11-13,20) = %v, %v", got, err)
	}
	if got, err := parseSeeds(""); got != nil || err != nil {
		t.Errorf(`parseSeeds("") = %v, %v; want nil (all seeds)`, got, err)
	}
	for _, bad := range []string{"x", "5-3", "1-", "1,,2"} {
		if _, err := parseSeeds(bad); err == nil {
			t.Errorf("parseSeeds(%q): no error", bad)
		}
	}
}

// The learning table's quartiles are type 7 (R, NumPy): four networks
// with mean errors 1, 2, 3, 4 have median 2.5 and quartiles 1.75, 3.25
// (gonum's LinInterp, type 4, would give 2, 1 and 3).
func TestLearningQuartiles(t *testing.T) {
	var curves []schemas.LearningCurveRow
	var nets []schemas.NetworkRow
	for s := range int64(4) {
		for h := range int64(3) {
			curves = append(curves, schemas.LearningCurveRow{Task: "t", Rule: "r", Seed: s, Trial: h, Error: float64(s + 1), Correct: h > 0})
		}
		nets = append(nets, schemas.NetworkRow{Task: "t", Rule: "r", Seed: s, TrialsToCriterion: -1 + 2*(s%2)})
	}
	var b strings.Builder
	learning(&b, outcomes(curves, nets, 2), 2)
	if want := "| t | r | 4 | 2.50 [1.75, 3.25] | 100% [100%, 100%] | 2 of 4 |"; !strings.Contains(b.String(), want) {
		t.Errorf("learning table:\n%s\nwant the row %s", b.String(), want)
	}
}

func TestWilson(t *testing.T) {
	// Closed form: Wilson (1927); 8 of 20 is the textbook example's
	// [0.2188, 0.6134], and the interval of 0 or n successes is one-sided.
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{{8, 20, 0.21876, 0.61340}, {0, 20, 0, 0.16113}, {20, 20, 0.83887, 1}} {
		lo, hi := wilson(c.k, c.n)
		if math.Abs(lo-c.lo) > 1e-4 || math.Abs(hi-c.hi) > 1e-4 {
			t.Errorf("wilson(%d, %d) = [%.5f, %.5f], want [%.5f, %.5f]", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func TestMcNemar(t *testing.T) {
	// Exact binomial tails by hand: 2·(1/2⁵); 2·(1 + 10)/2¹⁰; a tie is p = 1.
	for _, c := range []struct {
		b, c int
		p    float64
	}{{0, 5, 0.0625}, {9, 1, 22.0 / 1024}, {3, 3, 1}, {0, 0, 1}} {
		if p := mcnemar(c.b, c.c); math.Abs(p-c.p) > 1e-12 {
			t.Errorf("mcnemar(%d, %d) = %g, want %g", c.b, c.c, p, c.p)
		}
	}
}

func TestCensoredMedian(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		ts   []float64
		want float64
	}{{[]float64{3, 1, 2}, 2}, {[]float64{1, 2, 3, inf}, 2.5}, {[]float64{1, 2, inf, inf}, inf}, {[]float64{1, inf, inf}, inf}} {
		if got := censoredMedian(c.ts); got != c.want {
			t.Errorf("censoredMedian(%v) = %g, want %g", c.ts, got, c.want)
		}
	}
}

func TestBootCI(t *testing.T) {
	// The mean of 0…99: the interval covers 49.5, has about the normal
	// width ±1.96·σ/√n = ±5.6, and the same seed gives the same interval.
	mean := func(idx []int) float64 {
		var s float64
		for _, j := range idx {
			s += float64(j)
		}
		return s / float64(len(idx))
	}
	lo, hi := bootCI(100, 4000, 1, mean)
	if !(lo < 49.5 && 49.5 < hi) || math.Abs((hi-lo)/2-5.66) > 0.8 {
		t.Errorf("bootstrap interval of the mean of 0…99: [%.2f, %.2f], want ≈ 49.5 ± 5.7", lo, hi)
	}
	if lo2, hi2 := bootCI(100, 4000, 1, mean); lo2 != lo || hi2 != hi {
		t.Errorf("same seed, different interval: [%g, %g] vs [%g, %g]", lo, hi, lo2, hi2)
	}
}

func TestQuantileInf(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4, 5}, 0.5, 3},
		{[]float64{1, 2, 3, 4, 5}, 0.1, 1.4},
		{[]float64{1, 2, inf, inf, inf}, 0.5, inf},
		{[]float64{1, 2, 3, inf, inf}, 0.5, 3},
		{[]float64{1, 2, 3, inf, inf}, 0.6, inf},
		{[]float64{inf, inf}, 0.025, inf},
		{[]float64{1, 2, inf}, 0.5, 2},
		{[]float64{1, 2, inf}, 0.75, inf},
	} {
		if got := quantileInf(c.xs, c.p); !(math.Abs(got-c.want) <= 1e-12 || got == c.want) {
			t.Errorf("quantileInf(%v, %g) = %g, want %g", c.xs, c.p, got, c.want)
		}
	}
}

// TestConsecutiveCosines checks the gradient-persistence statistic on
// histories with known answers: a fixed direction (cosine 1 however the
// coordinates are scaled), alternating signs (−1), orthogonal steps (0),
// a coordinate that is zero throughout (left out), and independent
// Gaussian gradients (mean within 4 standard errors of 0).
func TestConsecutiveCosines(t *testing.T) {
	for _, c := range []struct {
		name  string
		grads [][]float64
		want  []float64
	}{
		{"fixed direction, scales 1e6 apart", [][]float64{{1e6, 1}, {2e6, 2}, {3e6, 3}}, []float64{1, 1}},
		{"alternating", [][]float64{{1, 2}, {-1, -2}, {1, 2}}, []float64{-1, -1}},
		{"orthogonal", [][]float64{{1, 0, 0}, {0, 1, 0}}, []float64{0}},
		{"zero coordinate left out", [][]float64{{0, 1}, {0, 1}}, []float64{1}},
		{"one iteration", [][]float64{{1, 2}}, nil},
	} {
		got := consecutiveCosines(c.grads)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]-c.want[i]) > 1e-12 {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	grads := make([][]float64, 2000)
	for i := range grads {
		grads[i] = make([]float64, 16)
		for q := range grads[i] {
			grads[i][q] = rng.NormFloat64() * math.Pow(10, float64(q%5))
		}
	}
	m, se := meanSE(consecutiveCosines(grads))
	if math.Abs(m) > 4*se || se > 0.01 {
		t.Errorf("independent gradients: mean cosine %g ± %g, want 0 within 4 s.e. (s.e. ≈ 0.25/√2000)", m, se)
	}
}

// TestMeanSE checks meanSE against hand computation.
func TestMeanSE(t *testing.T) {
	m, se := meanSE([]float64{1, 2, 3, 4})
	if m != 2.5 || math.Abs(se-math.Sqrt(5.0/3/4)) > 1e-15 {
		t.Errorf("meanSE(1,2,3,4) = %g, %g; want 2.5, %g", m, se, math.Sqrt(5.0/3/4))
	}
	if m, se := meanSE([]float64{7}); m != 7 || !math.IsNaN(se) {
		t.Errorf("meanSE(7) = %g, %g; want 7, NaN", m, se)
	}
}

// TestRulesPresent: the subset test runs for a task only when the subset
// names at least two of its rules.
func TestRulesPresent(t *testing.T) {
	pairs := []pair{{"cdi", "cka", item{"miconi", 1}, item{"random", 2}, 0.5}, {"cdi", "cka", item{"miconi", 2}, item{"miconi", 1}, 0.7}}
	for _, c := range []struct {
		set  []string
		want int
	}{
		{[]string{"discovered-dnms", "miconi"}, 1},
		{[]string{"miconi", "random"}, 2},
		{[]string{"discovered-dnms"}, 0},
	} {
		if got := rulesPresent(pairs, c.set); got != c.want {
			t.Errorf("rulesPresent(%v) = %d, want %d", c.set, got, c.want)
		}
	}
}

// TestMeanText checks the table's number format: three decimals, or three
// significant digits below 0.1, with the sign of a difference on request.
func TestMeanText(t *testing.T) {
	for _, c := range []struct {
		v    float64
		flag string
		want string
	}{
		{0.6081, "", "0.608"},
		{0.00612, "", "0.00612"},
		{-0.000614, "+", "-0.000614"},
		{0.034, "+", "+0.034"},
		{0.134, "+", "+0.134"},
		{-1.934, "", "-1.934"},
		{0, "+", "+0.000"},
	} {
		if got := meanText(c.v, c.flag); got != c.want {
			t.Errorf("meanText(%g, %q) = %q, want %q", c.v, c.flag, got, c.want)
		}
	}
}
