package rsa

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/mds"
)

// A hand-written statistic stays instead of gonum's only when it is at
// least 1.5× faster (docs/PERFORMANCE.md): BenchmarkMDS is that measurement
// for ClassicalMDS, and TestClassicalMDSAgreesWithGonum checks it computes
// the same thing.

// benchDistances returns the Euclidean distances of n random points in R⁵.
func benchDistances(n int) *mat.SymDense {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([][5]float64, n)
	for i := range x {
		for j := range x[i] {
			x[i][j] = rng.NormFloat64()
		}
	}
	d := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i + 1; j < n; j++ {
			s := 0.0
			for k := range 5 {
				e := x[i][k] - x[j][k]
				s += e * e
			}
			d.SetSym(i, j, math.Sqrt(s))
		}
	}
	return d
}

func BenchmarkMDS(b *testing.B) {
	for _, n := range []int{40, 120} {
		d := benchDistances(n)
		b.Run(fmt.Sprintf("n=%d/ours", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := ClassicalMDS(d, 2); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("n=%d/gonum", n), func(b *testing.B) {
			eig := make([]float64, n)
			for b.Loop() {
				var c mat.Dense
				mds.TorgersonScaling(&c, eig, d)
			}
		})
	}
}

// TestClassicalMDSAgreesWithGonum: ClassicalMDS, kept for speed, gives
// gonum's mds.TorgersonScaling eigenvalues and, column by column up to
// sign, its coordinates.
func TestClassicalMDSAgreesWithGonum(t *testing.T) {
	const n = 30
	d := benchDistances(n)
	ours, err := ClassicalMDS(d, 3)
	if err != nil {
		t.Fatal(err)
	}
	var theirs mat.Dense
	eig := make([]float64, n)
	k, _ := mds.TorgersonScaling(&theirs, eig, d)
	if k < 3 {
		t.Fatalf("gonum kept %d dimensions of points in R⁵", k)
	}
	for i, v := range eig {
		if math.Abs(v-ours.Eigenvalues[i]) > 1e-9*eig[0] {
			t.Errorf("eigenvalue %d: %v, gonum %v", i, ours.Eigenvalues[i], v)
		}
	}
	for c := range 3 {
		sign := 1.0
		if ours.Coords.At(0, c)*theirs.At(0, c) < 0 {
			sign = -1
		}
		for r := range n {
			if got, want := ours.Coords.At(r, c), sign*theirs.At(r, c); math.Abs(got-want) > 1e-9 {
				t.Errorf("coordinate (%d, %d): %v, gonum %v", r, c, got, want)
			}
		}
	}
}
