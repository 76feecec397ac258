package dsa_test

import (
	"math/rand/v2"
	"testing"

	"rulescape/core/dsa"
)

// BenchmarkDSAPair is the DSA distance of one pair of operators at the
// default settings (rank 10, DefaultOptimizer), fitted from ring and
// two-point systems embedded in 50 units.
func BenchmarkDSAPair(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := dsa.DefaultSettings()
	x, err := dsa.Fit(simulate(ring, 4, 100, 50, rng), 50, s)
	if err != nil {
		b.Fatal(err)
	}
	y, err := dsa.Fit(simulate(twoPoints, 4, 100, 50, rng), 50, s)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := dsa.Distance(x, y, dsa.DefaultOptimizer()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpectralAllPairs is the spectral distance of all 499,500 pairs
// of 1,000 operators of rank 10 (eigenvalues of random operators near the
// unit disc), on all cores.
func BenchmarkSpectralAllPairs(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, r = 1000, 10
	ops := make([]*dsa.Operator, n)
	for k := range ops {
		ev := make([]complex128, r)
		for i := 0; i < r; i += 2 {
			re, im := 0.9*rng.Float64(), 0.3*rng.NormFloat64()
			ev[i], ev[i+1] = complex(re, im), complex(re, -im)
		}
		dsa.SortEigen(ev)
		ops[k] = &dsa.Operator{Rank: r, Eigen: ev}
	}
	for b.Loop() {
		if _, err := dsa.SpectralAll(b.Context(), ops, 0); err != nil {
			b.Fatal(err)
		}
	}
}
