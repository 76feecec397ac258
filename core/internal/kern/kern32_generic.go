package kern

// tile32Generic is the portable float32 tile kernel, with the summation
// order of dot3x4F32AVX2 (see kern32.go) but without fused multiply-adds.
func tile32Generic(k int, a0, a1, a2, b0, b1, b2, b3 []float32, out *[12]float32) {
	as := [3][]float32{a0[:k], a1[:k], a2[:k]}
	bs := [4][]float32{b0[:k], b1[:k], b2[:k], b3[:k]}
	for i, a := range as {
		for j, b := range bs {
			out[4*i+j] = dot8f32(a, b)
		}
	}
}

// dot8f32 returns Σ a[p]·b[p] (len(b) ≥ len(a)) in float32, summed in 8
// lanes: lane l holds the terms with p ≡ l (mod 8) in increasing p, except
// that the last len(a) mod 8 terms go to lanes 0…6 in order, and the result
// is ((l0+l1) + (l2+l3)) + ((l4+l5) + (l6+l7)).
func dot8f32(a, b []float32) float32 {
	b = b[:len(a)]
	var l [8]float32
	p := 0
	for ; p+8 <= len(a); p += 8 {
		aa, bb := a[p:p+8:p+8], b[p:p+8:p+8]
		l[0] += aa[0] * bb[0]
		l[1] += aa[1] * bb[1]
		l[2] += aa[2] * bb[2]
		l[3] += aa[3] * bb[3]
		l[4] += aa[4] * bb[4]
		l[5] += aa[5] * bb[5]
		l[6] += aa[6] * bb[6]
		l[7] += aa[7] * bb[7]
	}
	for q := 0; p+q < len(a); q++ {
		l[q] += a[p+q] * b[p+q]
	}
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}
