package atlas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// CombineDistances returns Σ_m w_m D_m / median(D_m) over the off-diagonal
// entries of each matrix, so that measures in different units weigh as the
// weights say. A matrix whose off-diagonal median is 0 is divided by its
// mean instead, and an all-zero matrix contributes nothing.
func CombineDistances(ds []Distances, weights []float64) (Distances, error) {
	if len(ds) == 0 || len(ds) != len(weights) {
		return Distances{}, fmt.Errorf("atlas: %d distance matrices and %d weights: give one weight per matrix", len(ds), len(weights))
	}
	n := ds[0].N
	out := make([]float64, n*n)
	for m, d := range ds {
		if d.N != n {
			return Distances{}, fmt.Errorf("atlas: distance matrix %d is %d×%d, the first is %d×%d", m, d.N, d.N, n, n)
		}
		if w := weights[m]; math.IsNaN(w) || w < 0 || math.IsInf(w, 0) {
			return Distances{}, fmt.Errorf("atlas: weight %d = %g: want a finite value ≥ 0", m, w)
		}
		off := make([]float64, 0, n*(n-1)/2)
		for i := range n {
			for j := i + 1; j < n; j++ {
				off = append(off, d.D[i*n+j])
			}
		}
		scale := median(off)
		if scale == 0 {
			for _, v := range off {
				scale += v
			}
			if len(off) > 0 {
				scale /= float64(len(off))
			}
		}
		if scale == 0 {
			continue
		}
		for i := range out {
			out[i] += weights[m] * d.D[i] / scale
		}
	}
	return Distances{N: n, D: out}, nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}

// Contingency counts the networks of each group (rows, e.g. rules 0…g−1)
// in each family (columns 0…k−1).
func Contingency(groups, families []int, g, k int) [][]int {
	t := make([][]int, g)
	for i := range t {
		t[i] = make([]int, k)
	}
	for i := range groups {
		t[groups[i]][families[i]]++
	}
	return t
}

// CramersV is Cramér's V of a contingency table: √(χ²/(n·(min(r, c) − 1)))
// over the rows and columns with any count, 0 for a table with one row or
// one column. 0 means the family does not depend on the group, 1 that the
// group determines it.
func CramersV(t [][]int) float64 {
	var rows []int
	cols := map[int]int{}
	n := 0
	for _, r := range t {
		s := 0
		for j, v := range r {
			s += v
			cols[j] += v
		}
		if s > 0 {
			rows = append(rows, s)
		}
		n += s
	}
	nc := 0
	for _, v := range cols {
		if v > 0 {
			nc++
		}
	}
	if len(rows) < 2 || nc < 2 {
		return 0
	}
	chi := 0.0
	ri := 0
	for _, r := range t {
		s := 0
		for _, v := range r {
			s += v
		}
		if s == 0 {
			continue
		}
		for j, v := range r {
			if cols[j] == 0 {
				continue
			}
			e := float64(rows[ri]) * float64(cols[j]) / float64(n)
			chi += (float64(v) - e) * (float64(v) - e) / e
		}
		ri++
	}
	return math.Sqrt(chi / (float64(n) * float64(min(len(rows), nc)-1)))
}

// Association is the result of AssociationTest.
type Association struct {
	V            float64 // Cramér's V of the rule × family table
	P            float64 // one-sided permutation p-value, (count(null ≥ V) + 1)/(Permutations + 1)
	Permutations int
}

// AssociationTest tests whether a network's group (its rule) predicts its
// family beyond chance: the statistic is Cramér's V, and its null
// distribution shuffles the groups among the networks of each stratum (the
// networks sharing an initial-weight seed), so that a seed effect on the
// family cannot pass for a rule effect.
func AssociationTest(groups, families, strata []int, permutations int, rng *rand.Rand) (*Association, error) {
	n := len(groups)
	if len(families) != n || len(strata) != n {
		return nil, fmt.Errorf("atlas: %d groups, %d families, %d strata: give one of each per network", n, len(families), len(strata))
	}
	if permutations < 1 {
		return nil, fmt.Errorf("atlas: permutations = %d: want 1 or more", permutations)
	}
	if rng == nil {
		return nil, fmt.Errorf("atlas: rng is nil: pass a seeded *rand.Rand")
	}
	g, k := slices.Max(groups)+1, slices.Max(families)+1
	v := CramersV(Contingency(groups, families, g, k))
	byStratum := map[int][]int{}
	var keys []int
	for i, s := range strata {
		if _, ok := byStratum[s]; !ok {
			keys = append(keys, s)
		}
		byStratum[s] = append(byStratum[s], i)
	}
	slices.Sort(keys)
	perm := slices.Clone(groups)
	ge := 0
	for range permutations {
		for _, s := range keys {
			idx := byStratum[s]
			rng.Shuffle(len(idx), func(a, b int) { perm[idx[a]], perm[idx[b]] = perm[idx[b]], perm[idx[a]] })
		}
		if CramersV(Contingency(perm, families, g, k)) >= v-1e-12 {
			ge++
		}
	}
	return &Association{V: v, P: float64(ge+1) / float64(permutations+1), Permutations: permutations}, nil
}
