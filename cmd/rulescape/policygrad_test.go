package main

import (
	"strings"
	"testing"
)

// TestMetaoptPolicyGradient: `rulescape metaopt --estimator policy-gradient`
// moves Θ from a random start with Gaussian exploration from step 0, and
// with Miconi's decoupled kicks (the preset) exits 1 with one line saying
// what to set.
func TestMetaoptPolicyGradient(t *testing.T) {
	code, out, errOut := runCLI(t, metaArgs("--estimator", "policy-gradient", "--iters", "3", "--init", "random",
		"--perturb", "gaussian", "--perturb-sigma", "0.5", "--perturb-start", "0")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	iters, fin := parseMetaLines(t, out)
	if len(iters) != 3 || fin.Iters != 3 {
		t.Fatalf("want 3 iterations, got %d", len(iters))
	}
	for _, it := range iters {
		if !(it.GradNorm > 0) {
			t.Fatalf("iteration %d: gradient norm %v, want > 0", it.Iter, it.GradNorm)
		}
	}

	code, _, errOut = runCLI(t, metaArgs("--estimator", "policy-gradient", "--iters", "1")...)
	msg := strings.TrimSpace(errOut)
	if code != 1 || strings.Contains(msg, "\n") || !strings.Contains(msg, "perturb = decoupled") || !strings.Contains(msg, "perturb_start 0") {
		t.Fatalf("decoupled noise: exit %d, %q; want exit 1 and one line naming the scheme and the fix", code, errOut)
	}
}
