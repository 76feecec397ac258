package stages

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// ruleTest stratifies by seed when some seed has two rules and falls back
// to the plain test when no two networks share a seed.
func TestRuleTest(t *testing.T) {
	s := mat.NewSymDense(4, []float64{
		0, 5, 9, 2,
		5, 0, 0, 7,
		9, 0, 0, 3,
		2, 7, 3, 0,
	})
	for _, c := range []struct {
		name               string
		rules              []string
		seeds              []int64
		perms              int
		tested, strat      bool
		observed, sameMean float64
	}{
		{"shared seeds", []string{"a", "a", "b", "b"}, []int64{1, 2, 1, 2}, 200, true, true, 3, 8},
		{"disjoint seeds", []string{"a", "a", "b", "b"}, []int64{1, 2, 3, 4}, 200, true, false, 4 - 4.5, math.NaN()}, // all six pairs: within (5+3)/2, between (9+2+0+7)/4
		{"no permutations", []string{"a", "a", "b", "b"}, []int64{1, 2, 1, 2}, 0, false, false, 0, 8},
		{"one rule", []string{"a", "a", "a", "a"}, []int64{1, 2, 3, 4}, 200, false, false, 0, math.NaN()},
		{"one network per rule", []string{"a", "b", "c", "d"}, []int64{1, 2, 3, 4}, 200, false, false, 0, math.NaN()},
	} {
		r, err := ruleTest(s, c.rules, c.seeds, c.perms, 9)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if r.tested != c.tested || r.stratified != c.strat || (c.tested && r.observed != c.observed) ||
			!(r.sameSeed == c.sameMean || math.IsNaN(r.sameSeed) && math.IsNaN(c.sameMean)) {
			t.Errorf("%s: %+v, want tested %v stratified %v observed %v same-seed mean %v", c.name, r, c.tested, c.strat, c.observed, c.sameMean)
		}
	}
}
