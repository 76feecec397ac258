package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwise32 checks that EulerStep32, Fluctuation32, PowScale32
// and Horner32 give, on
// every implementation and length (vector body and tail), the bits of the
// written-out Go expressions, and that a nil d updates x̄ alone.
func TestElementwise32(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	const alpha = float32(1.0 / 30)
	a, b := float32(0.9), 1-float32(0.9)
	for _, im := range impls() {
		for n := range 35 {
			x, d, w := randMat32(rng, 1, n), randMat32(rng, 1, n), randMat32(rng, 1, n)
			next := append([]float32(nil), w...)
			eulerStep32(im, next, x, d, alpha)
			for i := range n {
				if want := x[i] + alpha*(-x[i]+w[i]+d[i]); math.Float32bits(next[i]) != math.Float32bits(want) {
					t.Fatalf("%s n=%d: EulerStep32 next[%d] = %v, want %v", im, n, i, next[i], want)
				}
			}
			xbar0 := randMat32(rng, 1, n)
			for _, withD := range []bool{true, false} {
				xbar := append([]float32(nil), xbar0...)
				var dd []float32
				if withD {
					dd = make([]float32, n)
				}
				fluctuation32(im, dd, xbar, w, a, b)
				for i := range n {
					if withD {
						if want := xbar0[i] - w[i]; math.Float32bits(dd[i]) != math.Float32bits(want) {
							t.Fatalf("%s n=%d: d[%d] = %v, want %v", im, n, i, dd[i], want)
						}
					}
					if want := a*xbar0[i] + b*w[i]; math.Float32bits(xbar[i]) != math.Float32bits(want) {
						t.Fatalf("%s n=%d d=%v: x̄[%d] = %v, want %v", im, n, withD, i, xbar[i], want)
					}
				}
			}
		}
	}
	for _, im := range impls() {
		for n := range 35 {
			src := randMat32(rng, 1, n)
			for l := range 6 {
				dst := make([]float32, n)
				powScale32(im, dst, src, 0.75, l)
				for i, v := range src {
					want := float32(0.75)
					if l > 0 {
						p := v
						for range l - 1 {
							p = p * v
						}
						want = 0.75 * p
					}
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("%s n=%d l=%d: PowScale32 dst[%d] = %v, want %v", im, n, l, i, dst[i], want)
					}
				}
			}
			for K := range 5 {
				th := randMat32(rng, 1, K+1)
				dst := make([]float32, n)
				horner32(im, dst, src, th)
				for i, v := range src {
					want := th[K]
					for k := K - 1; k >= 0; k-- {
						want = want*v + th[k]
					}
					if math.Float32bits(dst[i]) != math.Float32bits(want) {
						t.Fatalf("%s n=%d K=%d: Horner32 dst[%d] = %v, want %v", im, n, K, i, dst[i], want)
					}
				}
			}
		}
	}
	for name, f := range map[string]func(){
		"powscale negative l":    func() { PowScale32(make([]float32, 2), make([]float32, 2), 1, -1) },
		"horner no coefficients": func() { Horner32(make([]float32, 2), make([]float32, 2), nil) },
		"euler short x":          func() { EulerStep32(make([]float32, 3), make([]float32, 2), make([]float32, 3), 1) },
		"fluctuation short d":    func() { Fluctuation32(make([]float32, 2), make([]float32, 3), make([]float32, 3), 1, 0) },
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

// TestElementwise64 checks EulerStep and FluctuationStep against the Go
// expressions bit for bit, as TestElementwise32 does in float32.
func TestElementwise64(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	const alpha = 1.0 / 30
	a, b := 0.95, 1-0.95
	for _, im := range impls() {
		for n := range 19 {
			x, d, w := randMat(rng, 1, n), randMat(rng, 1, n), randMat(rng, 1, n)
			next := append([]float64(nil), w...)
			eulerStep(im, next, x, d, alpha)
			for i := range n {
				if want := x[i] + alpha*(-x[i]+w[i]+d[i]); math.Float64bits(next[i]) != math.Float64bits(want) {
					t.Fatalf("%s n=%d: EulerStep next[%d] = %v, want %v", im, n, i, next[i], want)
				}
			}
			xbar0 := randMat(rng, 1, n)
			for _, withD := range []bool{true, false} {
				xbar := append([]float64(nil), xbar0...)
				var dd []float64
				if withD {
					dd = make([]float64, n)
				}
				fluctuation(im, dd, xbar, w, a, b)
				for i := range n {
					if withD && math.Float64bits(dd[i]) != math.Float64bits(xbar0[i]-w[i]) {
						t.Fatalf("%s n=%d: d[%d] = %v, want %v", im, n, i, dd[i], xbar0[i]-w[i])
					}
					if want := a*xbar0[i] + b*w[i]; math.Float64bits(xbar[i]) != math.Float64bits(want) {
						t.Fatalf("%s n=%d d=%v: x̄[%d] = %v, want %v", im, n, withD, i, xbar[i], want)
					}
				}
			}
		}
	}
}

// BenchmarkElementwise is the per-step vector work of a DNMS network at
// N = 200 besides W·r and tanh: the Euler step and the fluctuation update,
// in both precisions, and the float32 factors' fill of one step.
func BenchmarkElementwise(b *testing.B) {
	const n = 200
	rng := rand.New(rand.NewPCG(1, 2))
	x32, d32, w32 := randMat32(rng, 1, n), randMat32(rng, 1, n), randMat32(rng, 1, n)
	x, d, w := randMat(rng, 1, n), randMat(rng, 1, n), randMat(rng, 1, n)
	out32 := make([]float32, n)
	b.Run("EulerStep32", func(b *testing.B) {
		for b.Loop() {
			EulerStep32(w32, x32, d32, 1.0/30)
		}
	})
	b.Run("EulerStep", func(b *testing.B) {
		for b.Loop() {
			EulerStep(w, x, d, 1.0/30)
		}
	})
	b.Run("Fluctuation32", func(b *testing.B) {
		for b.Loop() {
			Fluctuation32(out32, x32, w32, 0.95, 0.05)
		}
	})
	b.Run("FluctuationStep", func(b *testing.B) {
		out := make([]float64, n)
		for b.Loop() {
			FluctuationStep(out, x, w, 0.95, 0.05)
		}
	})
	b.Run("PowScale32+Horner32", func(b *testing.B) {
		th := []float32{0, 1, 0, 0}
		for b.Loop() {
			PowScale32(out32, d32, 0.5, 3)
			Horner32(w32, x32, th)
		}
	})
}
