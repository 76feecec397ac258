// Package rnn implements the discrete-time rate network of the model
// specification (docs/MODEL.md §1):
//
//	r^t     = tanh(x^t)
//	x^{t+1} = x^t + α(−x^t + W r^t + W_in u^t + b + ξ^t),   then x_i^{t+1} = c_i for clamped i
//	y^t     = W_out r^t                                     (t = 1…T)
//
// with α = dt/τ. W (N×N, row i = post-synaptic, column j = pre-synaptic) is the
// plastic matrix; W_in, W_out and b are fixed. Matrices are dense row-major
// []float64 slices so that the hot loop runs on the AVX2/FMA kernels of
// core/internal/kern (pure Go elsewhere). The rates r^t are computed by
// kern.Tanh, a vectorised tanh within 2 ulp of math.Tanh that gives the same
// bits on every CPU.
//
// The package also provides the exploration perturbation schemes (decoupled,
// gaussian, none) and the initialisation helpers W⁰ = G·N(0,1)/√N (optionally
// sparse), W_in ~ U[−1,1].
package rnn
