package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMulAv(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100, 200}
	for _, im := range impls() {
		rng := rand.New(rand.NewPCG(11, 12))
		for _, m := range sizes {
			for _, k := range append(sizes, 257, 1001) {
				lda := max(k, 1) + m%3
				a, x := randMat(rng, m, lda), randMat(rng, 1, k)
				want, abs := naive(m, 1, k, a, lda, x, k)
				y := make([]float64, m+5)
				for i := range y {
					y[i] = sentinel
				}
				mulAv(im, m, k, a, lda, x, y)
				for i := range m {
					if d := math.Abs(y[i] - want[i]); d > 1e-13*(abs[i]+1e-300) {
						t.Fatalf("%s m=%d k=%d: y[%d] = %v, want %v", im, m, k, i, y[i], want[i])
					}
				}
				for _, v := range y[m:] {
					if v != sentinel {
						t.Fatalf("%s m=%d k=%d: y past m changed to %v", im, m, k, v)
					}
				}
				// Rows read in place (m ≥ 8 on AVX2) or through a table of
				// row slices: the same bits.
				if k > 0 {
					y2 := make([]float64, m)
					mulAvRows(im, m, k, a, lda, x[:k], y2)
					for i := range m {
						if y2[i] != y[i] {
							t.Fatalf("%s m=%d k=%d: y[%d] = %v, by row table %v", im, m, k, i, y[i], y2[i])
						}
					}
				}
				// With a single k-block, MulAv and MulABt sum identically.
				if k <= kc {
					c := make([]float64, m)
					mulABt(im, false, m, 1, k, a, lda, x, max(k, 1), c, 1)
					for i := range m {
						if c[i] != y[i] {
							t.Fatalf("%s m=%d k=%d: MulAv y[%d] = %v, MulABt %v", im, m, k, i, y[i], c[i])
						}
					}
				}
			}
		}
	}
}

// TestMulAvNaN checks that a NaN in A poisons exactly its entry of y, in the
// vector body and in the tail.
func TestMulAvNaN(t *testing.T) {
	const m, k = 11, 10
	for _, im := range impls() {
		for _, p := range []int{0, 5, 9} {
			rng := rand.New(rand.NewPCG(13, uint64(p)))
			a, x := randMat(rng, m, k), randMat(rng, 1, k)
			a[9*k+p] = math.NaN()
			y := make([]float64, m)
			mulAv(im, m, k, a, k, x, y)
			for i, v := range y {
				if math.IsNaN(v) != (i == 9) {
					t.Fatalf("%s p=%d: y[%d] = %v", im, p, i, v)
				}
			}
		}
	}
}

func TestMulAvPanics(t *testing.T) {
	a, x, y := make([]float64, 12), make([]float64, 4), make([]float64, 3)
	tests := []struct {
		name     string
		m, k, la int
		a, x, y  []float64
	}{
		{"negative m", -1, 4, 4, a, x, y},
		{"lda < k", 3, 4, 3, a, x, y},
		{"short a", 3, 4, 4, a[:11], x, y},
		{"short x", 3, 4, 4, a, x[:3], y},
		{"short y", 3, 4, 4, a, x, y[:2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic")
				}
			}()
			MulAv(tc.m, tc.k, tc.a, tc.la, tc.x, tc.y)
		})
	}
	MulAv(3, 4, a, 4, x, y)
}
