// Package plasticity implements the three-factor rule space of the model
// specification (docs/MODEL.md §2–3) and the trial-to-trial learner.
//
// Within a trial, the post-synaptic fluctuation Δ^t = x̄^t − x^{t+1} (x̄ a
// low-pass filter of x with coefficient α_x) and the pre-synaptic rate r^t feed
// the Hebbian term
//
//	H^t = Σ_{k=0..K} Σ_{l=0..L} θ_kl (Δ^t)^{∘l} ⊗ (r^t)^{∘k}      (row = post, column = pre)
//
// accumulated into the eligibility e^{t+1} = λ_e e^t + dt g^t H^t. At the end of
// trial h the reward R^h = −E^h, compared with a per-condition running baseline,
// gates the weight change ΔW = clip(η G A e^T) ∘ Mask.
//
// A Rule is a point Θ = (θ_kl) of this space; named rules (Miconi 2017,
// node-perturbation, …) are points. Because W is constant within a trial, e^T is
// computed as one matrix product over the whole trial instead of T rank-one
// updates (Eligibility), which is what makes training fast.
package plasticity
