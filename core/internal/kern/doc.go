// Package kern holds dense float64 and float32 kernels for the hot loops of
// rulescape's training, chiefly the eligibility product c = A·Bᵀ of two
// row-major matrices whose rows are contiguous in memory.
//
// MulABt, MulABtAdd and MulABtPar (the same split over goroutines by rows of
// c) compute c = A·Bᵀ and c += A·Bᵀ; MulAtB and MulAtBAdd compute the same
// sums from matrices stored a row per step (c = AᵀB, the float64
// eligibility; AtBNative says whether they read them in place); MulAv
// computes the matrix-vector product y = A·x and Packed the same for a
// matrix packed once for many vectors; Tanh computes tanh over a slice,
// with the same bits on every CPU (see Tanh for the algorithm and its error
// bound); EulerStep and FluctuationStep are the per-unit updates of a
// network step and of the learner's running mean.
//
// MulABt32, MulAv32, Packed32, Tanh32, EulerStep32 and Fluctuation32 are
// their float32 forms, for the float32 training path (kern32.go describes
// the summation orders), with MulAtB32 and MulAtB32Add (AᵀB in float32,
// summed in blocks of 128) and PowScale32 and Horner32 (the float32
// eligibility's factors).
//
// On amd64 CPUs with AVX2 and FMA the work is done by assembly micro-kernels
// (kern_amd64.s and the other *_amd64.s files). CPUs with AVX-512 run wider
// kernels for tanh, A·Bᵀ, AᵀB and the mat-vecs (tanh512_amd64.s,
// abt512_amd64.s, atb32_amd64.s, atb64_amd64.s, mv32_amd64.s,
// mv64_amd64.s) whose lanes perform the operations of the AVX2 kernels, so
// the results do not depend on which of the two a CPU has
// (TestStageDigestsWithoutAVX512 in stages checks it end to end).
// Elsewhere, and on older amd64 CPUs, portable Go kernels with the same
// summation order are used.
//
// # Summation order and determinism
//
// Each entry c_ij = Σ_p a_ip·b_jp is computed by the same operations wherever
// it lies in c, for any tiling and any number of workers. The columns
// p = 0…k−1 are split into blocks of 256. Within a block of length kb, lane
// l ∈ {0,1,2,3} sums the terms with p ≡ l (mod 4) in increasing p; the last
// kb mod 4 terms go to lanes 0, 1 and 2. The block's partial sum is
// (l0 + l1) + (l2 + l3), and c_ij accumulates the block sums in increasing
// block order (starting from the first block's sum for MulABt, from the old
// c_ij for MulABtAdd). The assembly kernel adds each term with a fused
// multiply-add, the Go kernel with a multiply and an add (which the compiler
// may itself fuse on arm64, ppc64 and s390x). MulAv sums each y_i like one
// k-block of any length.
//
// Results are therefore bit-identical between calls with the same inputs on
// one machine, but they differ from gonum's blas64.Gemm (which sums in another
// order) and between the assembly and Go kernels by rounding errors, of order
// 1e-16 relative to Σ_p |a_ip·b_jp|.
//
// The functions panic, as BLAS does, on negative sizes, short strides and
// slices too short for the shapes they are given.
package kern
