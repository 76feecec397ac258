package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveAtB returns AᵀB of float32 matrices and Σ_p |a_pi·b_pj|, summed in
// float64 (the products of two float32 are exact in float64).
func naiveAtB(m, n, k int, a []float32, lda int, b []float32, ldb int) (c, abs []float64) {
	c, abs = make([]float64, m*n), make([]float64, m*n)
	for p := range k {
		for i := range m {
			for j := range n {
				x := float64(a[p*lda+i]) * float64(b[p*ldb+j])
				c[i*n+j] += x
				abs[i*n+j] += math.Abs(x)
			}
		}
	}
	return c, abs
}

// TestMulAtB32 checks every kernel against sums in float64, with the
// bound of the blocked sum, (128 + k/128 + 1)·2⁻²⁴·Σ|terms|, on
// shapes around every tile edge (rows 4 and 8, columns 16 and 32, the
// p-block of 128), with strides larger than the shapes, and that nothing
// outside the m×n block of c is written.
func TestMulAtB32(t *testing.T) {
	type shape struct{ m, n, k int }
	shapes := []shape{{1, 1, 1}, {3, 5, 7}, {4, 16, 1}, {5, 17, 2}, {7, 31, 127},
		{8, 32, 128}, {9, 33, 129}, {12, 40, 256}, {17, 15, 300}, {30, 30, 147},
		{200, 200, 1000}, {64, 8, 5}, {3, 70, 0}, {2, 1, 513}}
	for _, kr := range impls() {
		rng := rand.New(rand.NewPCG(31, 32))
		for _, s := range shapes {
			lda, ldb, ldc := s.m+s.k%3, s.n+1, s.n+2
			a, b := randMat32(rng, max(s.k, 1), lda), randMat32(rng, max(s.k, 1), ldb)
			want, abs := naiveAtB(s.m, s.n, s.k, a, lda, b, ldb)
			c := make([]float32, s.m*ldc+3)
			for i := range c {
				c[i] = sentinel
			}
			mulAtB32(kr, false, s.m, s.n, s.k, a, lda, b, ldb, c, ldc)
			tol := float64(min(s.k, kcAtB)+s.k/kcAtB+1) * 0x1p-24
			for i := range s.m {
				for j := range ldc {
					got := c[i*ldc+j]
					if j >= s.n {
						if got != sentinel {
							t.Fatalf("%v %v: c[%d][%d] outside the block was written: %v", kr, s, i, j, got)
						}
						continue
					}
					w := want[i*s.n+j]
					if d := math.Abs(float64(got) - w); d > tol*abs[i*s.n+j] || math.IsNaN(float64(got)) {
						t.Fatalf("%v %v: c[%d][%d] = %v, want %v (|diff| %.3g > %.3g·Σ|ab|)", kr, s, i, j, got, w, d, tol)
					}
				}
			}
			for _, v := range c[s.m*ldc:] {
				if v != sentinel {
					t.Fatalf("%v %v: wrote past the block", kr, s)
				}
			}
		}
	}
}

// TestMulAtB32SameBits checks that the AVX2 and AVX-512 kernels give the
// same bits, so that a cluster mixing CPUs computes one result, and that an
// entry does not depend on the tile it falls in: a block of c computed
// from a sub-matrix equals the same block of the whole product.
func TestMulAtB32SameBits(t *testing.T) {
	ks := impls()[1:]
	if len(ks) == 0 {
		t.Skip("no assembly kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(33, 34))
	const m, n, k = 45, 70, 1000
	a, b := randMat32(rng, k, m), randMat32(rng, k, n)
	var ref []float32
	for _, kr := range ks {
		c := make([]float32, m*n)
		mulAtB32(kr, false, m, n, k, a, m, b, n, c, n)
		if ref == nil {
			ref = c
		} else {
			for i := range c {
				if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v: c[%d] = %v, %v gave %v", kr, i, c[i], ks[0], ref[i])
				}
			}
		}
		// Rows 11…21 and columns 5…40 on their own.
		const i0, i1, j0, j1 = 11, 22, 5, 41
		sub := make([]float32, (i1-i0)*(j1-j0))
		mulAtB32(kr, false, i1-i0, j1-j0, k, a[i0:], m, b[j0:], n, sub, j1-j0)
		for i := i0; i < i1; i++ {
			for j := j0; j < j1; j++ {
				if got, want := sub[(i-i0)*(j1-j0)+j-j0], ref[i*n+j]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%v: entry (%d, %d) of a sub-product is %v, of the whole %v", kr, i, j, got, want)
				}
			}
		}
	}
}

