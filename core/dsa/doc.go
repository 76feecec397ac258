// Package dsa compares the temporal structure of networks' dynamics by
// Dynamical Similarity Analysis (Ostrow, Eisen, Kozachkov & Fiete, NeurIPS
// 2023) and by a cheap spectral distance.
//
// # Operators
//
// Fit turns a network's condition trajectories (T states of N units per
// condition, e.g. its condition-averaged rates) into a linear operator. With
// d = Settings.Delays and τ = Settings.Interval, each time t ≥ (d−1)τ of a
// condition gives a delay vector
//
//	h_t = [x_t; x_{t−τ}; …; x_{t−(d−1)τ}]   (dimension D = d·N),
//
// the rows of a Hankel matrix H stacked condition after condition. H's
// column means (the mean delay vector) are removed, so the operator does not
// depend on where the states sit, and its thin SVD H = UΣVᵀ gives the
// principal coordinates z_t = V_rᵀ h_t on the top r = Settings.Rank right
// singular vectors (the eigen-time-delay coordinates of HAVOK, scaled by
// their singular values). The operator A (r × r) is the least-squares fit
// of one step, z_{t+1} ≈ A z_t + b, over every pair of consecutive delay
// vectors of one condition (pairs never straddle two conditions) — the
// reduced DMD operator, with an offset b so that a linear system
// x_{t+1} = M x_t, whose centred states follow an affine map, is recovered
// exactly. Directions whose singular value is below 1e-10 of the largest
// carry no variance and are dropped (the trajectories span fewer than r
// dimensions); A is then zero-padded to r × r, so every
// operator of one Settings has r eigenvalues, the padding contributing
// zeros. Rotating, reflecting, translating or scaling every state of a
// network (x ↦ sQx + c, Q orthogonal) leaves A unchanged up to an
// orthogonal change of coordinates — the invariance DSA asks for.
//
// # DSA distance
//
// Two operators A and B are compared up to an orthogonal change of
// coordinates, the Procrustes problem over vector fields:
//
//	f* = max over C ∈ O(r) of ⟨A, C B Cᵀ⟩_F,
//	angular distance   θ = arccos(f* / (‖A‖_F ‖B‖_F)) ∈ [0, π],
//	Frobenius distance ‖A − C* B C*ᵀ‖_F = sqrt(‖A‖² + ‖B‖² − 2 f*).
//
// Because ‖C B Cᵀ‖_F = ‖B‖_F, minimising the Frobenius distance and the
// angle is the same problem. The angular distance, which the paper reports,
// ignores the overall scale of the operators; the Frobenius distance does
// not.
//
// The problem is not convex, and O(r) has two components (det ±1). The
// paper optimises over a Cayley/exponential parametrisation by gradient
// descent; Distance does the same deterministically: Riemannian gradient
// ascent on O(r) from several starts, keeping the best. The starts are the
// identity, a reflection diag(−1, 1, …, 1), three alignments C = E_A D E_Bᵀ
// taking the eigenvectors of a symmetric matrix made from B (its symmetric
// part, B Bᵀ, Bᵀ B) to those of the same matrix made from A (matched by
// eigenvalue order, the signs D flipped greedily while f increases), and
// Optimizer.Restarts − 5 Haar-random orthogonal matrices from a PCG
// generator seeded by Optimizer.Seed. Each step moves C along the
// left-trivialised Riemannian gradient Ω = CᵀG − GᵀC (G = A C Bᵀ + Aᵀ C B,
// the Euclidean gradient of ⟨A, C B Cᵀ⟩) by the Cayley transform
// C ← C (I − ηΩ/2)⁻¹(I + ηΩ/2), which stays exactly orthogonal. The step η
// is the Barzilai–Borwein step (alternating the two formulas), halved until
// f increases, so f never decreases; a start stops after
// Optimizer.Iterations steps, when ‖Ω‖_F ≤ 1e-8·‖A‖‖B‖ (f is then
// stationary to ~1e-16 relative), or when η underflows. The result is the
// same on every run (no goroutines inside one comparison).
//
// Like the paper's, the search is local: the distance returned is an upper
// bound on the true minimum, certified by the C it returns
// (Comparison.C). On random 10 × 10 matrices — a harder landscape than
// fitted operators — 10–20 % of random starts reach the best of 200, so the
// 16 default starts rarely miss it, and then by a few percent of f; the
// alignment starts find the exact coordinate change between a system and a
// rotated copy. Tests compare Distance with a brute-force search over fine
// grids of O(2) and O(3). At rank 10 a pair takes tens of milliseconds
// (BenchmarkDSAPair).
//
// # Spectral distance
//
// Spectral is a cheap comparison for all pairs: the 1-Wasserstein distance
// between the operators' eigenvalue sets as uniform measures on ℂ,
//
//	W₁ = min over permutations π of (1/r) Σ_i |λ_i − μ_π(i)|,
//
// solved exactly by the Hungarian algorithm (for two uniform measures with
// the same number of atoms an optimal transport plan is a permutation, by
// Birkhoff's theorem). It is a metric on eigenvalue multisets: symmetric,
// zero exactly for equal spectra, and it obeys the triangle inequality.
// Eigenvalues are invariant under any invertible change of coordinates, so
// the spectral distance ignores non-normal structure that DSA sees; it costs
// O(r³) per pair against DSA's iterative optimisation.
//
// # Populations
//
// DistanceAll and SpectralAll evaluate every pair of a set of operators on
// a pool of goroutines; the results do not depend on the number of workers.
package dsa
