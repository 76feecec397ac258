package rnn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNetwork32Run checks the float32 simulation against the float64 one
// from the same (float32-representable) weights and inputs: states and
// outputs agree to float32 rounding over T = 60 steps (measured ≤ 4.3·10⁻⁷
// relative to the largest value; asserted 10⁻⁵), clamped units hold
// their values, the conversions round trip, and a second run gives the
// same bits.
func TestNetwork32Run(t *testing.T) {
	for _, n := range []int{5, 9, 40} {
		rng := rand.New(rand.NewPCG(uint64(n), 3))
		net, err := Init(rng, InitConfig{N: n, G: 1.5, InScale: 1, Readout: ReadoutRandom, Clamps: []float64{1, -1}}, 2, 2)
		if err != nil {
			t.Fatal(err)
		}
		net = net.Float32().Float64() // representable in float32
		if !slices.Equal(net.Float32().Float64().W, net.W) {
			t.Fatal("Float32().Float64() does not round trip a float32-representable network")
		}
		const T = 60
		x0, u, xi := make([]float64, n), make([]float64, T*2), make([]float64, T*n)
		for _, s := range [][]float64{x0, u, xi} {
			for k := range s {
				s[k] = float64(float32(0.5 * rng.NormFloat64()))
			}
		}
		for k := 20 * 2; k < 40*2; k++ {
			u[k] = 0 // a stretch without input
		}
		dyn := Dynamics{Dt: 1, Tau: 10}
		var tr Trace
		net.Run(dyn, x0, u, xi, T, &tr)
		n32 := net.Float32()
		var a, b Trace32
		n32.Run(dyn, x0, u, xi, T, &a)
		n32.Run(dyn, x0, u, xi, T, &b)
		if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
			t.Fatalf("N=%d: two float32 runs differ", n)
		}
		near := func(what string, got []float32, want []float64) {
			t.Helper()
			var d, m float64
			for k, w := range want {
				d = max(d, math.Abs(float64(got[k])-w))
				m = max(m, math.Abs(w))
			}
			if d > 1e-5*m {
				t.Fatalf("N=%d: %s differs from float64 by %.3g (max |%s| = %.3g)", n, what, d, what, m)
			}
		}
		near("x", a.X, tr.X)
		near("r", a.R, tr.R)
		near("y", a.Y, tr.Y)
		for step := 1; step <= T; step++ {
			for c, i := range net.ClampIndex {
				if float64(a.X[step*n+i]) != net.ClampValue[c] {
					t.Fatalf("N=%d: clamped unit %d is %v at step %d", n, i, a.X[step*n+i], step)
				}
			}
		}
	}
}
