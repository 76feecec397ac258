// Package atlas groups networks into solution families from distances
// between them (docs/ANALYSIS.md, "Solution-family atlas").
//
// The input is a symmetric n×n matrix of distances between n networks —
// typically CombineDistances of several measures (dynamical similarity,
// spectral distance, fixed-point topology), each divided by its median so
// that none dominates by its units. Cluster builds the average-linkage
// (UPGMA) dendrogram with the nearest-neighbour-chain algorithm (O(n²)
// time and memory), cuts it into the number of families with the largest
// mean silhouette (or one family when no cut reaches MinSilhouette, the
// "no substantial structure" level of Kaufman and Rousseeuw), and checks
// each family's stability by resampling (Hennig's clusterboot: the mean,
// over subsamples clustered afresh, of the best Jaccard similarity of the
// family's members to a cluster of the subsample). Each family's medoid is
// its prototype. Association measures, with a permutation test stratified
// by seed, how strongly the rule a network was trained with predicts its
// family.
//
// Every random draw comes from the seed in Settings; the same input and
// seed give bit-identical results.
package atlas
