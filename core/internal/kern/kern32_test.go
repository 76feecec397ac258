package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randMat32 returns rows×ld uniform float32 values in [-1, 1).
func randMat32(rng *rand.Rand, rows, ld int) []float32 {
	x := make([]float32, rows*ld)
	for i := range x {
		x[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

// naive32 returns A·Bᵀ of float32 matrices and Σ_p |a_ip·b_jp|, both
// summed in float64 (the products of two float32 are exact in float64).
func naive32(m, n, k int, a []float32, lda int, b []float32, ldb int) (c, abs []float64) {
	c, abs = make([]float64, m*n), make([]float64, m*n)
	for i := range m {
		for j := range n {
			for p := range k {
				x := float64(a[i*lda+p]) * float64(b[j*ldb+p])
				c[i*n+j] += x
				abs[i*n+j] += math.Abs(x)
			}
		}
	}
	return c, abs
}

// tol32 bounds the float32 rounding error of a sum of k terms in the order
// of kern32.go relative to Σ|terms|: each lane adds ⌈k/8⌉ terms (per
// block), then 3 levels of pairwise sums and one add per block, each
// rounding by at most 2⁻²⁴.
func tol32(k int) float64 {
	return float64(k/8+3+k/kc32+2) * 0x1p-24
}

func TestMulABt32(t *testing.T) {
	sizes := []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17}
	ks := []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 23, 31, 33, 100, 511, 512, 513, 1000, 1100}
	for _, im := range impls() {
		rng := rand.New(rand.NewPCG(21, 22))
		for _, m := range sizes {
			for _, n := range []int{1, 3, 4, 5, 9} {
				for _, k := range ks {
					lda, ldb, ldc := max(k, 1)+m%3, max(k, 1)+n%2, n+1
					a, b := randMat32(rng, m, lda), randMat32(rng, n, ldb)
					want, abs := naive32(m, n, k, a, lda, b, ldb)
					c := make([]float32, m*ldc+3)
					for i := range c {
						c[i] = sentinel
					}
					mulABt32(im, m, n, k, a, lda, b, ldb, c, ldc)
					for i := range m {
						for j := range ldc {
							got := c[i*ldc+j]
							if j >= n {
								if got != sentinel {
									t.Fatalf("%s m=%d n=%d k=%d: padding c[%d][%d] changed to %v", im, m, n, k, i, j, got)
								}
								continue
							}
							w := want[i*n+j]
							if d := math.Abs(float64(got) - w); d > tol32(k)*abs[i*n+j] {
								t.Fatalf("%s m=%d n=%d k=%d: c[%d][%d] = %v, want %v (diff %.3g, bound %.3g)",
									im, m, n, k, i, j, got, w, d, tol32(k)*abs[i*n+j])
							}
						}
					}
					for _, v := range c[m*ldc:] {
						if v != sentinel {
							t.Fatalf("%s m=%d n=%d k=%d: c past the block changed", im, m, n, k)
						}
					}
				}
			}
		}
	}
}

// TestMulAv32 checks every mat-vec kernel against sums in float64, with
// the bound of its 16-lane order, (⌈k/16⌉ + 4)·2⁻²⁴·Σ|terms|; that nothing
// past y[m] is written; and that the AVX2 and AVX-512 kernels give the same
// bits (from 4 rows, where the assembly runs).
func TestMulAv32(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 30, 33, 64, 100, 200}
	rng := rand.New(rand.NewPCG(23, 24))
	for _, m := range sizes {
		for _, k := range append(sizes, 257, 511, 1001) {
			lda := max(k, 1) + m%3
			a, x := randMat32(rng, m, lda), randMat32(rng, 1, k)
			want, abs := naive32(m, 1, k, a, lda, x, k)
			var first []float32
			for _, kr := range impls() {
				y := make([]float32, m+5)
				for i := range y {
					y[i] = sentinel
				}
				mulAv32(kr, m, k, a, lda, x, y)
				tol := float64((k+15)/16+4) * 0x1p-24
				for i := range m {
					if d := math.Abs(float64(y[i]) - want[i]); d > tol*abs[i] {
						t.Fatalf("%s m=%d k=%d: y[%d] = %v, want %v", kr, m, k, i, y[i], want[i])
					}
				}
				for _, v := range y[m:] {
					if v != sentinel {
						t.Fatalf("%s m=%d k=%d: y past m changed to %v", kr, m, k, v)
					}
				}
				if kr == implGo || m < 4 {
					continue
				}
				if first == nil {
					first = y
					continue
				}
				for i := range m {
					if math.Float32bits(y[i]) != math.Float32bits(first[i]) {
						t.Fatalf("m=%d k=%d: y[%d] = %v from %s, %v from avx2", m, k, i, y[i], kr, first[i])
					}
				}
			}
		}
	}
}

