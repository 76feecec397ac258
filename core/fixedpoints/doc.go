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
// The Euler map x ← x + α(−x + Wφ(x) + W_in ū + b) that package rnn
// simulates (α = dt/τ, Settings.Alpha) has the same fixed points, with
// Jacobian I + αJ: Point.MapUnstable counts the eigenvalues with
// |1 + αλ| > 1. It is at least the continuous-time index, and larger when
// a fast, weakly damped rotation (Re λ < 0, |λ|² > −2 Re λ/α) or a fast
// stable node (λ < −2/α) is overshot by the step.
//
// # Measures of the dynamics at a point
//
// Each point also gets (measures.go, where the definitions are written out):
// Henrici's departure from normality of J, absolute and relative to ‖J‖_F;
// the overlap of each readout (row of W_out on the free coordinates) with
// each right eigenvector of J, aligned with Eigenvalues; and the linear
// response (−J)⁻¹ W_in, the derivative of the point's location with respect
// to the constant input, one vector per input channel.
//
// # Deflation and completeness
//
// Plain descents from random initial states find each point in proportion
// to its basin of attraction under the descent, and miss points with small
// basins. With Settings.Deflations = R > 0, up to R rounds of deflated
// searches follow: in each round, one search from every initial state on
// the deflated residual G = M F, M(y) = Π_i (‖y − r_i‖^(−p) + σ) over every
// fixed point r_i found so far (Brown & Gearhart 1971; Farrell, Birkisson &
// Funke 2015; p = DeflationPower, σ = DeflationShift). G has the roots of F
// except the r_i, so a search that converges finds a new one. A search is a
// Levenberg–Marquardt descent of ½‖G‖² with the Gauss–Newton model of G,
// and, when that ends at a local minimum of ‖G‖ instead of a root, the
// deflated Newton iteration (the Newton step of F scaled by
// 1/(1 − δ·∇log M)) from the same initial state; either end point is
// polished by the plain descent and kept when it is a fixed point farther
// than TolUnique from every r_i. The new points of a round are merged in
// the order of the initial states; a round that finds none ends the search.
// On three uncoupled bistable units (27 points) and a 4-unit Hopfield
// network with two stored patterns (9 points), eight initial states find
// 6 and 5 points by plain descent and all 27 and 9 with deflation
// (deflate_test.go); p = 3 rather than Farrell's usual 2, which left some
// points of the bistable network unfound.
//
// Only the plain descents are independent samples of the basins, so the
// completeness estimate (Result.Completeness) uses their counts alone: the
// number of fixed points found at least once (S_obs), exactly once (f1)
// and exactly twice (f2), and the Chao1 estimate of how many the descent
// reaches, S_obs + f1²/(2 f2), or S_obs + f1(f1 − 1)/2 when f2 = 0. Chao1
// equals S_obs when every point was found at least twice; points found only
// by deflation (Count 0) are reported beside it.
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
