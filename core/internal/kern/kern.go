package kern

import (
	"fmt"
	"sync"
)

// impl selects an implementation of the kernels. It is a value rather than a
// function variable so that the calls stay direct and their output arrays stay
// on the stack.
type impl uint8

const (
	implGo     impl = iota // portable Go, kern_generic.go
	implAVX2               // AVX2 + FMA assembly, kern_amd64.s
	implAVX512             // implAVX2, with AVX-512 kernels where there are some (the same bits)
)

func (im impl) String() string {
	switch im {
	case implAVX2:
		return "avx2"
	case implAVX512:
		return "avx512"
	}
	return "go"
}

// defaultImpl is the fastest implementation this CPU supports.
var defaultImpl = pickImpl()

func pickImpl() impl {
	switch {
	case hasAVX512:
		return implAVX512
	case hasAVX2FMA:
		return implAVX2
	}
	return implGo
}

// tile computes the 3×4 block of dot products out[4i+j] = Σ_{p<k} ai[p]·bj[p]
// for k ≥ 1 and rows holding at least k doubles. Rows may repeat (the driver
// pads edge tiles with copies of a valid row); every entry is computed
// independently of the others, so its value does not depend on which tile it
// falls in.
func (im impl) tile(k int, a0, a1, a2, b0, b1, b2, b3 []float64, out *[12]float64) {
	if im >= implAVX2 {
		tileAVX2(k, a0, a1, a2, b0, b1, b2, b3, out)
		return
	}
	tileGeneric(k, a0, a1, a2, b0, b1, b2, b3, out)
}

// rows computes out[i] = Σ_{p<k} a[i][p]·x[p] for 8 rows of A, k ≥ 1. Rows
// may repeat; each entry is computed independently of the others.
func (im impl) rows(k int, a *[8][]float64, x []float64, out *[8]float64) {
	if im >= implAVX2 {
		rowsAVX2(k, a, x, out)
		return
	}
	rowsGeneric(k, a, x, out)
}

const (
	// mr×nr is the tile of c computed by one kernel call.
	mr, nr = 3, 4
	// kc is the k-block length: one block of the n rows of B (n·kc·8 bytes,
	// 400 KiB for n = 200) stays in L2 while the 3 rows of A of a tile
	// (6 KiB) stay in L1. It is a multiple of 4, so every block but the last
	// fills whole vector lanes.
	kc = 256
)

// MulABt overwrites the m×n matrix c with A·Bᵀ:
//
//	c[i*ldc+j] = Σ_{p<k} a[i*lda+p]·b[j*ldb+p]   for i < m, j < n.
//
// A is m×k with row stride lda ≥ k, B is n×k with row stride ldb ≥ k and c has
// row stride ldc ≥ n, all row-major. Elements of c outside the m×n block are
// not touched. When k = 0 the block is set to zero. It panics on negative
// sizes, short strides or slices too short for the given shapes.
func MulABt(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	check(m, n, k, a, lda, b, ldb, c, ldc)
	mulABt(defaultImpl, false, m, n, k, a, lda, b, ldb, c, ldc)
}

// MulABtAdd adds A·Bᵀ to c, with the shapes of MulABt:
//
//	c[i*ldc+j] += Σ_{p<k} a[i*lda+p]·b[j*ldb+p].
func MulABtAdd(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	check(m, n, k, a, lda, b, ldb, c, ldc)
	mulABt(defaultImpl, true, m, n, k, a, lda, b, ldb, c, ldc)
}

// MulABtPar is MulABt with the rows of c split into up to workers contiguous
// bands computed in parallel goroutines (workers ≤ 1 runs in the calling
// goroutine). Every entry of c is computed by the same operations whatever
// the split, so the result is bit-identical to MulABt's.
func MulABtPar(workers, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	check(m, n, k, a, lda, b, ldb, c, ldc)
	mulABtPar(defaultImpl, workers, m, n, k, a, lda, b, ldb, c, ldc)
}

