// Package schemastest provides deterministic example rows of every dataset
// kind for tests and benchmarks, and a NaN-aware row comparison.
package schemastest
