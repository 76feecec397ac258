package activities

import (
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
