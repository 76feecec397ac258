package fixedpoints

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// cholesky and cholSolve against gonum's, on SPD matrices of sizes around
// the block size, and a non-positive-definite matrix.
func TestCholesky(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 15, 16, 17, 33, 70} {
		g := make([]float64, n*n)
		for k := range g {
			g[k] = rng.NormFloat64()
		}
		a := make([]float64, n*n)
		for i := range n {
			for j := range n {
				s := 0.0
				for p := range n {
					s += g[i*n+p] * g[j*n+p]
				}
				a[i*n+j] = s
			}
			a[i*n+i] += 0.1
		}
		b := make([]float64, n)
		for k := range b {
			b[k] = rng.NormFloat64()
		}
		var want mat.VecDense
		if err := want.SolveVec(mat.NewDense(n, n, append([]float64(nil), a...)), mat.NewVecDense(n, append([]float64(nil), b...))); err != nil {
			t.Fatal(err)
		}
		l := append([]float64(nil), a...)
		if !cholesky(n, l, make([]float64, (n+cholBlock)*cholBlock)) {
			t.Fatalf("n=%d: SPD matrix reported not positive definite", n)
		}
		// LLᵀ reproduces A.
		for i := range n {
			for j := 0; j <= i; j++ {
				s := 0.0
				for p := 0; p <= j; p++ {
					s += l[i*n+p] * l[j*n+p]
				}
				if math.Abs(s-a[i*n+j]) > 1e-10*(1+math.Abs(a[i*n+j])) {
					t.Fatalf("n=%d: (LLᵀ)[%d,%d] = %v, A = %v", n, i, j, s, a[i*n+j])
				}
			}
		}
		cholSolve(n, l, b)
		for k := range b {
			if math.Abs(b[k]-want.AtVec(k)) > 1e-8*(1+math.Abs(want.AtVec(k))) {
				t.Fatalf("n=%d: x[%d] = %v, gonum %v", n, k, b[k], want.AtVec(k))
			}
		}
		// Shift the spectrum below zero: not positive definite.
		for i := range n {
			a[i*n+i] -= 1e3
		}
		if cholesky(n, a, make([]float64, (n+cholBlock)*cholBlock)) {
			t.Errorf("n=%d: indefinite matrix factored", n)
		}
	}
}

func BenchmarkCholesky200(b *testing.B) {
	const n = 200
	rng := rand.New(rand.NewPCG(1, 1))
	a := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			v := rng.NormFloat64() / n
			a[i*n+j], a[j*n+i] = v, v
		}
		a[i*n+i] += 2
	}
	l := make([]float64, n*n)
	tmp := make([]float64, (n+cholBlock)*cholBlock)
	for b.Loop() {
		copy(l, a)
		if !cholesky(n, l, tmp) {
			b.Fatal("not PD")
		}
	}
}
