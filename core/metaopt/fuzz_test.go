package metaopt

import "testing"

// FuzzParseEstimator: ParseEstimator never panics, and whatever it accepts
// prints to a canonical form that parses back to the same value.
func FuzzParseEstimator(f *testing.F) {
	for _, s := range []string{"exact", "projection:4", "fd", "es", "cmaes", "projection:0", "projection:x", "foo", "PROJECTION:+7", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEstimator(s)
		if err != nil {
			return
		}
		back, err := ParseEstimator(e.String())
		if err != nil || back != e {
			t.Errorf("%q parsed to %+v, whose form %q gives %+v, %v", s, e, e.String(), back, err)
		}
		if e.Kind == EstimatorProjection && e.Directions < 1 {
			t.Errorf("%q accepted with %d directions", s, e.Directions)
		}
	})
}
