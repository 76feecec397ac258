// Package fixedpoints finds the fixed points and slow points of a rate network
// under a constant input, and linearizes the dynamics around them (Sussillo &
// Barak 2013; model specification §6).
//
// # The problem
//
// For a constant input ū the continuous-time velocity of the network of
// package rnn is
//
//	F(x) = −x + W φ(x) + W_in ū + b,      φ = tanh,
//
// with the clamped units held at their values: their coordinates are fixed,
// excluded from the search and from F. Writing y for the free coordinates,
// F is a map from the free coordinates to themselves,
//
//	F(y) = −y + W_ff φ(y) + c,   c = W_in,f ū + b_f + W_fC φ(x_C),
//
// and the search minimizes the kinetic energy
//
//	q(y) = ½‖F(y)‖².
//
// Its gradient and Hessian are analytic:
//
//	J   = ∂F/∂y = −I + W_ff diag(φ'(y))
//	∇q  = Jᵀ F
//	∇²q = JᵀJ + diag(φ''(y) ∘ W_ffᵀ F),    φ'' = −2 tanh·(1 − tanh²),
//
// (each F_i has a diagonal Hessian because unit j enters F only through
// φ(y_j)). At a root F = 0 the Hessian is the Gauss–Newton matrix JᵀJ.
//
// # The minimizer
//
// Each initial state is descended by a damped Newton (Levenberg–Marquardt)
// iteration on q: the step δ solves (∇²q + λI) δ = −∇q by Cholesky, the step
// is accepted when q decreases, and λ is adapted by Nielsen's rule
// (λ ← λ·max(1/3, 1 − (2ρ − 1)³) on acceptance with gain ratio ρ, λ ← λν,
// ν ← 2ν on rejection or when ∇²q + λI is not positive definite). Near a
// root λ → 0 and the step is Newton's on F, which converges quadratically;
// far from one, or where ∇²q is indefinite, a large λ makes the step a short
// gradient step −∇q/λ on q: that is the gradient-descent fallback, built into
// the same iteration. Because the Hessian includes the F-dependent diagonal
// term, the iteration also converges quickly to positive local minima of q
// (slow points), where the Gauss–Newton matrix alone is singular.
//
// The descent stops when ∇q is exactly zero or the quadratic model predicts
// no decrease (the rounding floor), when q ≤ 10⁻²⁸, when an accepted step is
// below 10⁻¹² relative to the largest coordinate (plus 10⁻¹²), when λ exceeds
// 10²⁰ (no descent direction is left), or after Settings.MaxIter Cholesky
// factorizations. Each iteration costs one n×n product JᵀJ and one Cholesky
// factorization (n free units), both in the AVX2 kernels of core/internal/kern.
//
// # Classification
//
// An end point with q < TolQ is a fixed point; one with TolQ ≤ q < TolSlow is
// a slow point; anything else is rejected. End points farther from the
// centroid of the initial states than OutlierScale times the larger of the
// initial states' mean distance to it and 1 are dropped as outliers (a
// fixed point of a bounded network lies within reach of its trajectories;
// the floor of 1, the scale on which tanh saturates, keeps a tight cloud of
// initial states from rejecting everything). End points are deduplicated in
// the order of their initial states: a point within TolUnique (Euclidean
// distance) of an earlier one of its class is merged into it (Count grows and
// the lower-q representative is kept); a slow point within TolUnique of a
// fixed point is counted as that fixed point (an unfinished descent onto it).
//
// Each point is linearized: the eigenvalues of J at the point (free
// coordinates only), sorted by decreasing real part, and the leading right
// eigenvectors. The number of unstable dimensions is the number of
// eigenvalues with a strictly positive real part (no tolerance: at a slow
// point, where J is nearly singular, an eigenvalue near zero may fall either
// way); the point is stable when it has none, unstable when all are
// unstable, and otherwise a saddle whose index is that number.
//
// # Initial states
//
// SampleInits draws the initial states from the network's own trajectories
// (the rows of rnn.Trace.X) and adds Gaussian noise, from a seed. The
// descents run in parallel; the result depends only on the initial states and
// the settings, never on Settings.Workers. FindInputs repeats the search
// under each of a task's constant inputs (tasks.Task.FixedPointInputs:
// context cues, stimuli, zero).
package fixedpoints
