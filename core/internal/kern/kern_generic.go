package kern

// tileGeneric is the portable tile kernel: the fallback on amd64 CPUs without
// AVX2 and FMA, and the only kernel elsewhere. It follows the assembly
// kernel's summation order (4 lane sums, tail in the first lanes, pairwise
// reduction; see doc.go) with a separate multiply and add in place of the
// fused multiply-add, so the two agree to rounding but not bit for bit.
// Each entry is a plain 4-lane dot product: this path is for correctness on
// any machine, about as fast as gonum's pure-Go kernels.
func tileGeneric(k int, a0, a1, a2, b0, b1, b2, b3 []float64, out *[12]float64) {
	as := [3][]float64{a0[:k], a1[:k], a2[:k]}
	bs := [4][]float64{b0[:k], b1[:k], b2[:k], b3[:k]}
	for i, a := range as {
		for j, b := range bs {
			out[4*i+j] = dot4(a, b)
		}
	}
}

// rowsGeneric is the portable matrix-vector kernel, with the summation order
// of dot8x1AVX2 but without fused multiply-adds.
func rowsGeneric(k int, a *[8][]float64, x []float64, out *[8]float64) {
	for i, r := range a {
		out[i] = dot4(r[:k], x[:k])
	}
}

// dot4 returns Σ a[p]·b[p] (len(a) == len(b)) summed in 4 lanes: lane l
// holds the terms with p ≡ l (mod 4) in increasing p, except that the last
// len(a) mod 4 terms go to lanes 0, 1, 2 in order, and the result is
// (l0 + l1) + (l2 + l3).
func dot4(a, b []float64) float64 {
	b = b[:len(a)]
	var l0, l1, l2, l3 float64
	p := 0
	for ; p+4 <= len(a); p += 4 {
		l0 += a[p] * b[p]
		l1 += a[p+1] * b[p+1]
		l2 += a[p+2] * b[p+2]
		l3 += a[p+3] * b[p+3]
	}
	switch len(a) - p {
	case 3:
		l2 += a[p+2] * b[p+2]
		fallthrough
	case 2:
		l1 += a[p+1] * b[p+1]
		fallthrough
	case 1:
		l0 += a[p] * b[p]
	}
	return (l0 + l1) + (l2 + l3)
}
