package kern

import "golang.org/x/sys/cpu"

// dot3x4AVX2 is the AVX2+FMA micro-kernel of kern_amd64.s. It writes
// out[4i+j] = Σ_{p<k} ai[p]·bj[p] for the rows a0..a2 and b0..b3, each of
// which must hold at least k doubles, in the order described in doc.go.
// k must be at least 1.
//
//go:noescape
func dot3x4AVX2(k int, a0, a1, a2, b0, b1, b2, b3 *float64, out *[12]float64)

// tileAVX2 adapts dot3x4AVX2 to tileFunc. The slicing in the caller has
// already checked that every row holds k doubles, which is what makes the
// assembly's loads safe.
func tileAVX2(k int, a0, a1, a2, b0, b1, b2, b3 []float64, out *[12]float64) {
	_, _, _ = a0[k-1], a1[k-1], a2[k-1]
	_, _, _, _ = b0[k-1], b1[k-1], b2[k-1], b3[k-1]
	dot3x4AVX2(k, &a0[0], &a1[0], &a2[0], &b0[0], &b1[0], &b2[0], &b3[0], out)
}

// hasAVX2FMA reports whether this CPU (and OS) supports the assembly kernel.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// defaultTile is the fastest tile kernel this CPU supports.
var defaultTile = pickTile()

func pickTile() tileFunc {
	if hasAVX2FMA {
		return tileAVX2
	}
	return tileGeneric
}