// TestKernels32Agree checks the assembly against the portable kernels to
// rounding, and that each is reproducible call to call.
func TestKernels32Agree(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("no AVX2/FMA on this machine: only the portable kernels run (TestMulABt32 covers them)")
	}
	rng := rand.New(rand.NewPCG(25, 26))
	const m, n, k = 31, 29, 1003
	a, b := randMat32(rng, m, k), randMat32(rng, n, k)
	_, abs := naive32(m, n, k, a, k, b, k)
	cA, cG, cA2 := make([]float32, m*n), make([]float32, m*n), make([]float32, m*n)
	mulABt32(implAVX2, m, n, k, a, k, b, k, cA, n)
	mulABt32(implGo, m, n, k, a, k, b, k, cG, n)
	mulABt32(implAVX2, m, n, k, a, k, b, k, cA2, n)
	for i := range cA {
		if cA[i] != cA2[i] {
			t.Fatalf("c[%d]: two calls gave %v and %v", i, cA[i], cA2[i])
		}
		if d := math.Abs(float64(cA[i] - cG[i])); d > 2*tol32(k)*abs[i] {
			t.Fatalf("c[%d]: avx2 %v, go %v", i, cA[i], cG[i])
		}
	}
}

// TestMulAv32NaN checks that a NaN in A poisons exactly its entry of y, in
// the vector body and in the tail.
func TestMulAv32NaN(t *testing.T) {
	for _, im := range impls() {
		for _, col := range []int{0, 9, 20} { // body, body, tail (k = 21)
			const m, k = 12, 21
			a := make([]float32, m*k)
			x := make([]float32, k)
			for i := range a {
				a[i] = 1
			}
			for i := range x {
				x[i] = 1
			}
			a[5*k+col] = float32(math.NaN())
			y := make([]float32, m)
			mulAv32(im, m, k, a, k, x, y)
			for i, v := range y {
				if nan := v != v; nan != (i == 5) || (!nan && v != k) {
					t.Fatalf("%s col %d: y[%d] = %v", im, col, i, v)
				}
			}
		}
	}
}

// ulpDist32 is ulpDist for float32.
func ulpDist32(a, b float32) uint64 {
	if a != a || b != b {
		if a != a && b != b {
			return 0
		}
		return math.MaxUint64
	}
	ord := func(v float32) int64 {
		u := int64(int32(math.Float32bits(v)))
		if u < 0 {
			u = math.MinInt32 - u
		}
		return u
	}
	d := ord(a) - ord(b)
	if d < 0 {
		d = -d
	}
	return uint64(d)
}

