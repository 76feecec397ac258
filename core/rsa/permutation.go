package rsa

import (
	"fmt"
	"math"
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
	pairs := make([]labelPair, 0, Pairs(n))
	for i := range n {
		for j := i + 1; j < n; j++ {
			pairs = append(pairs, labelPair{i, j, s.At(i, j)})
		}
	}
	within, between, observed, p, err := permute(pairs, labels, permutations, "", func(perm []int) {
		rng.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	})
	if err != nil {
		return nil, err
	}
	return &Permutation{Within: within, Between: between, Observed: observed, P: p, Permutations: permutations}, nil
}

// Stratified is the result of StratifiedPermutationTest.
type Stratified struct {
	Within       float64 // mean similarity over cross-block pairs with the same label
	Between      float64 // mean similarity over cross-block pairs with different labels
	Observed     float64 // Within − Between
	P            float64 // one-sided p-value (count(null ≥ Observed) + 1)/(Permutations + 1)
	Permutations int
	// SameBlockBetween is the mean similarity over pairs of one block with
	// different labels (e.g. two rules trained from the same seed, hence the
	// same W⁰), NaN when there are none. It is not part of the test; it
	// shows how much a shared block alone makes items alike.
	SameBlockBetween float64
	SameBlockPairs   int // pairs behind SameBlockBetween
}

// StratifiedPermutationTest is PermutationTest for items that come in
// blocks sharing a nuisance factor — networks trained from the same seed
// share their initial weights W⁰ and trial draws, so two rules' networks of
// one seed are more alike than two of different seeds. The statistic uses
// only pairs i < j from different blocks: the mean of S_ij over those with
// equal labels minus the mean over those with different labels. Its null
// distribution shuffles the labels within each block only (the labels of a
// block are exchangeable under the null, and each block keeps its label
// multiset, so the nuisance factor is held fixed); the p-value is
// (count(null ≥ observed) + 1)/(permutations + 1), valid under
// within-block exchangeability. It fails when no block holds two different
// labels (the stratified null would be degenerate: use PermutationTest, as
// no two items then share a block and a label pattern) or when the
// cross-block pairs lack a within or a between pair.
func StratifiedPermutationTest(s mat.Symmetric, labels, blocks []int, permutations int, rng *rand.Rand) (*Stratified, error) {
	n := s.SymmetricDim()
	if len(labels) != n || len(blocks) != n {
		return nil, fmt.Errorf("rsa: %d labels and %d blocks for a %d×%d similarity matrix: give one label and one block per item", len(labels), len(blocks), n, n)
	}
	if permutations < 1 {
		return nil, fmt.Errorf("rsa: permutations = %d: must be positive", permutations)
	}
	if rng == nil {
		return nil, fmt.Errorf("rsa: rng is nil: pass a seeded *rand.Rand")
	}
	// members[b] lists the items of each block with two or more labels.
	byBlock := map[int][]int{}
	var order []int
	for i, b := range blocks {
		if _, ok := byBlock[b]; !ok {
			order = append(order, b)
		}
		byBlock[b] = append(byBlock[b], i)
	}
	var members [][]int
	for _, b := range order {
		items := byBlock[b]
		for _, i := range items[1:] {
			if labels[i] != labels[items[0]] {
				members = append(members, items)
				break
			}
		}
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("rsa: no block holds two different labels: the stratified null is degenerate — use PermutationTest")
	}
	var cross []labelPair
	res := &Stratified{Permutations: permutations, SameBlockBetween: math.NaN()}
	sameSum := 0.0
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := s.At(i, j)
			if blocks[i] != blocks[j] {
				cross = append(cross, labelPair{i, j, v})
			} else if labels[i] != labels[j] {
				sameSum += v
				res.SameBlockPairs++
			}
		}
	}
	if res.SameBlockPairs > 0 {
		res.SameBlockBetween = sameSum / float64(res.SameBlockPairs)
	}
	// Shuffling within blocks keeps each block's label counts.
	var err error
	res.Within, res.Between, res.Observed, res.P, err = permute(cross, labels, permutations, " across blocks", func(perm []int) {
		for _, items := range members {
			rng.Shuffle(len(items), func(a, b int) {
				ia, ib := items[a], items[b]
				perm[ia], perm[ib] = perm[ib], perm[ia]
			})
		}
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// labelPair is a pair of items i < j and their similarity.
type labelPair struct {
	i, j int
	v    float64
}

// permute is the test both permutation tests run on their pairs: the mean
// similarity of the pairs whose labels are equal (within), of the others
// (between), observed = within − between, and the one-sided p-value
// (count(null ≥ observed) + 1)/(permutations + 1) over permutations
// relabellings by shuffle, which permutes perm (a copy of labels) in place.
// shuffle must keep the number of within pairs (any permutation of all the
// items does, and so does one within blocks). where ends the error message
// when the pairs lack a within or a between pair.
func permute(pairs []labelPair, labels []int, permutations int, where string, shuffle func(perm []int)) (within, between, observed, p float64, err error) {
	total := 0.0
	for _, q := range pairs {
		total += q.v
	}
	sumWithin := func(l []int) (sum float64, count int) {
		for _, q := range pairs {
			if l[q.i] == l[q.j] {
				sum += q.v
				count++
			}
		}
		return sum, count
	}
	ws, nw := sumWithin(labels)
	nb := len(pairs) - nw
	if nw == 0 || nb == 0 {
		return 0, 0, 0, 0, fmt.Errorf("rsa: labels give %d within-label and %d between-label pairs%s: need at least one of each", nw, nb, where)
	}
	stat := func(ws float64) float64 { return ws/float64(nw) - (total-ws)/float64(nb) }
	observed = stat(ws)
	perm := append([]int(nil), labels...)
	count := 0
	for range permutations {
		shuffle(perm)
		if w, _ := sumWithin(perm); stat(w) >= observed {
			count++
		}
	}
	return ws / float64(nw), (total - ws) / float64(nb), observed, float64(count+1) / float64(permutations+1), nil
}
