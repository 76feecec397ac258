package kern

import "fmt"

// EulerStep32 overwrites next[i], holding (W r)_i on entry, with the Euler
// step x_i + α·((next_i − x_i) + d_i) for i < len(next): one multiply and
// three adds per value, unfused, so the AVX2 kernel and the Go loop give
// the same bits (those of the expression x + α·(−x + next + d) in Go).
// It panics if x or d is shorter than next.
func EulerStep32(next, x, d []float32, alpha float32) {
	if len(x) < len(next) || len(d) < len(next) {
		panic(fmt.Sprintf("kern: EulerStep32: len(x)=%d, len(d)=%d, both must be at least len(next)=%d", len(x), len(d), len(next)))
	}
	eulerStep32(defaultImpl, next, x, d, alpha)
}

func eulerStep32(im impl, next, x, d []float32, alpha float32) {
	n8 := 0
	if im >= implAVX2 {
		n8 = len(next) &^ 7
		if n8 > 0 {
			eulerF32AVX2(next[:n8], x, d, alpha)
		}
	}
	x, d = x[:len(next)], d[:len(next)]
	for i := n8; i < len(next); i++ {
		next[i] = x[i] + alpha*(-x[i]+next[i]+d[i])
	}
}

// Fluctuation32 advances the running mean of the states by one step:
// d_i = x̄_i − next_i, then x̄_i = a·x̄_i + b·next_i, for i < len(xbar),
// with b = 1 − α_x passed rounded (two multiplies and an add, unfused: the
// same bits on every CPU). A nil d updates x̄ alone. It panics if next, or
// a non-nil d, is shorter than xbar.
func Fluctuation32(d, xbar, next []float32, a, b float32) {
	if len(next) < len(xbar) || (d != nil && len(d) < len(xbar)) {
		panic(fmt.Sprintf("kern: Fluctuation32: len(d)=%d, len(next)=%d, must be at least len(xbar)=%d", len(d), len(next), len(xbar)))
	}
	fluctuation32(defaultImpl, d, xbar, next, a, b)
}

func fluctuation32(im impl, d, xbar, next []float32, a, b float32) {
	n8 := 0
	if im >= implAVX2 {
		n8 = len(xbar) &^ 7
		if n8 > 0 {
			var dd []float32
			if d != nil {
				dd = d[:n8]
			}
			fluctF32AVX2(dd, xbar[:n8], next, a, b)
		}
	}
	next = next[:len(xbar)]
	for i := n8; i < len(xbar); i++ {
		v := next[i]
		if d != nil {
			d[i] = xbar[i] - v
		}
		xbar[i] = a*xbar[i] + b*v
	}
}
