package pipelines

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSetupLayers(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("n: 50\neta: 0.2\ntheta: [[0, 0], [0, -1]]\nseeds: 1-4\nworkers: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	flags, _ := Preset(PresetDefault)
	flags.Eta, flags.Rule = 0.3, "node-perturbation"
	extra := struct {
		Seeds   string `yaml:"seeds"`
		Workers int    `yaml:"workers"`
	}{"1", 2}
	r, err := SetupLayers{File: file, Flags: &flags, Set: map[string]bool{"eta": true, "workers": true}, Extra: &extra}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	if r.N != 50 || r.Eta != 0.3 || r.G != 1.5 || r.Rule != "" || r.Theta == nil || extra.Seeds != "1-4" || extra.Workers != 2 {
		t.Errorf("n %d eta %v g %v rule %q theta %v, extra %+v", r.N, r.Eta, r.G, r.Rule, r.Theta, extra)
	}
	for key, want := range map[string]string{"eta": "--eta", "n": file + ":1: n", "g": "g (preset default)"} {
		if got := r.Ref(key); got != want {
			t.Errorf("Ref(%s) = %q, want %q", key, got, want)
		}
	}
	if b, err := r.Build(); err != nil || b.RuleName != "custom" || b.Setup.Rule.K != 1 {
		t.Errorf("build: %v, %v", b, err)
	}
}
