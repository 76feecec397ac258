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

// dot8x1StrideF32AVX2 is never called when hasAVX2FMA is false.
func dot8x1StrideF32AVX2(k int, a *float32, lda int, x, y *float32) {
	panic("kern: no AVX2 kernel on this architecture")
}

// tanhF32AVX2 is never called when hasAVX2FMA is false.
func tanhF32AVX2(dst, src []float32) {
	panic("kern: no AVX2 kernel on this architecture")
}
