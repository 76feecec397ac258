// Package rsa compares the representations of trained networks
// (representational similarity analysis; model specification §6).
//
// # Responses
//
// A network's representation is its condition-averaged, time-binned activity:
// ConditionAverage takes single-trial state histories (T × N each, e.g. an
// rnn.Trace's rates tr.R[tr.N:]) with condition labels, averages the trials
// of each condition, and averages time in bins of b steps. The result,
// Responses, is a matrix with one row per (condition, bin) "stimulus" and one
// column per unit.
//
// # Dissimilarity matrices
//
// RDM returns the condensed upper triangle of the stimulus × stimulus
// dissimilarity matrix (pairs (0,1), (0,2), …, (1,2), …; see PairIndex,
// Square) under
//
//	Correlation          d(a, b) = 1 − r(a, b),   r the Pearson correlation across units
//	SqEuclideanPerUnit   d(a, b) = ‖a − b‖² / N
//
// With repeated trials, CrossnobisRDM gives the cross-validated Mahalanobis
// distance from K folds averaged over disjoint trials
// (ConditionAverageFolds),
//
//	d(i, j) = 1/(K(K−1)) Σ_{k≠l} (a_i^k − a_j^k)ᵀ P (a_i^l − a_j^l) / N,
//
// unbiased for (μ_i − μ_j)ᵀ P (μ_i − μ_j)/N because the noise of different
// folds is independent (the plain squared distance is inflated by the noise
// variance). P is the identity (cross-validated squared Euclidean) or the
// inverse of the shrunk residual covariance of NoisePrecision,
// Σ = (1 − λ)Σ̂ + λ (tr Σ̂/N) I with the shrinkage λ set by the caller.
//
// # Comparing RDMs
//
// Compare relates two RDMs over the same stimuli: Spearman's ρ (Pearson
// correlation of ranks, ties sharing their average rank), Kendall's τ_a =
// (C − D)/(n(n−1)/2) with tied pairs counting 0 (so tied RDMs, such as
// categorical model RDMs, cannot reach 1, as Nili et al. 2014 recommend for
// comparing against models with ties), Pearson's r and the cosine.
//
// # Comparing response matrices directly
//
// For X (samples × p) and Y (samples × q) over the same stimuli, with column
// means removed (X_c, Y_c) and K = X_c X_cᵀ, L = Y_c Y_cᵀ:
//
//	LinearCKA           ⟨K, L⟩_F / (‖K‖_F ‖L‖_F) = ‖Y_cᵀX_c‖²_F / (‖X_cᵀX_c‖_F ‖Y_cᵀY_c‖_F)
//	ProcrustesNuclear   ν = ‖X̃ᵀỸ‖_*,  X̃ = X_c/‖X_c‖_F, Ỹ = Y_c/‖Y_c‖_F
//	ProcrustesDistance  min over orthogonal Q of ‖X̃Q − Ỹ‖_F = sqrt(2 − 2ν)
//	ProcrustesAngle     arccos ν
//
// (Kornblith et al. 2019; Williams et al. 2021). Both are invariant to
// translation, rotation, reflection and isotropic scaling of either matrix,
// and allow p ≠ q (the smaller side is implicitly zero-padded). Everything is
// computed in sample space, so the cost is O(samples²·(p + q) + samples³)
// however many units the networks have.
//
// # Populations of networks
//
// SimilarityMatrix evaluates any pairwise measure over a set of networks in
// parallel (deterministically). CompareAll, LinearCKAAll and ProcrustesAll
// do the same for the measures above, preparing each network once (ranks,
// sign vectors, normalised Gram matrices, sample-space factors): for 100
// networks of 16 stimuli × 200 units, the Spearman and CKA matrices take a
// few milliseconds (BenchmarkPopulation100). ClassicalMDS embeds a distance matrix by
// double centering, B = −½ J D⁽²⁾ J, and the top eigenvectors scaled by the
// square roots of their eigenvalues, truncating and reporting negative
// eigenvalues; PermutationTest asks whether networks trained with the same
// rule are more similar to each other than to the others: the statistic is
// mean within-label minus mean between-label similarity, and the one-sided
// p-value is (#{shuffles with statistic ≥ observed} + 1)/(shuffles + 1).
// StratifiedPermutationTest is the version for networks that come in seed
// blocks: networks of different rules trained from one seed share W⁰ and
// their trial draws, so they are more alike than networks of different
// seeds. It compares within- and between-rule similarity over pairs of
// different seeds only, shuffles the rule labels within each seed, and
// reports the mean same-seed between-rule similarity separately (the W⁰
// effect).
package rsa
