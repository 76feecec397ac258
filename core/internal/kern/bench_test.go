package kern

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Compare single-threaded speed with
//
//	go test -run NONE -bench . -cpu 1 ./core/internal/kern
//
// since gonum's Gemm splits large products over GOMAXPROCS goroutines;
// BenchmarkMulABtPar at -cpu 2 compares the parallel versions.

// benchShapes are the (m, n, k) of the eligibility product in training
// (the last: go/no-go at N = 30, T = 150, gate from step 3).
var benchShapes = [][3]int{{200, 200, 1000}, {100, 100, 200}, {200, 200, 4000}, {30, 30, 147}}

func benchMats(m, n, k int) (a, b, c []float64) {
	rng := rand.New(rand.NewPCG(7, 8))
	return randMat(rng, m, k), randMat(rng, n, k), make([]float64, m*n)
}

func BenchmarkMulABt(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			x, y, c := benchMats(m, n, k)
			b.SetBytes(int64(8 * (m + n) * k))
			for b.Loop() {
				MulABt(m, n, k, x, k, y, k, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkMulABtPar(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			x, y, c := benchMats(m, n, k)
			workers := runtime.GOMAXPROCS(0)
			for b.Loop() {
				MulABtPar(workers, m, n, k, x, k, y, k, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkMulABtGeneric(b *testing.B) {
	for _, s := range benchShapes[:2] {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			x, y, c := benchMats(m, n, k)
			for b.Loop() {
				mulABt(implGo, false, m, n, k, x, k, y, k, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkGonumGemm(b *testing.B) {
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			x, y, c := benchMats(m, n, k)
			A := blas64.General{Rows: m, Cols: k, Stride: k, Data: x}
			B := blas64.General{Rows: n, Cols: k, Stride: k, Data: y}
			C := blas64.General{Rows: m, Cols: n, Stride: n, Data: c}
			for b.Loop() {
				blas64.Gemm(blas.NoTrans, blas.Trans, 1, A, B, 0, C)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// gemvShapes are the (m, k) of the recurrent step W·r.
var gemvShapes = [][2]int{{200, 200}, {100, 100}, {30, 30}}

func BenchmarkMulAv(b *testing.B) {
	for _, s := range gemvShapes {
		m, k := s[0], s[1]
		b.Run(fmt.Sprintf("%dx%d", m, k), func(b *testing.B) {
			a, x, y := benchMats(m, 1, k)
			for b.Loop() {
				MulAv(m, k, a, k, x, y)
			}
			b.ReportMetric(2*float64(m*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkGonumGemv(b *testing.B) {
	for _, s := range gemvShapes {
		m, k := s[0], s[1]
		b.Run(fmt.Sprintf("%dx%d", m, k), func(b *testing.B) {
			a, x, y := benchMats(m, 1, k)
			A := blas64.General{Rows: m, Cols: k, Stride: k, Data: a}
			X := blas64.Vector{N: k, Inc: 1, Data: x}
			Y := blas64.Vector{N: m, Inc: 1, Data: y[:m]}
			for b.Loop() {
				blas64.Gemv(blas.NoTrans, 1, A, X, 0, Y)
			}
			b.ReportMetric(2*float64(m*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkTanh compares Tanh (assembly and portable kernels) with a loop
// of math.Tanh over the rates of one recurrent step (N = 30 and 200) and a
// DNMS trial's worth (200·1000), inputs ~ N(0, 2²).
func BenchmarkTanh(b *testing.B) {
	for _, n := range []int{30, 200, 200000} {
		rng := rand.New(rand.NewPCG(9, 10))
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = 2 * rng.NormFloat64()
		}
		run := func(name string, f func()) {
			b.Run(fmt.Sprintf("%s/n=%d", name, n), func(b *testing.B) {
				for b.Loop() {
					f()
				}
				b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/float64(n), "ns/value")
			})
		}
		run("kern", func() { Tanh(y, x) })
		run("generic", func() { tanhSlice(implGo, y, x) })
		run("math", func() {
			for i, v := range x {
				y[i] = math.Tanh(v)
			}
		})
	}
}