// TestTanh32 checks Tanh32 bit for bit against Tanh through float64 on
// every implementation, and within 1 ulp of the correctly rounded tanh
// (math.Tanh's value rounded: its error is far below a float32 ulp), over
// every float32 binade, dense sweeps, special values and slice lengths
// across the 256-value buffer.
func TestTanh32(t *testing.T) {
	var xs []float32
	for _, v := range tanhInputs() {
		xs = append(xs, float32(v))
	}
	rng := rand.New(rand.NewPCG(27, 28))
	for e := uint32(0); e < 255; e++ {
		for range 64 {
			bits := e<<23 | rng.Uint32()>>9
			xs = append(xs, math.Float32frombits(bits), -math.Float32frombits(bits))
		}
	}
	for _, c := range []float32{0.625, 9.01, 1, 0x1p-12} {
		v, w := c, c
		for range 3000 {
			v = math.Nextafter32(v, float32(math.Inf(1)))
			w = math.Nextafter32(w, float32(math.Inf(-1)))
			xs = append(xs, v, w, -v, -w)
		}
	}
	ref := func(x float32) float32 { return float32(tanh1(float64(x))) }
	worst := uint64(0)
	for _, im := range impls() {
		got := make([]float32, len(xs))
		tanh32(im, got, xs)
		for i, x := range xs {
			if math.Float32bits(got[i]) != math.Float32bits(ref(x)) && !(got[i] != got[i] && x != x) {
				t.Fatalf("%s: Tanh32(%v) = %v, want float32(Tanh(float64(x))) = %v", im, x, got[i], ref(x))
			}
			want := float32(math.Tanh(float64(x)))
			d := ulpDist32(got[i], want)
			if d > 1 {
				t.Fatalf("%s: Tanh32(%v) = %v, %d ulp from %v", im, x, got[i], d, want)
			}
			worst = max(worst, d)
		}
	}
	t.Logf("%d inputs: at most %d ulp (float32) from the rounded math.Tanh", len(xs), worst)
	for _, x := range []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1))} {
		var y [1]float32
		Tanh32(y[:], []float32{x})
		want := float32(math.Tanh(float64(x)))
		if math.Float32bits(y[0]) != math.Float32bits(want) {
			t.Errorf("Tanh32(%v) = %v, want %v", x, y[0], want)
		}
	}
	// Every length around the buffer size, in place and not.
	for _, n := range []int{0, 1, 3, 4, 5, 255, 256, 257, 513} {
		src := xs[1000 : 1000+n]
		out := make([]float32, n+1)
		out[n] = sentinel
		Tanh32(out, src)
		in := append([]float32(nil), src...)
		Tanh32(in, in)
		for i := range n {
			if out[i] != ref(src[i]) || in[i] != out[i] {
				t.Fatalf("n=%d: value %d differs (%v, in place %v, want %v)", n, i, out[i], in[i], ref(src[i]))
			}
		}
		if out[n] != sentinel {
			t.Fatalf("n=%d: wrote past len(src)", n)
		}
	}
}

func TestKernels32Panic(t *testing.T) {
	for name, f := range map[string]func(){
		"MulABt32 short c": func() { MulABt32(2, 2, 2, make([]float32, 4), 2, make([]float32, 4), 2, make([]float32, 3), 2) },
		"MulABt32 lda":     func() { MulABt32(2, 2, 3, make([]float32, 6), 2, make([]float32, 6), 3, make([]float32, 4), 2) },
		"MulAv32 short x":  func() { MulAv32(2, 3, make([]float32, 6), 3, make([]float32, 2), make([]float32, 2)) },
		"MulAv32 short y":  func() { MulAv32(2, 3, make([]float32, 6), 3, make([]float32, 3), make([]float32, 1)) },
		"Tanh32 short dst": func() { Tanh32(make([]float32, 1), make([]float32, 2)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// BenchmarkKernels32 measures the float32 kernels at the shapes of a DNMS
// trial (N = 200: a step's mat-vec and rates, the eligibility product over
// T = 1000) and of a go/no-go trial (N = 30).
func BenchmarkKernels32(b *testing.B) {
	rng := rand.New(rand.NewPCG(29, 30))
	for _, s := range [][3]int{{200, 200, 1000}, {30, 30, 147}} {
		n, k := s[0], s[2]
		a, x := randMat32(rng, n, k), randMat32(rng, n, k)
		c := make([]float32, n*n)
		b.Run(fmt.Sprintf("MulABt32/%dx%dx%d", n, n, k), func(b *testing.B) {
			for b.Loop() {
				MulABt32(n, n, k, a, k, x, k, c, n)
			}
			b.ReportMetric(2*float64(n*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		w, v, y := randMat32(rng, n, n), randMat32(rng, 1, n), make([]float32, n)
		b.Run(fmt.Sprintf("MulAv32/%dx%d", n, n), func(b *testing.B) {
			for b.Loop() {
				MulAv32(n, n, w, n, v, y)
			}
		})
		b.Run(fmt.Sprintf("Tanh32/n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Tanh32(y, v)
			}
		})
	}
}
