package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMulAtB checks that MulAtB and MulAtBAdd give the bits of MulABt and
// MulABtAdd on the transposes, on every implementation, on shapes around
// the 4×8 tile, the k tail of 1–3 and the k-block of 256, with strides
// larger than the shapes, and that nothing outside the block is written.
func TestMulAtB(t *testing.T) {
	rng := rand.New(rand.NewPCG(49, 50))
	for _, im := range impls() {
		for _, m := range []int{1, 3, 4, 5, 9, 30, 200} {
			for _, n := range []int{1, 7, 8, 9, 17, 200} {
				for _, k := range []int{0, 1, 2, 3, 4, 5, 255, 256, 257, 1003} {
					lda, ldb, ldc := m+k%3, n+1, n+2
					a, b := randMat(rng, max(k, 1), lda), randMat(rng, max(k, 1), ldb)
					at, bt := transpose(k, m, a, lda), transpose(k, n, b, ldb)
					for _, add := range []bool{false, true} {
						want, got := randMat(rng, m, ldc), make([]float64, m*ldc+3)
						copy(got, want)
						got[m*ldc], got[m*ldc+1], got[m*ldc+2] = sentinel, sentinel, sentinel
						mulABt(im, add, m, n, k, at, max(k, 1), bt, max(k, 1), want, ldc)
						mulAtB(im, add, m, n, k, a, lda, b, ldb, got, ldc)
						for i := range want {
							if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
								t.Fatalf("%s m=%d n=%d k=%d add=%v: c[%d] = %v, MulABt on the transposes %v", im, m, n, k, add, i, got[i], want[i])
							}
						}
						if got[m*ldc] != sentinel || got[m*ldc+2] != sentinel {
							t.Fatalf("%s m=%d n=%d k=%d: wrote past the block", im, m, n, k)
						}
					}
				}
			}
		}
	}
}

// BenchmarkMulAtB is the float64 eligibility product of a DNMS trial in
// the traces' layout, e = AᵀB with A, B 1000×200.
func BenchmarkMulAtB(b *testing.B) {
	const m, n, k = 200, 200, 1000
	rng := rand.New(rand.NewPCG(1, 2))
	a, bb := randMat(rng, k, m), randMat(rng, k, n)
	c := make([]float64, m*n)
	for _, im := range impls()[1:] {
		b.Run(im.String(), func(b *testing.B) {
			for b.Loop() {
				mulAtB(im, false, m, n, k, a, m, bb, n, c, n)
			}
			b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