// TestMulAtB32Split checks that a product split at multiples of 128 rows
// into MulAtB32 and MulAtB32Add calls gives the bits of one call, on
// every kernel, for tiles padded (m < 8) and not.
func TestMulAtB32Split(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	for _, m := range []int{3, 45} {
		const n, k = 37, 300
		a, b := randMat32(rng, k, m), randMat32(rng, k, n)
		for _, kr := range impls() {
			whole, split := make([]float32, m*n), make([]float32, m*n)
			mulAtB32(kr, false, m, n, k, a, m, b, n, whole, n)
			mulAtB32(kr, false, m, n, 128, a, m, b, n, split, n)
			mulAtB32(kr, true, m, n, 128, a[128*m:], m, b[128*n:], n, split, n)
			mulAtB32(kr, true, m, n, k-256, a[256*m:], m, b[256*n:], n, split, n)
			for i := range whole {
				if math.Float32bits(whole[i]) != math.Float32bits(split[i]) {
					t.Fatalf("%v m=%d: c[%d] = %v in one call, %v split", kr, m, i, whole[i], split[i])
				}
			}
		}
	}
}

// TestMulAtB32Panics checks that bad shapes name the argument.
func TestMulAtB32Panics(t *testing.T) {
	s := make([]float32, 12)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"negative", func() { MulAtB32(-1, 2, 2, s, 2, s, 2, s, 2) }, "negative size"},
		{"lda", func() { MulAtB32(3, 2, 2, s, 2, s, 2, s, 2) }, "lda=2 is less than m=3"},
		{"ldb", func() { MulAtB32(2, 3, 2, s, 2, s, 2, s, 3) }, "ldb=2 is less than n=3"},
		{"ldc", func() { MulAtB32(2, 3, 2, s, 2, s, 3, s, 2) }, "ldc=2 is less than n=3"},
		{"short a", func() { MulAtB32(3, 1, 5, s, 3, s, 1, s, 1) }, "len(a)=12 is too short"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tc.want) {
					t.Fatalf("panic %v, want one containing %q", r, tc.want)
				}
			}()
			tc.call()
		})
	}
}

// BenchmarkMulAtB32 is the float32 eligibility product of a DNMS trial,
// e = AᵀB with A, B 1000×200, on each kernel this CPU runs.
func BenchmarkMulAtB32(b *testing.B) {
	const m, n, k = 200, 200, 1000
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb := randMat32(rng, k, m), randMat32(rng, k, n)
	c := make([]float32, m*n)
	for _, kr := range impls() {
		b.Run(fmt.Sprintf("%v/%dx%dx%d", kr, m, n, k), func(b *testing.B) {
			b.SetBytes(0)
			for b.Loop() {
				mulAtB32(kr, false, m, n, k, a, m, bb, n, c, n)
			}
			b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestMulABtSameBits checks that MulABt and MulABtAdd give the same bits
// on the AVX-512 and AVX2 kernels, on shapes around the 4×8 tile, the k
// tail of 1–3 and the k-block of 256.
func TestMulABtSameBits(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 on this CPU")
	}
	rng := rand.New(rand.NewPCG(37, 38))
	for _, m := range []int{1, 3, 4, 5, 9, 30, 200} {
		for _, n := range []int{1, 7, 8, 9, 17, 30, 200} {
			for _, k := range []int{1, 2, 3, 4, 5, 255, 256, 257, 1003} {
				lda, ldb, ldc := k+m%3, k+n%2, n+1
				a, b := randMat(rng, m, lda), randMat(rng, n, ldb)
				for _, add := range []bool{false, true} {
					c2, c5 := randMat(rng, m, ldc), make([]float64, m*ldc)
					copy(c5, c2)
					mulABt(implAVX2, add, m, n, k, a, lda, b, ldb, c2, ldc)
					mulABt(implAVX512, add, m, n, k, a, lda, b, ldb, c5, ldc)
					for i := range c2 {
						if math.Float64bits(c2[i]) != math.Float64bits(c5[i]) {
							t.Fatalf("m=%d n=%d k=%d add=%v: c[%d] = %v on AVX-512, %v on AVX2", m, n, k, add, i, c5[i], c2[i])
						}
					}
				}
			}
		}
	}
}
