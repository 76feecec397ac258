//go:build !amd64

package kern

// hasAVX2FMA is false: there are no assembly kernels for this architecture.
const hasAVX2FMA = false

// rowsAVX2 is never called when hasAVX2FMA is false; it exists so that the
// tests compile on every architecture.
func rowsAVX2(k int, a *[8][]float64, x []float64, out *[8]float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tileAVX2 is never called when hasAVX2FMA is false; it exists so that the
// tests compile on every architecture.
func tileAVX2(k int, a0, a1, a2, b0, b1, b2, b3 []float64, out *[12]float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tanhAVX2 is never called when hasAVX2FMA is false; it exists so that the
// tests compile on every architecture.
func tanhAVX2(dst, src []float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// dot8x1StrideAVX2 is never called when hasAVX2FMA is false.
func dot8x1StrideAVX2(k int, a *float64, lda int, x, y *float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tile32AVX2 is never called when hasAVX2FMA is false.
func tile32AVX2(k int, a0, a1, a2, b0, b1, b2, b3 []float32, out *[12]float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tanhF32AVX2 is never called when hasAVX2FMA is false.
func tanhF32AVX2(dst, src []float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// hasAVX512 is false: there are no assembly kernels for this architecture.
const hasAVX512 = false

// atb8x32F32AVX512 is never called when hasAVX512 is false.
func atb8x32F32AVX512(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int) {
	panic("kern: no AVX-512 kernel on this architecture")
}

// atb4x16F32AVX2 is never called when hasAVX2FMA is false.
func atb4x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, cols, skip, add int) {
	panic("kern: no AVX2 kernel on this architecture")
}

// dot8x1StrideF32AVX512 is never called when hasAVX512 is false.
func dot8x1StrideF32AVX512(k int, a *float32, lda int, x, y *float32) {
	panic("kern: no AVX-512 kernel on this architecture")
}

// dot4x1StrideF32AVX2 is never called when hasAVX2FMA is false.
func dot4x1StrideF32AVX2(k int, a *float32, lda int, x, y *float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tanhAVX512 is never called when hasAVX512 is false.
func tanhAVX512(dst, src []float64) { panic("kern: no AVX-512 kernel on this architecture") }

// tanhF32AVX512 is never called when hasAVX512 is false.
func tanhF32AVX512(dst, src []float32) { panic("kern: no AVX-512 kernel on this architecture") }

// dotPanelF32AVX512 is never called when hasAVX512 is false.
func dotPanelF32AVX512(kp int, panel *float32, x *float32, k int, y *float32) {
	panic("kern: no AVX-512 kernel on this architecture")
}

// eulerF32AVX2 is never called when hasAVX2FMA is false.
func eulerF32AVX2(next, x, d []float32, alpha float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// fluctF32AVX2 is never called when hasAVX2FMA is false.
func fluctF32AVX2(d, xbar, next []float32, a, b float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// powScaleF32AVX2 is never called when hasAVX2FMA is false.
func powScaleF32AVX2(dst, src []float32, c float32, l int) {
	panic("kern: no AVX2 kernel on this architecture")
}

// hornerF32AVX2 is never called when hasAVX2FMA is false.
func hornerF32AVX2(dst, src, th []float32) { panic("kern: no AVX2 kernel on this architecture") }

// dot4x8AVX512 is never called when hasAVX512 is false.
func dot4x8AVX512(k int, a *float64, lda int, b *float64, ldb int, out *[32]float64) {
	panic("kern: no AVX-512 kernel on this architecture")
}

// dotPanelAVX512 is never called when hasAVX512 is false.
func dotPanelAVX512(kp int, panel *float64, x *float64, k int, y *float64) {
	panic("kern: no AVX-512 kernel on this architecture")
}

// atb6x16F32AVX2 is never called when hasAVX2FMA is false.
func atb6x16F32AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, skip, add int) {
	panic("kern: no AVX2 kernel on this architecture")
}

// dotPanel4F32AVX2 is never called when hasAVX2FMA is false.
func dotPanel4F32AVX2(kp int, panel *float32, x *float32, k int, y *float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// eulerF64AVX2 is never called when hasAVX2FMA is false.
func eulerF64AVX2(next, x, d []float64, alpha float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// fluctF64AVX2 is never called when hasAVX2FMA is false.
func fluctF64AVX2(d, xbar, next []float64, a, b float64) {
	panic("kern: no AVX2 kernel on this architecture")
}

// atb3x16AVX512 is never called when hasAVX512 is false.
func atb3x16AVX512(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, cols, skip, add int) {
	panic("kern: no AVX-512 kernel on this architecture")
}
