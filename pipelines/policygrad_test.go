package pipelines

import (
	"errors"
	"strings"
	"testing"
)

// TestParsePolicyGradientNoise: a metaopt job with estimator
// policy-gradient is refused at parse time, with one line naming the
// perturbation setting at fault, unless its exploration noise is Gaussian
// from step 0; with such noise it parses, and the estimator is kept.
func TestParsePolicyGradientNoise(t *testing.T) {
	job := strings.Replace(base, "name: miconi", "name: d\n    from: metaopt\n    metaopt: {estimator: policy-gradient, trials: 5, iters: 2}", 1)
	for _, c := range []struct {
		name, defaults string
		key, msg       string // "" = accepted
	}{
		{"preset decoupled kicks", "", "perturb", "perturb (preset default) = decoupled has no likelihood-ratio score"},
		{"gaussian from step 4", "defaults: {perturb: gaussian, perturb_sigma: 0.5, perturb_start: 4}\n", "perturb_start", "defaults.perturb_start = 4 leaves the first steps without noise"},
		{"zero sigma", "defaults: {perturb: gaussian, perturb_sigma: 0, perturb_start: 0}\n", "perturb_sigma", "defaults.perturb_sigma = 0 gives no noise"},
		{"gaussian from step 0", "defaults: {perturb: gaussian, perturb_sigma: 0.5, perturb_start: 0}\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			camp, err := Parse("c.yaml", []byte(job+c.defaults))
			if c.key == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := camp.Rules[0].Metaopt.Estimator; got != "policy-gradient" {
					t.Fatalf("estimator %q", got)
				}
				return
			}
			var param *ParamError
			if !errors.As(err, &param) || param.Key != c.key {
				t.Fatalf("error %v, want a ParamError on %s", err, c.key)
			}
			if msg := err.Error(); !strings.Contains(msg, c.msg) || !strings.Contains(msg, "perturb gaussian") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q, want one line containing %q and the fix", msg, c.msg)
			}
		})
	}
}
