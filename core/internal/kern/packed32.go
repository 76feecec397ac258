package kern

import "fmt"

// Packed32 is a float32 matrix packed for repeated products with vectors
// (MulV), as the step of a network multiplies its fixed W by each new rate
// vector: the rows are stored in panels of 8 (AVX-512) or 4 (AVX2), 16
// columns of each row in turn, padded with zeros, so that a product reads
// the matrix as one sequential stream. MulV gives the bits of MulAv32 on
// every CPU. The zero value is ready to Pack.
type Packed32 struct{ packed[float32] }

// Packed is Packed32 for float64: on AVX-512 CPUs the rows are stored in
// panels of 8, 4 columns of each row in turn, padded with zeros; MulV gives
// the bits of MulAv on every CPU. The zero value is ready to Pack.
type Packed struct{ packed[float64] }

// packed is the storage and the pass of Packed and Packed32.
type packed[F float32 | float64] struct {
	m, k, kp int
	h        int // rows per panel
	data     []F // the panels, or empty
	a        []F // otherwise: the matrix, unpacked
	lda      int
	y        [8]F
	back     bool // the last pass ran from the last panel to the first
}

// Pack packs the m×k row-major matrix a (row stride lda ≥ k), reusing the
// receiver's storage. On CPUs without AVX2 it keeps a (not a copy), so a
// must not change until the next Pack. It panics on bad sizes.
func (p *Packed32) Pack(m, k int, a []float32, lda int) {
	p.pack(defaultImpl, m, k, a, lda)
}

func (p *Packed32) pack(im impl, m, k int, a []float32, lda int) {
	h := 4
	if im == implAVX512 && m >= 8 {
		h = 8
	}
	p.set(m, k, a, lda, h, 16, im >= implAVX2 && m >= 4)
}

// Pack packs the m×k row-major matrix a (row stride lda ≥ k), reusing the
// receiver's storage. On CPUs without AVX-512 it keeps a (not a copy), so a
// must not change until the next Pack. It panics on bad sizes.
func (p *Packed) Pack(m, k int, a []float64, lda int) {
	p.pack(defaultImpl, m, k, a, lda)
}

func (p *Packed) pack(im impl, m, k int, a []float64, lda int) {
	p.set(m, k, a, lda, 8, 4, im == implAVX512 && m >= 8)
}

// set packs a into panels of h rows and chunks of w columns when pack
// (and k > 0), else keeps a itself.
func (p *packed[F]) set(m, k int, a []F, lda, h, w int, pack bool) {
	checkMatVec(m, k, len(a), lda, k, m)
	p.m, p.k, p.a, p.lda, p.h = m, k, nil, lda, h
	if !pack || k == 0 {
		p.a, p.data = a, p.data[:0]
		return
	}
	p.kp, p.data = packPanels(p.data, m, k, a, lda, h, w)
}

// MulV overwrites y[:m] with A·x for the packed A (x holds at least k
// values), with the bits of MulAv32(m, k, a, lda, x, y). It panics if x or
// y is short.
func (p *Packed32) MulV(x, y []float32) {
	p.check(len(x), len(y))
	p.mulV(defaultImpl, x, y)
}

func (p *Packed32) mulV(im impl, x, y []float32) {
	switch {
	case len(p.data) == 0:
		mulAv32(im, p.m, p.k, p.a, p.lda, x, y)
	case p.h == 8:
		p.pass(x, y, dotPanelF32AVX512)
	default:
		p.pass(x, y, dotPanel4F32AVX2)
	}
}

// MulV overwrites y[:m] with A·x for the packed A (x holds at least k
// values), with the bits of MulAv(m, k, a, lda, x, y). It panics if x or y
// is short.
func (p *Packed) MulV(x, y []float64) {
	p.check(len(x), len(y))
	p.mulV(defaultImpl, x, y)
}

func (p *Packed) mulV(im impl, x, y []float64) {
	if len(p.data) == 0 {
		mulAv(im, p.m, p.k, p.a, p.lda, x, y)
		return
	}
	p.pass(x, y, dotPanelAVX512)
}

// check panics unless x and y (of lx and ly values) fit the matrix.
func (p *packed[F]) check(lx, ly int) {
	switch {
	case lx < p.k:
		panic(fmt.Sprintf("kern: len(x)=%d is less than k=%d", lx, p.k))
	case ly < p.m:
		panic(fmt.Sprintf("kern: len(y)=%d is less than m=%d", ly, p.m))
	}
}

// pass multiplies every panel by x with the panel kernel dot, alternating
// the direction of the pass: the panels read last are still in L1 cache
// when the next call starts with them. A last panel of fewer than h rows
// writes through p.y.
func (p *packed[F]) pass(x, y []F, dot func(kp int, panel, x *F, k int, y *F)) {
	m, kp, h := p.m, p.kp, p.h
	panels := (m + h - 1) / h
	p.back = !p.back
	for s := range panels {
		q := s
		if p.back {
			q = panels - 1 - s
		}
		if q*h+h <= m {
			dot(kp, &p.data[q*h*kp], &x[0], p.k, &y[q*h])
			continue
		}
		dot(kp, &p.data[q*h*kp], &x[0], p.k, &p.y[0])
		copy(y[q*h:m], p.y[:])
	}
}

// packPanels packs the m×k matrix a into panels of h rows, chunks of w
// columns of each row in turn, zero past row m and column k, reusing buf;
// it returns the padded row length and the panels.
func packPanels[F float32 | float64](buf []F, m, k int, a []F, lda, h, w int) (int, []F) {
	kp := (k + w - 1) / w * w
	panels := (m + h - 1) / h
	if need := panels * h * kp; cap(buf) < need {
		buf = make([]F, need)
	} else {
		buf = buf[:need]
	}
	for q := range panels {
		panel := buf[q*h*kp : (q+1)*h*kp]
		for r := range h {
			i := q*h + r
			for j0 := 0; j0 < kp; j0 += w {
				dst := panel[j0*h+r*w : j0*h+r*w+w]
				if i >= m {
					clear(dst)
					continue
				}
				n := copy(dst, a[i*lda+j0:i*lda+min(j0+w, k)])
				clear(dst[n:])
			}
		}
	}
	return kp, buf
}
