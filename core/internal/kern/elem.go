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

// EulerStep is EulerStep32 for float64, 4 values per AVX2 instruction.
func EulerStep(next, x, d []float64, alpha float64) {
	if len(x) < len(next) || len(d) < len(next) {
		panic(fmt.Sprintf("kern: EulerStep: len(x)=%d, len(d)=%d, both must be at least len(next)=%d", len(x), len(d), len(next)))
	}
	eulerStep(defaultImpl, next, x, d, alpha)
}

func eulerStep32(im impl, next, x, d []float32, alpha float32) {
	nv := 0
	if im >= implAVX2 {
		nv = len(next) &^ 7
		if nv > 0 {
			eulerF32AVX2(next[:nv], x, d, alpha)
		}
	}
	eulerTail(nv, next, x, d, alpha)
}

func eulerStep(im impl, next, x, d []float64, alpha float64) {
	nv := 0
	if im >= implAVX2 {
		nv = len(next) &^ 3
		if nv > 0 {
			eulerF64AVX2(next[:nv], x, d, alpha)
		}
	}
	eulerTail(nv, next, x, d, alpha)
}

// eulerTail is the Go loop of EulerStep from index i0.
func eulerTail[F float32 | float64](i0 int, next, x, d []F, alpha F) {
	x, d = x[:len(next)], d[:len(next)]
	for i := i0; i < len(next); i++ {
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

// FluctuationStep is Fluctuation32 for float64, 4 values per AVX2
// instruction.
func FluctuationStep(d, xbar, next []float64, a, b float64) {
	if len(next) < len(xbar) || (d != nil && len(d) < len(xbar)) {
		panic(fmt.Sprintf("kern: FluctuationStep: len(d)=%d, len(next)=%d, must be at least len(xbar)=%d", len(d), len(next), len(xbar)))
	}
	fluctuation(defaultImpl, d, xbar, next, a, b)
}

func fluctuation32(im impl, d, xbar, next []float32, a, b float32) {
	nv := 0
	if im >= implAVX2 {
		nv = len(xbar) &^ 7
		if nv > 0 {
			var dd []float32
			if d != nil {
				dd = d[:nv]
			}
			fluctF32AVX2(dd, xbar[:nv], next, a, b)
		}
	}
	fluctTail(nv, d, xbar, next, a, b)
}

func fluctuation(im impl, d, xbar, next []float64, a, b float64) {
	nv := 0
	if im >= implAVX2 {
		nv = len(xbar) &^ 3
		if nv > 0 {
			var dd []float64
			if d != nil {
				dd = d[:nv]
			}
			fluctF64AVX2(dd, xbar[:nv], next, a, b)
		}
	}
	fluctTail(nv, d, xbar, next, a, b)
}

// fluctTail is the Go loop of Fluctuation32 from index i0.
func fluctTail[F float32 | float64](i0 int, d, xbar, next []F, a, b F) {
	next = next[:len(xbar)]
	for i := i0; i < len(xbar); i++ {
		v := next[i]
		if d != nil {
			d[i] = xbar[i] - v
		}
		xbar[i] = a*xbar[i] + b*v
	}
}

// PowScale32 sets dst[i] = c·src[i]^l for i < len(dst): the power formed
// by successive multiplies, src·src·…·src (1 for l = 0), then scaled by c,
// unfused, so the AVX2 kernel and the Go loop give the same bits. It
// panics if src is shorter than dst or l is negative.
func PowScale32(dst, src []float32, c float32, l int) {
	if len(src) < len(dst) || l < 0 {
		panic(fmt.Sprintf("kern: PowScale32: len(src)=%d must be at least len(dst)=%d, l=%d must be ≥ 0", len(src), len(dst), l))
	}
	powScale32(defaultImpl, dst, src, c, l)
}

func powScale32(im impl, dst, src []float32, c float32, l int) {
	n8 := 0
	if im >= implAVX2 {
		n8 = len(dst) &^ 7
		if n8 > 0 {
			powScaleF32AVX2(dst[:n8], src, c, l)
		}
	}
	src = src[:len(dst)]
	for i := n8; i < len(dst); i++ {
		if l == 0 {
			dst[i] = c
			continue
		}
		v := src[i]
		s := v
		for range l - 1 {
			s *= v
		}
		dst[i] = c * s
	}
}

// Horner32 sets dst[i] = Σ_k th[k]·src[i]^k for i < len(dst), by Horner's
// rule from th[len(th)−1], unfused (the same bits from the AVX2 kernel and
// the Go loop). It panics if src is shorter than dst or th is empty.
func Horner32(dst, src, th []float32) {
	if len(src) < len(dst) || len(th) == 0 {
		panic(fmt.Sprintf("kern: Horner32: len(src)=%d must be at least len(dst)=%d, len(th)=%d at least 1", len(src), len(dst), len(th)))
	}
	horner32(defaultImpl, dst, src, th)
}

func horner32(im impl, dst, src, th []float32) {
	n8 := 0
	if im >= implAVX2 {
		n8 = len(dst) &^ 7
		if n8 > 0 {
			hornerF32AVX2(dst[:n8], src, th)
		}
	}
	src = src[:len(dst)]
	K := len(th) - 1
	for i := n8; i < len(dst); i++ {
		v := src[i]
		s := th[K]
		for k := K - 1; k >= 0; k-- {
			s = s*v + th[k]
		}
		dst[i] = s
	}
}
