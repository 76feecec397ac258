// Package landscape describes the dynamical landscape of a trained rate
// network (model specification §6): for each constant input, how many fixed
// points it has by index, where they lie relative to the network's
// trajectories, and which attractors its index-1 saddles connect; and it
// compares the topology of two networks' landscapes.
//
// # Inputs
//
// The fixed points come from package fixedpoints (or any search giving the
// same numbers): per named constant input ū, each point's location x (N
// values, clamped units at their values), its index (the number of
// eigenvalues of the Jacobian with positive real part) and whether it is a
// slow point. The trajectories are network states x^t sampled from trials of
// the task (rows of N values).
//
// # Counts by index
//
// For each input, Counts[k] is the number of fixed points (not slow points)
// of index k; Counts[0] is the number of attractors (stable fixed points).
//
// # Geometry
//
// PCA (stats.FitPCA) centres the trajectory states and takes the top principal axes of
// their covariance (by a singular value decomposition of the centred
// states); Explained is the fraction of the total variance along each. Every
// point, fixed or slow, is projected on them: c_k = (x − mean)·v_k. Each
// axis is signed so that its entry of largest magnitude is positive, so the
// coordinates are reproducible.
//
// # The saddle → attractor graph
//
// The unstable manifold of an index-1 saddle x* is one-dimensional; its two
// branches leave x* along ±v, v the eigenvector of the Jacobian
// J = −I + W_ff diag(φ'(x*)) (free coordinates) for its one positive
// eigenvalue. Connect starts at x* ± δ·v and integrates the autonomous flow
// dx/dt = F(x) = −x + Wφ(x) + W_in ū + b (clamps held) by forward Euler
// with step Settings.Step (in units of τ) for at most Settings.Steps steps,
// stopping early once ½‖F‖² falls below Settings.SettleQ. The end point is
// matched to the nearest stable fixed point of the same input within
// Settings.MatchTol (Euclidean distance); a branch that ends elsewhere (a
// stable point the search missed, a limit cycle, a very slow region, or
// escape) is recorded as None (−1). Only index-1 fixed points are followed;
// higher-index saddles have manifolds of dimension ≥ 2 and are not
// summarized by a pair of end points.
//
// # Topology distance
//
// The topology of one input's landscape is summarized by three invariants
// of the graph whose nodes are the fixed points and whose edges join each
// index-1 saddle to the attractors its branches reach (Signature):
//
//	Counts            fixed points by index
//	SaddleDegrees     index-1 saddles by the number of distinct attractors they reach (0, 1 or 2)
//	AttractorDegrees  for each attractor, the number of index-1 saddles reaching it, sorted descending
//
// Distance between two networks is the mean, over the inputs both have (by
// name), of the L1 distances between these vectors (zero-padded to equal
// length): Index = Σ_k |Counts_a[k] − Counts_b[k]|, Graph = Σ_d
// |SaddleDegrees_a[d] − SaddleDegrees_b[d]| + Σ_i |AttractorDegrees_a[i] −
// AttractorDegrees_b[i]|, Total = Index + Graph. It is a pseudometric (a sum
// of L1 distances between feature vectors): symmetric, obeys the triangle
// inequality, and is zero for any two landscapes whose graphs are
// isomorphic with the same indices — in particular for a network and a copy
// with its units relabelled, or any copy with the same fixed-point
// structure in a different place ("different geometry, same landscape").
// It ignores geometry on purpose: PCA coordinates carry that. Its unit is
// "fixed points" (or "graph incidences") per input, so values are
// comparable across networks of one task.
package landscape
