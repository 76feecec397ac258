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
	// The atlas's weights are completed by Parse from the campaign's stages.
	at := d.Atlas
	at.Weights = map[string]float64{"spectral": 1, "topology": 1}
	if err := at.Validate(); err != nil {
		t.Errorf("default atlas with weights: %v", err)
	}
	for _, c := range []struct {
		err  error
		want string
	}{
		{func() FixedPointsStage { s := fp; s.Inits = 0; return s }().Validate(), "inits = 0: want at least 1"},
		{func() FixedPointsStage { s := fp; s.MaxIters = -1; return s }().Validate(), "max_iters = -1"},
		{func() FixedPointsStage { s := fp; s.Tol = math.NaN(); return s }().Validate(), "tol = NaN"},
		{func() FixedPointsStage { s := fp; s.Deflation = -1; return s }().Validate(), "deflation = -1: want 0 (off)"},
		{func() FixedPointsStage { s := fp; s.DeflationPower = -2; return s }().Validate(), "deflation_power = -2: want a positive power"},
		{func() FixedPointsStage { s := fp; s.DeflationShift = math.Inf(1); return s }().Validate(), "deflation_shift = +Inf"},
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
		{func() DSAStage { s := ds; s.Distances = []string{"spectral", "cka"}; return s }().Validate(), `distances = "cka": want a list of dsa and spectral`},
		{func() AtlasStage { s := at; s.Weights = map[string]float64{"topology": -1}; return s }().Validate(), "weights.topology = -1: want a finite weight ≥ 0"},
		{func() AtlasStage { s := at; s.Weights = map[string]float64{"dsa": 0, "spectral": 0}; return s }().Validate(), `weights = "all 0": want a positive weight`},
		{func() AtlasStage { s := at; s.Weights = map[string]float64{"cka": 1}; return s }().Validate(), `weights = "cka": want weights of dsa, spectral and topology`},
		{func() AtlasStage { s := at; s.MinFamilies = 1; return s }().Validate(), "min_families = 1: want 2 or more"},
		{func() AtlasStage { s := at; s.MaxFamilies = 1; return s }().Validate(), "max_families = 1: want at least min_families = 2"},
		{func() AtlasStage { s := at; s.MinSilhouette = 2; return s }().Validate(), "min_silhouette = 2"},
		{func() AtlasStage { s := at; s.Resamples = 0; return s }().Validate(), "resamples = 0"},
		{func() AtlasStage { s := at; s.Fraction = 0; return s }().Validate(), "fraction = 0: want a share in (0, 1)"},
		{func() AtlasStage { s := at; s.Permutations = -1; return s }().Validate(), "permutations = -1"},
	} {
		se, ok := c.err.(*SettingError)
		if !ok || !strings.HasPrefix(c.err.Error(), c.want) || !strings.HasPrefix(c.want, se.Key) {
			t.Errorf("%v, want a *SettingError %q", c.err, c.want)
		}
	}
}

// TestDeflationKeys checks that the deflation settings leave a campaign
// without them as it was (its fixedpoints settings JSON, so its ID), that
// a default written out is the same as one left out, and that deflation
// itself is part of the settings.
func TestDeflationKeys(t *testing.T) {
	const base = "name: c\ntasks: [{name: dnms}]\nrules: [{name: miconi}]\nseeds: 1\nstages:\n  fixedpoints: "
	settings := func(fp string) string {
		c, err := Parse("c.yaml", []byte(base+fp+"\n"))
		if err != nil {
			t.Fatalf("%s: %v", fp, err)
		}
		p, err := c.Plan()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Analysis {
			if a.Stage == StageFixedPoints {
				return string(a.Settings)
			}
		}
		t.Fatalf("%s: no fixedpoints unit", fp)
		return ""
	}
	plain := settings("{inits: 8}")
	if p, err := Parse("c.yaml", []byte(strings.Replace(base, "fixedpoints: ", "dsa: {}", 1)+"\n")); err != nil {
		t.Fatal(err)
	} else if pl, err := p.Plan(); err != nil {
		t.Fatal(err)
	} else if got, want := string(pl.Analysis[0].Settings), `{"enabled":true,"n_delays":10,"delay_interval":1,"rank":10,"restarts":16,"permutations":1000}`; got != want {
		t.Errorf("dsa settings %s, want %s (the settings of before distances existed)", got, want)
	}
	if want := `{"enabled":true,"inits":8,"max_iters":2000,"tol":0.000001}`; plain != want {
		t.Errorf("settings without deflation %s, want %s (the settings of before deflation existed)", plain, want)
	}
	for _, fp := range []string{"{inits: 8, deflation: 0}", "{inits: 8, deflation_power: 5, deflation_shift: 2}"} {
		if got := settings(fp); got != plain {
			t.Errorf("%s: settings %s, want %s (deflation off)", fp, got, plain)
		}
	}
	on := settings("{inits: 8, deflation: 4}")
	if on == plain {
		t.Errorf("deflation: 4 does not change the settings")
	}
	if got := settings("{inits: 8, deflation: 4, deflation_power: 3, deflation_shift: 1}"); got != on {
		t.Errorf("defaults written out: %s, want %s", got, on)
	}
	if got := settings("{inits: 8, deflation: 4, deflation_power: 2}"); got == on {
		t.Errorf("deflation_power: 2 does not change the settings")
	}
}
