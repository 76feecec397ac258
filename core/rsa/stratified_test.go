package rsa_test

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
)

// seedBlocked returns a similarity matrix of rules × seeds networks (item
// rule·seeds + seed): iid N(0,1) entries plus seedShift on pairs of one
// seed and ruleShift on pairs of one rule.
func seedBlocked(rng *rand.Rand, rules, seeds int, seedShift, ruleShift float64) (*mat.SymDense, []int, []int) {
	n := rules * seeds
	labels, blocks := make([]int, n), make([]int, n)
	for i := range n {
		labels[i], blocks[i] = i/seeds, i%seeds
	}
	s := mat.NewSymDense(n, nil)
	for i := range n {
		s.SetSym(i, i, 1)
		for j := i + 1; j < n; j++ {
			v := rng.NormFloat64()
			if blocks[i] == blocks[j] {
				v += seedShift
			}
			if labels[i] == labels[j] {
				v += ruleShift
			}
			s.SetSym(i, j, v)
		}
	}
	return s, labels, blocks
}

func ksUniform(ps []float64) float64 {
	sort.Float64s(ps)
	ks := 0.0
	n := float64(len(ps))
	for i, p := range ps {
		ks = max(ks, math.Abs(float64(i+1)/n-p), math.Abs(p-float64(i)/n))
	}
	return ks
}

// With a strong seed effect and no rule effect, the stratified test's
// p-values are uniform (KS below the 1% critical value), while the
// unstratified test, whose between-rule pairs include the similar
// same-seed pairs, piles its p-values near 1. With a rule effect the
// stratified test finds it.
func TestStratifiedPermutationTestCalibration(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const sets, perms, rules, seeds = 200, 99, 3, 6
	strat, plain := make([]float64, sets), make([]float64, sets)
	for k := range sets {
		s, labels, blocks := seedBlocked(rng, rules, seeds, 3, 0)
		res, err := rsa.StratifiedPermutationTest(s, labels, blocks, perms, rng)
		if err != nil {
			t.Fatal(err)
		}
		strat[k] = res.P
		if res.SameBlockPairs != seeds*rules*(rules-1)/2 || !(res.SameBlockBetween > 2) {
			t.Fatalf("same-seed pairs %d with mean %v, want %d with mean ≈ 3", res.SameBlockPairs, res.SameBlockBetween, seeds*rules*(rules-1)/2)
		}
		p, err := rsa.PermutationTest(s, labels, perms, rng)
		if err != nil {
			t.Fatal(err)
		}
		plain[k] = p.P
	}
	crit := 1.628 / math.Sqrt(sets)
	if ks := ksUniform(strat); ks > crit {
		t.Errorf("stratified: KS statistic %.4f above the 1%% critical value %.4f: p-values not uniform under the null", ks, crit)
	}
	if ks := ksUniform(plain); ks <= crit {
		t.Errorf("unstratified: KS statistic %.4f: want the seed effect to bias it (the test would not show the need for stratification)", ks)
	}
	s, labels, blocks := seedBlocked(rng, rules, seeds, 3, 1.5)
	res, err := rsa.StratifiedPermutationTest(s, labels, blocks, 999, rng)
	if err != nil {
		t.Fatal(err)
	}
	if res.P >= 0.01 || !(res.Observed > 1) || res.Observed != res.Within-res.Between {
		t.Errorf("clear rule effect: p = %v, observed %v (within %v, between %v)", res.P, res.Observed, res.Within, res.Between)
	}
}

func TestStratifiedPermutationTestHandComputed(t *testing.T) {
	// Rules {0,1} × seeds {a,b}: items 0 = (r0,a), 1 = (r0,b), 2 = (r1,a), 3 = (r1,b).
	// Cross-seed pairs: (0,1) within 5, (2,3) within 3, (0,3) between 2,
	// (1,2) between 0. Same-seed pairs (0,2) = 9 and (1,3) = 7 are left out
	// of the statistic: within 4, between 1, observed 3; same-seed mean 8.
	// Shuffling within seeds gives 4 labelings, two with the observed
	// partition ({0,1},{2,3} up to names) and two with within mean 1.
	s := mat.NewSymDense(4, []float64{
		0, 5, 9, 2,
		5, 0, 0, 7,
		9, 0, 0, 3,
		2, 7, 3, 0,
	})
	res, err := rsa.StratifiedPermutationTest(s, []int{0, 0, 1, 1}, []int{10, 11, 10, 11}, 4000, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if res.Within != 4 || res.Between != 1 || res.Observed != 3 || res.SameBlockBetween != 8 || res.SameBlockPairs != 2 {
		t.Errorf("got %+v", res)
	}
	if math.Abs(res.P-0.5) > 0.03 {
		t.Errorf("p = %v, want ≈ 1/2", res.P)
	}
	for _, c := range []struct {
		name           string
		labels, blocks []int
	}{
		{"every block one label", []int{0, 0, 1, 1}, []int{1, 1, 2, 2}},
		{"one block", []int{0, 0, 1, 1}, []int{1, 1, 1, 1}},
		{"length", []int{0, 1, 0}, []int{1, 1, 2, 2}},
	} {
		if _, err := rsa.StratifiedPermutationTest(s, c.labels, c.blocks, 10, rand.New(rand.NewPCG(1, 2))); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
