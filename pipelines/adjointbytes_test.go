package pipelines

import (
	"strings"
	"testing"

	"rulescape/store"
)

// TestMetaoptAdjointEstimator checks that a campaign accepts the adjoint
// estimator, plans it with its own content key (the exact estimator's key
// is unchanged) and estimates its memory with AdjointBytes.
func TestMetaoptAdjointEstimator(t *testing.T) {
	const campaign = "name: t\ntasks:\n  - name: dnms\nrules:\n  - name: d\n    from: metaopt\n    metaopt: {estimator: %s, iters: 2, trials: 10}\nseeds: 1\n"
	keys := map[string]string{}
	for _, est := range []string{"exact", "adjoint", "ADJOINT"} {
		c, err := Parse("t.yaml", []byte(strings.Replace(campaign, "%s", est, 1)))
		if err != nil {
			t.Fatalf("estimator %s: %v", est, err)
		}
		p, err := c.Plan()
		if err != nil {
			t.Fatalf("estimator %s: %v", est, err)
		}
		j := p.Metaopt[0]
		if want := strings.ToLower(est); j.Settings.Estimator != want {
			t.Errorf("estimator %s: planned as %q, want %q", est, j.Settings.Estimator, want)
		}
		k, err := store.ContentKey(j.Key(), nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		keys[est] = k
	}
	if keys["exact"] == keys["adjoint"] || keys["adjoint"] != keys["ADJOINT"] {
		t.Errorf("content keys: exact %s, adjoint %s, ADJOINT %s: want adjoint ≠ exact and the case ignored", keys["exact"], keys["adjoint"], keys["ADJOINT"])
	}

	s := Shape{N: 100, M: 3, O: 1, T: 50, Conditions: 4, K: 2, L: 2}
	learner := 8 * (8*100*100 + 3*100*(3+1+1) + 50*(3+2+1) + 51*100*(7+4))
	got := AdjointBytes(s, 300)
	want := int64(learner + 48*300 + 8*(300*100*100*65/64+max(300*100*100, 1<<21)) + 8*6*100*100 + 8*(4*2+7)*51*100)
	if got.Bytes != want || got.Key != "trials" {
		t.Errorf("AdjointBytes = %d (key %s), want %d (key trials)", got.Bytes, got.Key, want)
	}
	spec := DefaultMetaopt()
	spec.Estimator = "adjoint"
	if m := MetaoptBytes(s, &spec, 2); m.Bytes != 2*AdjointBytes(s, spec.Trials).Bytes || !strings.Contains(m.Formula, "adjoint") {
		t.Errorf("MetaoptBytes(adjoint) = %d (%s), want two adjoint learners, %d", m.Bytes, m.Formula, 2*AdjointBytes(s, spec.Trials).Bytes)
	}
	if err := spec.Validate(func(k string) string { return k }); err != nil {
		t.Errorf("Validate(adjoint): %v", err)
	}
}
