package kern

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestElementwise32 checks that EulerStep32 and Fluctuation32 give, on
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
	for name, f := range map[string]func(){
		"euler short x":       func() { EulerStep32(make([]float32, 3), make([]float32, 2), make([]float32, 3), 1) },
		"fluctuation short d": func() { Fluctuation32(make([]float32, 2), make([]float32, 3), make([]float32, 3), 1, 0) },
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
