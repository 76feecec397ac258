package metaopt

import (
	"strings"
	"testing"
)

// TestParseEstimatorAdjoint checks the adjoint estimator: parsed in any
// case, canonical form "adjoint", a gradient estimator run with Adam, no
// argument, and listed in the message for an unknown estimator.
func TestParseEstimatorAdjoint(t *testing.T) {
	for _, s := range []string{"adjoint", " Adjoint ", "ADJOINT"} {
		e, err := ParseEstimator(s)
		if err != nil {
			t.Fatalf("ParseEstimator(%q): %v", s, err)
		}
		if e.Kind != EstimatorAdjoint || e.String() != "adjoint" || e.Method() != MethodAdam || !e.NeedsGradient() || e.Directions != 0 {
			t.Errorf("ParseEstimator(%q) = %+v (%s, %s, gradient %v)", s, e, e, e.Method(), e.NeedsGradient())
		}
		b, err := e.MarshalText()
		var back Estimator
		if err != nil || back.UnmarshalText(b) != nil || back != e {
			t.Errorf("%q: text round trip gives %+v (%v)", s, back, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"adjoint:3", "adjoint takes no argument"},
		{"reverse", "want exact, adjoint, projection:Ω"},
	} {
		if _, err := ParseEstimator(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEstimator(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}