func mulABtPar(im impl, workers, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	tiles := (m + mr - 1) / mr
	workers = min(workers, tiles)
	if workers <= 1 {
		mulABt(im, false, m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		// Band w holds the row tiles [w·tiles/workers, (w+1)·tiles/workers).
		i0 := w * tiles / workers * mr
		i1 := min(m, (w+1)*tiles/workers*mr)
		wg.Go(func() {
			mulABt(im, false, i1-i0, n, k, a[i0*lda:], lda, b, ldb, c[i0*ldc:], ldc)
		})
	}
	wg.Wait()
}

// mulABt is MulABt (add false) or MulABtAdd (add true) with the implementation im,
// for arguments that passed check.
//
// Loop order: k-blocks of kc columns outermost, then tiles of 3 rows of A,
// then tiles of 4 rows of B. Each entry of c thus receives one partial sum
// per k-block, in increasing block order.
func mulABt(im impl, add bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		if !add {
			for i := range m {
				clear(c[i*ldc : i*ldc+n])
			}
		}
		return
	}
	if im == implAVX512 && m >= 4 && n >= 8 {
		mulABt512(add, m, n, k, a, lda, b, ldb, c, ldc)
		return
	}
	var out [mr * nr]float64
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		overwrite := !add && p0 == 0
		for i := 0; i < m; i += mr {
			rows := min(mr, m-i)
			// Rows past m repeat row i; their results are discarded.
			var ar [mr][]float64
			for r := range ar {
				ii := i + min(r, rows-1)
				ar[r] = a[ii*lda+p0 : ii*lda+p0+kb]
			}
			for j := 0; j < n; j += nr {
				cols := min(nr, n-j)
				var br [nr][]float64
				for s := range br {
					jj := j + min(s, cols-1)
					br[s] = b[jj*ldb+p0 : jj*ldb+p0+kb]
				}
				im.tile(kb, ar[0], ar[1], ar[2], br[0], br[1], br[2], br[3], &out)
				for r := range rows {
					ci := c[(i+r)*ldc+j : (i+r)*ldc+j+cols]
					o := out[r*nr : r*nr+cols]
					if overwrite {
						copy(ci, o)
					} else {
						for s, v := range o {
							ci[s] += v
						}
					}
				}
			}
		}
	}
}

// mulABt512 is mulABt with the AVX-512 kernel's 4×8 tiles, for m ≥ 4 and
// n ≥ 8: the same k-blocks, the same sums (dot4x8AVX512 has the bits of
// dot3x4AVX2), applied to c in the same way. Edge tiles end at the last
// row or column and skip the entries the tile before applied.
func mulABt512(add bool, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	_, _ = a[(m-1)*lda+k-1], b[(n-1)*ldb+k-1]
	var out [32]float64
	for p0 := 0; p0 < k; p0 += kc {
		kb := min(kc, k-p0)
		overwrite := !add && p0 == 0
		for i := 0; i < m; i += 4 {
			i0 := min(i, m-4)
			for j := 0; j < n; j += 8 {
				j0 := min(j, n-8)
				dot4x8AVX512(kb, &a[i0*lda+p0], lda, &b[j0*ldb+p0], ldb, &out)
				for r := i - i0; r < 4; r++ {
					ci := c[(i0+r)*ldc+j : (i0+r)*ldc+j0+8]
					o := out[r*8+j-j0 : r*8+8]
					if overwrite {
						copy(ci, o)
					} else {
						for s, v := range o {
							ci[s] += v
						}
					}
				}
			}
		}
	}
}

// check panics unless the shapes and slices describe valid matrices.
func check(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int) {
	switch {
	case m < 0 || n < 0 || k < 0:
		panic(fmt.Sprintf("kern: negative size m=%d n=%d k=%d", m, n, k))
	case lda < max(k, 1):
		panic(fmt.Sprintf("kern: lda=%d is less than k=%d; the row stride of A must be at least k", lda, k))
	case ldb < max(k, 1):
		panic(fmt.Sprintf("kern: ldb=%d is less than k=%d; the row stride of B must be at least k", ldb, k))
	case ldc < max(n, 1):
		panic(fmt.Sprintf("kern: ldc=%d is less than n=%d; the row stride of c must be at least n", ldc, n))
	}
	need := func(rows, cols, ld int) int {
		if rows == 0 || cols == 0 {
			return 0
		}
		return (rows-1)*ld + cols
	}
	if l := need(m, k, lda); len(a) < l {
		panic(fmt.Sprintf("kern: len(a)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(a), m, k, lda, l))
	}
	if l := need(n, k, ldb); len(b) < l {
		panic(fmt.Sprintf("kern: len(b)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(b), n, k, ldb, l))
	}
	if l := need(m, n, ldc); len(c) < l {
		panic(fmt.Sprintf("kern: len(c)=%d is too short for a %d×%d matrix with stride %d (need %d)", len(c), m, n, ldc, l))
	}
}
