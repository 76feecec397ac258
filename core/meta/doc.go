// Package meta computes the meta-objective of a plasticity rule and its
// gradient with respect to the rule coefficients (docs/MODEL.md §4–5, §7).
//
// A Problem fixes one learner: the initial network W⁰, the learner settings
// and H learning trials with all their random numbers (initial states x⁰,
// exploration noise ξ, conditions, gates). For a rule Θ the learner runs the
// trials as plasticity.Learner does and the meta-objective is
//
//	J(Θ) = Σ_{h=0..H−1} γ^h R^h ,  R^h = −E^h .
//
// Gradient differentiates the whole learning process in forward mode: for
// every direction v of Θ-space it carries the tangents of the state ẋ, of the
// filtered state, of the eligibility ė and of the weights Ẇ through every
// step of every trial (docs/MODEL.md §5), all directions at once. Because W is constant
// within a trial, the per-step work is one N×N by N×D matrix product for the
// state tangents, and the eligibility tangents of a whole trial are two
// stacked matrix products per block of time steps, instead of T element-wise
// rank-one updates of an N×N trace per direction. Projection propagates Ω
// random directions (Rademacher or Gaussian) through the same primal pass and
// returns the unbiased estimate ĝ = (1/Ω) Σ_ω J̇_{u^ω} u^ω, at a cost that
// scales with Ω, not with the number of coefficients P. Adjoint computes the
// same exact gradient as Gradient in reverse mode: it keeps W at every trial
// boundary, then recomputes the trials one at a time from the last and
// propagates the adjoints of W and of the reward baselines backwards, at a
// cost of a few objectives whatever P. FiniteDifference is the reference:
// central differences on common random numbers.
//
// Optionally log η is a meta-parameter too; its derivative is appended as
// the last coordinate of the gradient.
//
// A Case (docs/MODEL.md §7) is the same problem written out in full as JSON, so that
// another implementation can recompute J and ∇J; ReadCase validates one,
// FromCase turns it into a Problem and NewCase writes a Problem out.
//
// Every function reads its Problem and never changes it, so a meta-optimizer
// may evaluate S learners (S problems, or one problem with several rules) in
// parallel goroutines and average their results.
package meta
