package rsa

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"

	"rulescape/core/stats"
)

// Method selects how Compare relates two RDMs.
type Method int

const (
	// Spearman is the Pearson correlation of the ranks, ties given their
	// average rank.
	Spearman Method = iota
	// KendallTauA is (C − D)/(n(n−1)/2) over all pairs of entries, C and D the
	// concordant and discordant pairs; a pair tied in either RDM counts as 0.
	KendallTauA
	// Pearson is the Pearson correlation of the entries.
	Pearson
	// Cosine is ⟨a, b⟩/(‖a‖‖b‖), without centering.
	Cosine
)

// String returns the method's name.
func (m Method) String() string {
	switch m {
	case Spearman:
		return "spearman"
	case KendallTauA:
		return "kendall-tau-a"
	case Pearson:
		return "pearson"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Method(%d)", int(m))
}

// Compare returns the similarity of two condensed RDMs over the same
// stimuli under method m. It returns an error, not NaN, when the measure is
// undefined (an RDM with no variance, or all zero for Cosine).
func Compare(a, b []float64, m Method) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("rsa: RDMs have %d and %d entries: compare RDMs over the same stimuli", len(a), len(b))
	}
	if len(a) < 2 {
		return 0, fmt.Errorf("rsa: RDMs have %d entries: comparison needs at least 2 (3 stimuli)", len(a))
	}
	var r float64
	switch m {
	case Spearman:
		r = stat.Correlation(Ranks(a), Ranks(b), nil)
	case KendallTauA:
		return kendallTauA(a, b), nil
	case Pearson:
		r = stat.Correlation(a, b, nil)
	case Cosine:
		var ab, aa, bb float64
		for i := range a {
			ab += a[i] * b[i]
			aa += a[i] * a[i]
			bb += b[i] * b[i]
		}
		r = ab / math.Sqrt(aa*bb)
	default:
		return 0, fmt.Errorf("rsa: unknown comparison method %v: use Spearman, KendallTauA, Pearson or Cosine", m)
	}
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return 0, fmt.Errorf("rsa: %v similarity is undefined for these RDMs (one has no variance or is zero)", m)
	}
	return r, nil
}

// Ranks returns the ranks 1…n of x, tied values sharing their average rank.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		switch {
		case x[i] < x[j]:
			return -1
		case x[i] > x[j]:
			return 1
		}
		return 0
	})
	r := make([]float64, len(x))
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && x[idx[hi]] == x[idx[lo]] {
			hi++
		}
		avg := float64(lo+hi+1) / 2 // mean of ranks lo+1 … hi
		for _, k := range idx[lo:hi] {
			r[k] = avg
		}
		lo = hi
	}
	return r
}

// kendallTauA counts concordant minus discordant pairs directly, O(n²).
// gonum's stat.Kendall is not the same statistic: it counts a pair tied in
// either RDM as concordant or discordant by the sign bit of the zero
// difference, where τ_a counts it as 0 — and RDMs do have ties.
func kendallTauA(a, b []float64) float64 {
	n := len(a)
	s := 0
	for i := range n {
		ai, bi := a[i], b[i]
		for j := i + 1; j < n; j++ {
			s += int(stats.Sign(a[j]-ai) * stats.Sign(b[j]-bi))
		}
	}
	return float64(s) / float64(n*(n-1)/2)
}
