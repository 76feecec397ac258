package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// kernels lists the tile kernels this machine can run, so that every test
// covers the portable Go path as well as the assembly one.
func kernels() []struct {
	name string
	t    tileFunc
} {
	ks := []struct {
		name string
		t    tileFunc
	}{{"generic", tileGeneric}}
	if hasAVX2FMA {
		ks = append(ks, struct {
			name string
			t    tileFunc
		}{"avx2", tileAVX2})
	}
	return ks
}

// naive returns A·Bᵀ and Σ_p |a_ip·b_jp| by the written-out triple loop.
func naive(m, n, k int, a []float64, lda int, b []float64, ldb int) (c, abs []float64) {
	c, abs = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			for p := range k {
				x := a[i*lda+p] * b[j*ldb+p]
				c[i*n+j] += x
				abs[i*n+j] += math.Abs(x)
			}
		}
	}
	return c, abs
}

// randMat returns rows×ld uniform values in [-1, 1).
func randMat(rng *rand.Rand, rows, ld int) []float64 {
	x := make([]float64, rows*ld)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	return x
}

const sentinel = -12345.5

// runCase checks mulABt (overwrite and add) and mulABtPar against naive for
// one shape with padded strides, including that padding is left untouched.
func runCase(t *testing.T, tile tileFunc, rng *rand.Rand, m, n, k, padA, padB, padC int) {
	t.Helper()
	lda, ldb, ldc := max(k, 1)+padA, max(k, 1)+padB, max(n, 1)+padC
	a, b := randMat(rng, m, lda), randMat(rng, n, ldb)
	want, abs := naive(m, n, k, a, lda, b, ldb)
	c0 := randMat(rng, m, ldc)
	for _, mode := range []string{"overwrite", "add", "par2", "par3"} {
		c := make([]float64, m*ldc+7) // 7 trailing elements beyond the block
		for i := range c {
			c[i] = sentinel
		}
		if mode == "add" {
			for i := range m {
				copy(c[i*ldc:i*ldc+n], c0[i*ldc:])
			}
		}
		switch mode {
		case "overwrite":
			mulABt(tile, false, m, n, k, a, lda, b, ldb, c, ldc)
		case "add":
			mulABt(tile, true, m, n, k, a, lda, b, ldb, c, ldc)
		case "par2":
			mulABtPar(tile, 2, m, n, k, a, lda, b, ldb, c, ldc)
		case "par3":
			mulABtPar(tile, 3, m, n, k, a, lda, b, ldb, c, ldc)
		}
		for i := range m {
			for j := range ldc {
				got := c[i*ldc+j]
				if j >= n {
					if got != sentinel {
						t.Fatalf("%s: padding c[%d,%d] changed to %v", mode, i, j, got)
					}
					continue
				}
				w := want[i*n+j]
				tol := 1e-13 * (abs[i*n+j] + 1e-300)
				if mode == "add" {
					w += c0[i*ldc+j]
					tol += 1e-15 * math.Abs(c0[i*ldc+j])
				}
				if math.Abs(got-w) > tol {
					t.Fatalf("%s: c[%d,%d] = %v, want %v (tol %g)", mode, i, j, got, w, tol)
				}
			}
		}
		for _, v := range c[m*ldc:] {
			if v != sentinel {
				t.Fatalf("%s: element past the last row changed to %v", mode, v)
			}
		}
	}
}

func TestMulABtShapes(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 33, 64, 100, 200}
	for _, kn := range kernels() {
		t.Run(kn.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			// Every (m, n) pair with small k, and every k with a few (m, n).
			for _, m := range sizes {
				for _, n := range sizes {
					k := sizes[(m+n)%len(sizes)]
					runCase(t, kn.t, rng, m, n, k, m%3, n%2, (m+n)%5)
				}
			}
			for _, k := range append(sizes, 255, 256, 257, 259, 515, 1000) {
				for _, mn := range [][2]int{{1, 1}, {3, 4}, {5, 7}, {17, 9}} {
					runCase(t, kn.t, rng, mn[0], mn[1], k, 1, 3, 2)
					runCase(t, kn.t, rng, mn[0], mn[1], k, 0, 0, 0)
				}
			}
		})
	}
}
