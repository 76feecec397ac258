// Package metaopt is rulescape's meta-optimization engine: it maximizes the
// meta-objective of the model specification (§4),
//
//	J(Θ) = (1/S) Σ_{s=1..S} J_s(Θ),   J_s = Σ_{h=0..H−1} γ^h R_s^h,
//
// over the plasticity parameters Θ (and, optionally, log η as the last entry
// of the parameter vector). It knows nothing about networks or tangents: an
// Objective runs one learner from a seed and returns J_s, optionally a
// gradient estimate and the compute it spent. rulescape's core/meta provides
// objectives with exact tangents, random projections and finite differences;
// tests here use synthetic objectives with known answers.
//
// # Algorithms
//
// Method "adam" (the default) averages, in every iteration, the J_s and
// gradient estimates of S learners run in parallel, and takes one Adam ascent
// step (Kingma & Ba 2015) with optional gradient-norm clipping:
//
//	g = (1/V) Σ_{valid s} ĝ_s,   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
//	Θ ← Θ + α (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
//
// Adam normalizes each coordinate by its own gradient scale, so α is roughly
// the step per coordinate per iteration, for the θ_kl and log η alike.
// Which gradient estimate ĝ_s the objective returns (exact, "projection:Ω",
// finite differences) is the objective's business; ParseEstimator parses the
// names the command line uses.
//
// Method "es" is the black-box baseline of antithetic evolution strategies
// (Salimans et al. 2017): for pairs k = 1…K it draws ε_k ~ N(0, I), runs
// Θ+σε_k and Θ−σε_k on the same learner seed, and estimates
//
//	g = 1/(2Vσ) Σ_{valid k} (F(Θ+σε_k) − F(Θ−σε_k)) ε_k
//
// with F = J ("plain": unbiased for the gradient of the Gaussian-smoothed J)
// or F = the centered rank in [−½, ½] ("rank", the default); the same Adam
// step follows. Method "cmaes" is CMA-ES (Hansen 2016) with the default
// strategy parameters: each generation's λ candidates are scored by their mean
// J over the iteration's S learner seeds, common to all candidates.
//
// # Seeds
//
// All randomness derives from Settings.Seed by hashing (SplitMix64):
// training learner s of iteration i gets Settings.LearnerSeed(i, s), a hash
// of (Seed, i, s) — or of (Seed, 0, s) with FixedSeeds, which makes J a
// deterministic function of Θ. Held-out learner j gets HeldOutSeed(j), from
// a separate stream, the same at every evaluation; held-out runs never
// compute gradients. Each training run also gets an EstimatorSeed(i, s), fresh
// every iteration even with fixed seeds, for the estimator's own random
// directions. The optimizer's own random stream (ES perturbations, CMA-ES
// samples) is a PCG generator seeded from Seed and kept in the State.
//
// # Divergence
//
// A learner whose Objective returns an error matching ErrDiverged (which is
// plasticity.ErrDiverged, so *plasticity.DivergenceError qualifies), or a
// non-finite J or gradient, is excluded from the iteration's average and
// listed in the Record with its seed and reason (ES excludes the whole pair;
// CMA-ES ranks the candidate last). If fewer than MinValidFraction of the
// learners (pairs, candidates) survive, the iteration fails with a
// *DivergedError naming the seeds, and the optimizer state is left exactly as
// it was. Any other error from the objective cancels the iteration's
// remaining runs and is returned, again with the state unchanged. No NaN or
// Inf ever enters Θ, the Adam moments or the State.
//
// # Determinism and resuming
//
// Runs of an iteration execute on Settings.Workers goroutines, but results
// are combined in learner order, so records and Θ do not depend on the
// scheduling or on Workers. State holds Θ, the Adam moments and step count,
// the PCG state, the CMA-ES state, the budget and the best held-out
// evaluation; it round-trips through JSON bit-exactly. An optimizer restored
// from the State of iteration k continues with exactly the records and Θ an
// uninterrupted run would produce (except Record.WallSeconds), provided the
// objective is a deterministic function of its Request. A cancelled context
// stops an iteration as soon as the running evaluations return (objectives
// should watch ctx) and leaves the state at the last completed iteration.
//
// # Budget
//
// Methods are compared per unit of compute. Every Record and the State count
// learner-runs (Adam: S per iteration, ES: 2·Pairs, CMA-ES: λ·S) and the
// cost units objectives report in Eval.Cost — core/meta reports primal-pass
// equivalents, so that an exact gradient (≈ 1+P), a projection:Ω estimate
// (≈ 1+Ω) and an ES run (1) are on one scale. Held-out evaluations are
// counted separately, and diverged runs count too.
package metaopt
