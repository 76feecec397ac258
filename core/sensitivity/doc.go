// Package sensitivity measures how a trained network's behaviour depends on
// its recurrent weights: the behavioural sensitivity G_S(W) = ∂S/∂W of a
// score S on a frozen evaluation batch, its singular spectrum, its alignment
// with the weight change that learning produced, and how the network's
// condition-dependent trajectories move under a small weight perturbation
// along its top singular direction compared with a random one of the same
// norm (model specification §6).
//
// # The score
//
// A Batch is a list of trials (inputs u, targets y*, mask m) with their
// initial states x⁰ and exploration perturbations ξ, all fixed: evaluating it
// twice gives the same numbers, and nothing is learned while evaluating. For
// one trial h the network runs the dynamics of package rnn (docs/MODEL.md §1),
//
//	r^t     = φ(x^t),   φ = tanh
//	x^{t+1} = x^t + α(−x^t + W r^t + W_in u^t + b + ξ^t);  x_i^{t+1} = c_i for clamped i
//	y^t     = W_out r^t                                       (t = 1…T)
//
// and the trial error is that of plasticity.TrialError,
//
//	E^h = Σ_t m^t ℓ(y^t − y*^t) / Σ_t m^t,   ℓ = Σ_o |·| (abs) or Σ_o (·)² (mse).
//
// The score is the mean reward of the batch, S(W) = −(1/|B|) Σ_h E^h, so the
// sensitivity G = ∂S/∂W points to where behaviour improves.
//
// # The adjoint (Gradient)
//
// Write P for the projection that zeroes the clamped coordinates. Since the
// clamps overwrite x_i^{t+1}, ∂x^{t+1}/∂x^t = P((1−α)I + αW diag φ'(x^t)) and
// ∂x^{t+1}/∂W_ij = α P_ii r^t_j. Backpropagation through time then gives,
// for each trial, with a^t = dE/dx^t and λ^t = P a^t,
//
//	a^T     = φ'(x^T) ∘ W_outᵀ g^T
//	a^{t−1} = φ'(x^{t−1}) ∘ W_outᵀ g^{t−1} + (1−α) λ^t + α φ'(x^{t−1}) ∘ Wᵀλ^t     (t = T…2)
//	g^t_o   = m^t ℓ'(y^t_o − y*^t_o) / Σ_s m^s,   ℓ'(d) = 2d (mse) or sign(d) (abs)
//	dE/dW   = α Σ_{t=0}^{T−1} λ^{t+1} (r^t)ᵀ
//
// with φ' = 1 − r² and g^0 = 0 (the output starts at y¹). Clamped units have
// λ_i = 0: their state is reset every step, so nothing flows back through
// them and the rows of G of clamped units are exactly zero. For the abs loss
// ℓ is not differentiable where an output equals its target; there sign(0) =
// 0 is used, the subgradient of minimum norm (for generic outputs this set
// has measure zero, and a finite difference across it is meaningless).
//
// One trial costs one forward pass (T mat-vecs W r), one backward pass (T
// mat-vecs Wᵀλ) and a single product of the N×T matrix of λ's with the N×T
// matrix of rates, Σ_t λ^{t+1}(r^t)ᵀ, instead of T rank-one updates. Trials
// run in parallel; their gradients are summed in trial order, so the result
// is the same whatever the number of goroutines. The tests hold the adjoint to
// central finite differences of S over all N² entries (relative error
// ‖g − g_fd‖/max(‖g‖, ‖g_fd‖) ≤ 10⁻⁶; in practice ~10⁻¹⁰).
//
// # Spectrum and alignment
//
// Spectrum factorizes G = Σ_k σ_k u_k v_kᵀ. The right singular vector v₁ is
// the pattern of pre-synaptic rates whose weights behaviour depends on most,
// u₁ the post-synaptic units through which it acts; σ₁ is the rate at which S
// changes along the unit-norm direction u₁v₁ᵀ, the steepest rank-one move.
//
// Alignment(G, ΔW) is the cosine ⟨G, ΔW⟩_F / (‖G‖_F‖ΔW‖_F): for the weight
// change ΔW = W_final − W_initial that a plasticity rule produced, it says how
// much of the change went up the behavioural gradient at W (1: pure gradient
// ascent, 0: invisible to S to first order). SVD.TopFraction(ΔW, k) is the
// fraction ‖U_kᵀ ΔW V_k‖²_F / ‖ΔW‖²_F of the change that lies in the top-k
// left and right singular subspaces of G (k²/N² on average for a random
// change), a sign-blind measure of whether learning acted on the directions
// behaviour is sensitive to.
//
// # Perturbations
//
// PerturbationEffect compares W + ε D/‖D‖_F (e.g. D = u₁v₁ᵀ) with W + ε R/‖R‖_F
// for a Gaussian R (seeded) on the rows of the free units: for each it reports
// ΔS = S(W + εD) − S(W) (≈ εσ₁ along u₁v₁ᵀ) and the mean squared distance
// between the perturbed and unperturbed condition-averaged rate trajectories
// r̄^t_c (t = 1…T), absolute and relative to the mean squared rate.
//
// # Probe size
//
// The probes are meant to be small: first-order probes of the landscape at
// W, whose ΔS along u₁v₁ᵀ is εσ₁ and whose trajectory shifts scale with ε.
// How small that is was measured on go/no-go networks trained with Miconi's
// rule until they met the learning criterion, with the ratio
// ΔS/(εσ₁) of the measured change to its first-order value (1 in the linear
// regime) at ε = scale·‖W‖_F:
//
//	scale    N=30 (mse, 3 seeds)   N=200 (abs, 2 seeds)
//	10⁻²     −0.50 … −0.12         −0.69, −0.15
//	10⁻³      0.856 … 0.903        −1.04, −0.96
//	10⁻⁴      0.986 … 0.991         0.69,  0.75
//	10⁻⁵      0.9986 … 0.9990       0.979, 0.996
//	10⁻⁶      0.9999                0.995, 1.001
//
// (N=30: the quickstart campaign's networks, 600 trials; N=200: the
// miconi2017 preset, 1000 trials.) A trained network sits near a maximum
// of S, so the second-order term takes over quickly, and under the abs loss
// S has kinks where an output crosses its target. The RMS trajectory shift
// per unit ε is within 0.3% of its limit from 10⁻⁵ down on all of them; at
// 10⁻² it is off by 1–5% (N=30) and 57–70% (N=200). DefaultScale is
// therefore 10⁻⁶; at that size ΔS is still ~10⁻⁶–10⁻⁴, far above the
// rounding of S (~10⁻¹⁵).
// TestDefaultScaleLinear holds ΔS at the default to εσ₁ within 1% on a
// trained network on which the former default 10⁻² is off by more than 50%.
package sensitivity
