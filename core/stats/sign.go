package stats

// Sign returns −1, 0 or +1 as x is negative, zero (or NaN) or positive:
// the sign of a residual in an absolute loss's derivative, of a pair's
// order in Kendall's τ.
func Sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
