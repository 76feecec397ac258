package rsa

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// Permutation is the result of PermutationTest.
type Permutation struct {
	Within       float64 // mean similarity over pairs i < j with the same label
	Between      float64 // mean similarity over pairs with different labels
	Observed     float64 // Within − Between
	P            float64 // one-sided p-value (count(null ≥ Observed) + 1)/(Permutations + 1)
	Permutations int
}

// PermutationTest tests whether items with the same label (e.g. networks
// trained with the same rule) are more similar to each other than to items
// with other labels. The statistic is the mean of S_ij over the pairs i < j
// with equal labels minus the mean over the pairs with different labels (the
// diagonal is not used); its null distribution comes from permutations
// random shuffles of the labels drawn from rng, and the one-sided p-value
// counts the shuffles whose statistic is at least the observed one, plus
// one, over permutations + 1 (so P ≥ 1/(permutations+1) and is valid, i.e.
// P(p ≤ α) ≤ α, under exchangeability).
func PermutationTest(s mat.Symmetric, labels []int, permutations int, rng *rand.Rand) (*Permutation, error) {
	n := s.SymmetricDim()
	if len(labels) != n {
		return nil, fmt.Errorf("rsa: %d labels for a %d×%d similarity matrix: give one label per item", len(labels), n, n)
	}
	if permutations < 1 {
		return nil, fmt.Errorf("rsa: permutations = %d: must be positive", permutations)
	}
	if rng == nil {
		return nil, fmt.Errorf("rsa: rng is nil: pass a seeded *rand.Rand")
	}
	vals := make([]float64, 0, Pairs(n))
	total := 0.0
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := s.At(i, j)
			vals = append(vals, v)
			total += v
		}
	}
	within := func(l []int) (sum float64, count int) {
		k := 0
		for i := range n {
			for j := i + 1; j < n; j++ {
				if l[i] == l[j] {
					sum += vals[k]
					count++
				}
				k++
			}
		}
		return sum, count
	}
	ws, nw := within(labels)
	nb := len(vals) - nw
	if nw == 0 || nb == 0 {
		return nil, fmt.Errorf("rsa: labels give %d within-group and %d between-group pairs: need at least one of each", nw, nb)
	}
	stat := func(ws float64) float64 { return ws/float64(nw) - (total-ws)/float64(nb) }
	res := &Permutation{
		Within:       ws / float64(nw),
		Between:      (total - ws) / float64(nb),
		Observed:     stat(ws),
		Permutations: permutations,
	}
	perm := append([]int(nil), labels...)
	count := 0
	for range permutations {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		w, _ := within(perm)
		if stat(w) >= res.Observed {
			count++
		}
	}
	res.P = float64(count+1) / float64(permutations+1)
	return res, nil
}
