package activities

import (
	"math"
	"testing"

	"rulescape/core/train"
)

func runDirect(t *testing.T, s *train.Setup, seed uint64) *train.Result {
	t.Helper()
	res, err := train.Run(t.Context(), s, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// frobenius is the Frobenius norm of a, written out.
func frobenius(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}
