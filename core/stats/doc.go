// Package stats holds the descriptive statistics the rest of rulescape
// shares, so that each is computed one way everywhere: Quantile (Hyndman &
// Fan type 7, the default of R, NumPy and pandas, so that collaborators
// reproduce the numbers) and FitPCA, the principal component analysis of a
// set of points (an SVD of the centred data, axes signed canonically).
//
// It imports gonum and the standard library only. Where gonum has the same
// statistic with the same definition (stat.Mean, stat.Correlation,
// mds.TorgersonScaling) callers use gonum directly; gonum's stat.Quantile
// has no type-7 definition (its LinInterp is type 4), hence Quantile here.
package stats
