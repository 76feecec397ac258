package rsa_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
)

// Three stimuli of three units: correlation distance, and the agreement of
// two RDMs.
func ExampleRDM() {
	resp := &rsa.Responses{Conditions: []int{0, 1, 2}, Bins: 1, Units: 3,
		Data: []float64{1, 2, 3, 3, 2, 1, 1, 3, 2}}
	d, err := rsa.RDM(resp, rsa.Correlation)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.2f\n", d)
	e, _ := rsa.RDM(resp, rsa.SqEuclideanPerUnit)
	rho, _ := rsa.Compare(d, e, rsa.Spearman)
	fmt.Printf("spearman %.2f\n", rho)
	// Output:
	// [2.00 0.50 1.50]
	// spearman 1.00
}

// A population of networks: two "rules", each a random representation seen
// through different random rotations and noise. CKA between all networks,
// MDS of 1 − CKA, and the permutation test of within- vs between-rule CKA.
// With two groups of four there are only 35 distinct splits, so no test can
// give p below about 1/35. (Linear CKA of unrelated matrices with few
// samples is far from 0: compare against a between-group baseline, as here.)
func ExamplePermutationTest() {
	rng := rand.New(rand.NewPCG(1, 2))
	const stimuli, units = 12, 20
	base := []*mat.Dense{randMatrix(rng, stimuli, units), randMatrix(rng, stimuli, units)}
	var nets []*mat.Dense
	var labels []int
	for rule := range 2 {
		for range 4 {
			var y mat.Dense
			y.Mul(base[rule], randOrthogonal(rng, units))
			y.Add(&y, scaled(randMatrix(rng, stimuli, units), 0.3))
			nets = append(nets, &y)
			labels = append(labels, rule)
		}
	}
	cka, err := rsa.SimilarityMatrix(nets, func(a, b *mat.Dense) (float64, error) {
		return rsa.LinearCKA(a, b)
	}, 0)
	if err != nil {
		panic(err)
	}
	d := mat.NewSymDense(len(nets), nil)
	for i := range len(nets) {
		for j := i + 1; j < len(nets); j++ {
			d.SetSym(i, j, 1-cka.At(i, j))
		}
	}
	emb, _ := rsa.ClassicalMDS(d, 2)
	fmt.Println("embedding:", emb.Coords.RawMatrix().Rows, "networks in 2-D")
	res, _ := rsa.PermutationTest(cka, labels, 999, rng)
	fmt.Printf("within %.2f > between %.2f, p = %.3f\n", res.Within, res.Between, res.P)
	// Output:
	// embedding: 8 networks in 2-D
	// within 0.94 > between 0.64, p = 0.028
}

func scaled(m *mat.Dense, s float64) *mat.Dense {
	m.Scale(s, m)
	return m
}

// Two rules × four seeds; networks of one seed share W⁰, which makes them
// alike whatever their rule (+2 similarity), and the rules differ a little
// (+0.5 within a rule). The stratified test compares pairs of different
// seeds only, shuffles the rules within each seed, and reports the
// same-seed similarity apart.
func ExampleStratifiedPermutationTest() {
	rng := rand.New(rand.NewPCG(3, 4))
	const rules, seeds = 2, 4
	n := rules * seeds
	labels, blocks := make([]int, n), make([]int, n)
	s := mat.NewSymDense(n, nil)
	for i := range n {
		labels[i], blocks[i] = i/seeds, i%seeds
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			v := 0.1 * rng.NormFloat64()
			if blocks[i] == blocks[j] {
				v += 2
			}
			if labels[i] == labels[j] {
				v += 0.5
			}
			s.SetSym(i, j, v)
		}
	}
	res, err := rsa.StratifiedPermutationTest(s, labels, blocks, 999, rng)
	if err != nil {
		panic(err)
	}
	fmt.Printf("within − between across seeds %.1f; same seed %.1f over %d pairs\n",
		res.Observed, res.SameBlockBetween, res.SameBlockPairs)
	// 2⁴ relabelings within seeds, 8 distinct splits: p is at least ≈ 1/8.
	fmt.Printf("p = %.2f\n", res.P)
	// Output:
	// within − between across seeds 0.6; same seed 2.0 over 4 pairs
	// p = 0.13
}
