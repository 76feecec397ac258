package kern

import "fmt"

// Packed32 is a float32 matrix packed for repeated products with vectors
// (MulV), as the step of a network multiplies its fixed W by each new rate
// vector: on AVX-512 CPUs the rows are stored in panels of 8, 16 columns of
// each row in turn, padded with zeros, so that a product reads the matrix
// as one sequential stream. MulV gives the bits of MulAv32 on every CPU.
// The zero value is ready to Pack.
type Packed32 struct {
	m, k, kp int
	data     []float32 // AVX-512: the panels; else unused
	a        []float32 // otherwise: the matrix, unpacked
	lda      int
	y        [8]float32
}

// Pack packs the m×k row-major matrix a (row stride lda ≥ k), reusing the
// receiver's storage. On CPUs without AVX-512 it keeps a (not a copy), so a
// must not change until the next Pack. It panics on bad sizes.
func (p *Packed32) Pack(m, k int, a []float32, lda int) {
	p.pack(defaultImpl, m, k, a, lda)
}

func (p *Packed32) pack(im impl, m, k int, a []float32, lda int) {
	switch {
	case m < 0 || k < 0:
		panic(fmt.Sprintf("kern: negative size m=%d k=%d", m, k))
	case lda < max(k, 1):
		panic(fmt.Sprintf("kern: lda=%d is less than k=%d; the row stride of A must be at least k", lda, k))
	case m > 0 && k > 0 && len(a) < (m-1)*lda+k:
		panic(fmt.Sprintf("kern: len(a)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(a), m, k, lda, (m-1)*lda+k))
	}
	p.m, p.k, p.a, p.lda = m, k, nil, lda
	if im != implAVX512 || m < 8 || k == 0 {
		p.a, p.data = a, p.data[:0]
		return
	}
	kp := (k + 15) &^ 15
	panels := (m + 7) / 8
	p.kp = kp
	if need := panels * 8 * kp; cap(p.data) < need {
		p.data = make([]float32, need)
	} else {
		p.data = p.data[:need]
	}
	for q := range panels {
		panel := p.data[q*8*kp : (q+1)*8*kp]
		for r := range 8 {
			i := q*8 + r
			for j0 := 0; j0 < kp; j0 += 16 {
				dst := panel[j0*8+r*16 : j0*8+r*16+16]
				if i >= m {
					clear(dst)
					continue
				}
				n := copy(dst, a[i*lda+j0:i*lda+min(j0+16, k)])
				clear(dst[n:])
			}
		}
	}
}

// MulV overwrites y[:m] with A·x for the packed A (x holds at least k
// values), with the bits of MulAv32(m, k, a, lda, x, y). It panics if x or
// y is short.
func (p *Packed32) MulV(x, y []float32) {
	switch {
	case len(x) < p.k:
		panic(fmt.Sprintf("kern: len(x)=%d is less than k=%d", len(x), p.k))
	case len(y) < p.m:
		panic(fmt.Sprintf("kern: len(y)=%d is less than m=%d", len(y), p.m))
	}
	p.mulV(defaultImpl, x, y)
}

func (p *Packed32) mulV(im impl, x, y []float32) {
	if len(p.data) == 0 {
		mulAv32(im, p.m, p.k, p.a, p.lda, x, y)
		return
	}
	m, kp := p.m, p.kp
	for q := 0; q*8 < m; q++ {
		if q*8+8 <= m {
			dotPanelF32AVX512(kp, &p.data[q*8*kp], &x[0], p.k, &y[q*8])
			continue
		}
		dotPanelF32AVX512(kp, &p.data[q*8*kp], &x[0], p.k, &p.y[0])
		copy(y[q*8:m], p.y[:])
	}
}
