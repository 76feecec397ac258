package pipelines

import (
	"math"
	"strings"
	"testing"
)

// TestStageValidate checks that the defaults pass Validate and that each
// setting a campaign file may not take fails it with a *SettingError
// naming the setting.
func TestStageValidate(t *testing.T) {
	d := DefaultStages()
	for _, v := range []interface{ Validate() error }{d.FixedPoints, d.Sensitivity, d.RSA, d.Landscape, d.DSA} {
		if err := v.Validate(); err != nil {
			t.Errorf("default %T: %v", v, err)
		}
	}
	fp, sens, rsa, land, ds := d.FixedPoints, d.Sensitivity, d.RSA, d.Landscape, d.DSA
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() FixedPointsStage { s := fp; s.Inits = 0; return s }().Validate(), "inits = 0: want at least 1"},
		{func() FixedPointsStage { s := fp; s.MaxIters = -1; return s }().Validate(), "max_iters = -1"},
		{func() FixedPointsStage { s := fp; s.Tol = math.NaN(); return s }().Validate(), "tol = NaN"},
		{func() SensitivityStage { s := sens; s.Perturbations = 0; return s }().Validate(), "perturbations = 0"},
		{func() SensitivityStage { s := sens; s.Scale = math.Inf(1); return s }().Validate(), "scale = +Inf: want a positive relative size, e.g. 1e-06"},
		{func() RSAStage { s := rsa; s.Metric = "cosine"; return s }().Validate(), `metric = "cosine": want correlation or euclidean`},
		{func() RSAStage { s := rsa; s.Permutations = -1; return s }().Validate(), "permutations = -1: want 0 (no test) or more"},
		{func() LandscapeStage { s := land; s.PCs = 0; return s }().Validate(), "pcs = 0: want at least 1 principal axis (the campaign default is 3)"},
		{func() LandscapeStage { s := land; s.ConnectSteps = 0; return s }().Validate(), "connect_steps = 0"},
		{func() LandscapeStage { s := land; s.Permutations = -2; return s }().Validate(), "permutations = -2"},
		{func() DSAStage { s := ds; s.Delays = 0; return s }().Validate(), "n_delays = 0: want at least 1 state"},
		{func() DSAStage { s := ds; s.DelayInterval = -1; return s }().Validate(), "delay_interval = -1"},
		{func() DSAStage { s := ds; s.Rank = 0; return s }().Validate(), "rank = 0: want at least 1 dimension"},
		{func() DSAStage { s := ds; s.Restarts = 0; return s }().Validate(), "restarts = 0"},
		{func() DSAStage { s := ds; s.Permutations = -1; return s }().Validate(), "permutations = -1: want 0 (no test) or more"},
	} {
		se, ok := c.err.(*SettingError)
		if !ok || !strings.HasPrefix(c.err.Error(), c.want) || !strings.HasPrefix(c.want, se.Key) {
			t.Errorf("%v, want a *SettingError %q", c.err, c.want)
		}
	}
}
