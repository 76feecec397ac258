package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// impls lists the implementations this machine can run, so that every test
// covers the portable Go path as well as the assembly one.
func impls() []impl {
	switch {
	case hasAVX512:
		return []impl{implGo, implAVX2, implAVX512}
	case hasAVX2FMA:
		return []impl{implGo, implAVX2}
	}
	return []impl{implGo}
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
func runCase(t *testing.T, im impl, rng *rand.Rand, m, n, k, padA, padB, padC int) {
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
			mulABt(im, false, m, n, k, a, lda, b, ldb, c, ldc)
		case "add":
			mulABt(im, true, m, n, k, a, lda, b, ldb, c, ldc)
		case "par2":
			mulABtPar(im, 2, m, n, k, a, lda, b, ldb, c, ldc)
		case "par3":
			mulABtPar(im, 3, m, n, k, a, lda, b, ldb, c, ldc)
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
	for _, im := range impls() {
		t.Run(im.String(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			// Every (m, n) pair with small k, and every k with a few (m, n).
			for _, m := range sizes {
				for _, n := range sizes {
					k := sizes[(m+n)%len(sizes)]
					runCase(t, im, rng, m, n, k, m%3, n%2, (m+n)%5)
				}
			}
			for _, k := range append(sizes, 255, 256, 257, 259, 515, 1000) {
				for _, mn := range [][2]int{{1, 1}, {3, 4}, {5, 7}, {17, 9}} {
					runCase(t, im, rng, mn[0], mn[1], k, 1, 3, 2)
					runCase(t, im, rng, mn[0], mn[1], k, 0, 0, 0)
				}
			}
		})
	}
}

// TestMulABtNonFinite checks that a NaN or Inf in A reaches exactly the row of
// c it belongs to (and one in B exactly its column), at positions in the
// vector body, the k-tail and a later k-block.
func TestMulABtNonFinite(t *testing.T) {
	const m, n = 7, 6
	for _, im := range impls() {
		for _, k := range []int{3, 9, 300} {
			for _, p := range []int{0, k / 2, k - 1} {
				for _, v := range []float64{math.NaN(), math.Inf(1)} {
					name := fmt.Sprintf("%s/k=%d/p=%d/%v", im, k, p, v)
					rng := rand.New(rand.NewPCG(uint64(k), uint64(p)))
					a, b := randMat(rng, m, k), randMat(rng, n, k)
					for j := range n {
						b[j*k+p] = 1 // so Inf·b stays +Inf
					}
					const bad = 4
					a[bad*k+p] = v
					c := make([]float64, m*n)
					mulABt(im, false, m, n, k, a, k, b, k, c, n)
					for i := range m {
						for j := range n {
							got := c[i*n+j]
							switch {
							case i != bad && (math.IsNaN(got) || math.IsInf(got, 0)):
								t.Fatalf("%s: c[%d,%d] = %v, want finite", name, i, j, got)
							case i == bad && math.IsNaN(v) && !math.IsNaN(got):
								t.Fatalf("%s: c[%d,%d] = %v, want NaN", name, i, j, got)
							case i == bad && math.IsInf(v, 1) && !math.IsInf(got, 1):
								t.Fatalf("%s: c[%d,%d] = %v, want +Inf", name, i, j, got)
							}
						}
					}
					// The same NaN in B poisons exactly column bad%n.
					a[bad*k+p] = 0.5
					b[(bad%n)*k+p] = math.NaN()
					mulABt(im, false, m, n, k, a, k, b, k, c, n)
					for i := range m {
						for j := range n {
							if got := c[i*n+j]; math.IsNaN(got) != (j == bad%n) {
								t.Fatalf("%s: NaN in B row %d: c[%d,%d] = %v", name, bad%n, i, j, got)
							}
						}
					}
				}
			}
		}
	}
}

// TestMulABtDeterministic checks that every entry is computed the same way
// wherever it lies: repeated calls, parallel splits and sub-blocks starting at
// any row and column all give bit-identical values.
func TestMulABtDeterministic(t *testing.T) {
	const m, n, k = 23, 19, 531
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randMat(rng, m, k), randMat(rng, n, k)
	for _, im := range impls() {
		ref := make([]float64, m*n)
		mulABt(im, false, m, n, k, a, k, b, k, ref, n)
		c := make([]float64, m*n)
		for w := 0; w <= 9; w++ {
			clear(c)
			mulABtPar(im, w, m, n, k, a, k, b, k, c, n)
			for i := range c {
				if c[i] != ref[i] {
					t.Fatalf("%s: %d workers: c[%d] = %v, serial %v", im, w, i, c[i], ref[i])
				}
			}
		}
		for i0 := range 4 {
			for j0 := range 5 {
				sub := make([]float64, m*n)
				mulABt(im, false, m-i0, n-j0, k, a[i0*k:], k, b[j0*k:], k, sub, n)
				for i := i0; i < m; i++ {
					for j := j0; j < n; j++ {
						if got, want := sub[(i-i0)*n+j-j0], ref[i*n+j]; got != want {
							t.Fatalf("%s: block from (%d,%d): c[%d,%d] = %v, full product %v", im, i0, j0, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestKernelsAgree compares the assembly and Go kernels directly: they sum in
// the same order and differ only by the rounding of the fused multiply-add.
func TestKernelsAgree(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2+FMA on this CPU")
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, k := range []int{1, 2, 3, 4, 5, 11, 256, 1001} {
		var rows [7][]float64
		for r := range rows {
			rows[r] = randMat(rng, 1, k)
		}
		var x, y [12]float64
		tileAVX2(k, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], &x)
		tileGeneric(k, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6], &y)
		for i := range x {
			if d := math.Abs(x[i] - y[i]); d > 1e-14*float64(k) {
				t.Errorf("k=%d: entry %d: avx2 %v, generic %v", k, i, x[i], y[i])
			}
		}
	}
}

func TestMulABtPanics(t *testing.T) {
	a, b, c := make([]float64, 12), make([]float64, 12), make([]float64, 9)
	tests := []struct {
		name                string
		m, n, k, la, lb, lc int
		a, b, c             []float64
	}{
		{"negative m", -1, 3, 4, 4, 4, 3, a, b, c},
		{"negative k", 3, 3, -4, 4, 4, 3, a, b, c},
		{"lda < k", 3, 3, 4, 3, 4, 3, a, b, c},
		{"ldb < k", 3, 3, 4, 4, 3, 3, a, b, c},
		{"ldc < n", 3, 3, 4, 4, 4, 2, a, b, c},
		{"short a", 3, 3, 4, 4, 4, 3, a[:11], b, c},
		{"short b", 3, 3, 4, 4, 4, 3, a, b[:11], c},
		{"short c", 3, 3, 4, 4, 4, 3, a, b, c[:8]},
		{"ld 0 with k 0", 3, 3, 0, 0, 0, 3, a, b, c},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []func(){
				func() { MulABt(tc.m, tc.n, tc.k, tc.a, tc.la, tc.b, tc.lb, tc.c, tc.lc) },
				func() { MulABtAdd(tc.m, tc.n, tc.k, tc.a, tc.la, tc.b, tc.lb, tc.c, tc.lc) },
				func() { MulABtPar(2, tc.m, tc.n, tc.k, tc.a, tc.la, tc.b, tc.lb, tc.c, tc.lc) },
			} {
				func() {
					defer func() {
						if recover() == nil {
							t.Errorf("no panic")
						}
					}()
					f()
				}()
			}
		})
	}
	// The exact lengths are accepted.
	MulABt(3, 3, 4, a, 4, b, 4, c, 3)
}

// FuzzMulABt checks random shapes, strides and workers against the triple loop.
func FuzzMulABt(f *testing.F) {
	f.Add(uint8(3), uint8(4), uint16(5), uint8(0), uint8(1), uint8(2), uint64(1))
	f.Add(uint8(17), uint8(9), uint16(259), uint8(3), uint8(0), uint8(1), uint64(2))
	f.Add(uint8(0), uint8(5), uint16(0), uint8(0), uint8(0), uint8(0), uint64(3))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, pa, pb, pc uint8, seed uint64) {
		rng := rand.New(rand.NewPCG(seed, 0))
		for _, im := range impls() {
			runCase(t, im, rng, int(m%40), int(n%40), int(k%600), int(pa%5), int(pb%5), int(pc%5))
		}
	})
}
