package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestPacked32 checks that Packed32.MulV gives the bits of MulAv32 on
// every implementation (the panels on AVX-512, the matrix itself
// elsewhere), for row counts around the panel of 8 and column counts
// around the chunk of 16, after packing twice into the same storage.
func TestPacked32(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	var p Packed32
	for _, im := range impls() {
		for _, m := range []int{1, 7, 8, 9, 30, 200, 203} {
			for _, k := range []int{0, 1, 15, 16, 17, 200, 203} {
				lda := max(k, 1) + 1
				a, x := randMat32(rng, m, lda), randMat32(rng, 1, k)
				want, got := make([]float32, m), make([]float32, m+2)
				got[m], got[m+1] = sentinel, sentinel
				mulAv32(im, m, k, a, lda, x, want)
				p.pack(im, m, k, a, lda)
				p.mulV(im, x, got)
				p.mulV(im, x, got) // and backward
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s m=%d k=%d: y[%d] = %v, MulAv32 gives %v", im, m, k, i, got[i], want[i])
					}
				}
				if got[m] != sentinel || got[m+1] != sentinel {
					t.Fatalf("%s m=%d k=%d: wrote past y[m]", im, m, k)
				}
			}
		}
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("MulV with a short x: no panic")
		}
	}()
	p.Pack(3, 4, make([]float32, 12), 4)
	p.MulV(make([]float32, 3), make([]float32, 3))
}

// TestPacked checks that Packed.MulV gives the bits of MulAv on every
// implementation, as TestPacked32 does for float32, over two calls (the
// pass runs forward, then backward).
func TestPacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	var p Packed
	for _, im := range impls() {
		for _, m := range []int{1, 7, 8, 9, 30, 200, 203} {
			for _, k := range []int{0, 1, 3, 4, 5, 200, 203} {
				lda := max(k, 1) + 1
				a, x := randMat(rng, m, lda), randMat(rng, 1, k)
				want := make([]float64, m)
				mulAv(im, m, k, a, lda, x, want)
				p.pack(im, m, k, a, lda)
				for range 2 {
					got := make([]float64, m+2)
					got[m], got[m+1] = sentinel, sentinel
					p.mulV(im, x, got)
					for i := range want {
						if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
							t.Fatalf("%s m=%d k=%d: y[%d] = %v, MulAv gives %v", im, m, k, i, got[i], want[i])
						}
					}
					if got[m] != sentinel || got[m+1] != sentinel {
						t.Fatalf("%s m=%d k=%d: wrote past y[m]", im, m, k)
					}
				}
			}
		}
	}
}

// BenchmarkMulAv32 is one step of a DNMS network's recurrence in float32,
// W·r at N = 200, by each implementation, from the row-major matrix and
// from a Packed32.
func BenchmarkMulAv32(b *testing.B) {
	const n = 200
	rng := rand.New(rand.NewPCG(1, 2))
	a, x := randMat32(rng, n, n), randMat32(rng, 1, n)
	y := make([]float32, n)
	for _, im := range impls() {
		b.Run(fmt.Sprintf("%s/%dx%d", im, n, n), func(b *testing.B) {
			for b.Loop() {
				mulAv32(im, n, n, a, n, x, y)
			}
		})
		var p Packed32
		p.pack(im, n, n, a, n)
		b.Run(fmt.Sprintf("%s/packed/%dx%d", im, n, n), func(b *testing.B) {
			for b.Loop() {
				p.mulV(im, x, y)
			}
		})
	}
}

// BenchmarkPacked is BenchmarkMulAv32 in float64: MulAv and Packed.MulV.
func BenchmarkPacked(b *testing.B) {
	const n = 200
	rng := rand.New(rand.NewPCG(1, 2))
	a, x := randMat(rng, n, n), randMat(rng, 1, n)
	y := make([]float64, n)
	for _, im := range impls() {
		b.Run(fmt.Sprintf("%s/%dx%d", im, n, n), func(b *testing.B) {
			for b.Loop() {
				mulAv(im, n, n, a, n, x, y)
			}
		})
		var p Packed
		p.pack(im, n, n, a, n)
		b.Run(fmt.Sprintf("%s/packed/%dx%d", im, n, n), func(b *testing.B) {
			for b.Loop() {
				p.mulV(im, x, y)
			}
		})
	}
}
