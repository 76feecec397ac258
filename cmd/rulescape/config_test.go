package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"rulescape/pipelines"
)

// TestPresetMiconi2017 checks the preset against Miconi's (2017) values,
// written out here independently of core/train.
func TestPresetMiconi2017(t *testing.T) {
	want := pipelines.Params{
		Preset: "miconi2017", Task: "dnms",
		N: 200, G: 1.5, Density: 0, InScale: 1, Readout: "units", Clamps: pipelines.FloatList{1, 1, -1},
		Dt: 1, Tau: 30,
		Perturb: "decoupled", PerturbProb: 0.003, PerturbAmp: 16, PerturbStart: 4, X0Range: 0.1,
		K: 3, L: 3, Rule: "miconi",
		Eta: 0.1, Gain: "baseline", Clip: 3e-4, Warmup: 100, AlphaR: 0.75, Loss: "abs",
		AlphaX: 0.05, GateStart: 3, MaxWeight: 1000,
		CriterionThreshold: 0.5, CriterionWindow: 100, CriterionFraction: 0.95,
		Trials: 3000,
	}
	got, err := pipelines.Preset("miconi2017")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("miconi2017 =\n%+v\nwant\n%+v", got, want)
	}
	def, _ := pipelines.Preset("default")
	def.Preset = "miconi2017"
	if !reflect.DeepEqual(def, want) {
		t.Errorf("default differs from miconi2017:\n%+v", def)
	}
	b, err := got.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Setup.Rule.At(3, 3) != -1 || b.RuleName != "miconi" {
		t.Errorf("built rule %v (%s)", b.Setup.Rule, b.RuleName)
	}
	// train's own keys: one seed on all cores.
	_, tf := newTrainCommand(&app{})
	if tf.run != (runParams{Seeds: "1"}) {
		t.Errorf("train's seeds and workers %+v, want seed 1 on all cores", tf.run)
	}
}

// resolveWith layers a config file (if content ≠ "") and command-line args.
func resolveWith(t *testing.T, config string, args ...string) (*pipelines.ResolvedSetup, error) {
	t.Helper()
	cmd, tf := newTrainCommand(&app{})
	if config != "" {
		args = append(args, "--config", writeFile(t, "c.yaml", config))
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return tf.resolve(cmd.Flags(), &tf.run)
}

func TestPrecedence(t *testing.T) {
	r, err := resolveWith(t, "n: 50\neta: 0.2\ntask_params: {Steps: 500, Response: 100}\n",
		"--eta", "0.3", "--task-params", `{"Response":50}`)
	if err != nil {
		t.Fatal(err)
	}
	if r.G != 1.5 || r.N != 50 || r.Eta != 0.3 {
		t.Errorf("g %v (preset 1.5), n %v (config 50), eta %v (flag 0.3)", r.G, r.N, r.Eta)
	}
	if want := (pipelines.JSONObject{"Steps": 500, "Response": float64(50)}); !reflect.DeepEqual(r.TaskParams, want) {
		t.Errorf("task params %v, want the config's merged with the flag's %v", r.TaskParams, want)
	}
	for key, want := range map[string]string{"g": "g (preset default)", "n": "", "eta": "--eta"} {
		if key == "n" {
			want = r.File + ":1: n"
		}
		if got := r.Ref(key); !strings.HasPrefix(got, want) {
			t.Errorf("ref(%s) = %q, want prefix %q", key, got, want)
		}
	}

	// The preset named in the file applies unless --preset is given.
	r, err = resolveWith(t, "preset: miconi2017\n")
	if err != nil || r.Preset != "miconi2017" {
		t.Errorf("preset from file: %v, %v", r, err)
	}
	r, err = resolveWith(t, "preset: miconi2017\n", "--preset", "default")
	if err != nil || r.Preset != "default" {
		t.Errorf("--preset over file: %v, %v", r, err)
	}
}

func TestRuleThetaLayers(t *testing.T) {
	tests := []struct {
		name     string
		config   string
		args     []string
		wantRule string
		wantK    int
		wantErr  string
	}{
		{"preset rule", "", nil, "miconi", 3, ""},
		{"config theta replaces preset rule, K from its shape", "theta: [[0, 0], [0, -1]]\n", nil, "custom", 1, ""},
		{"flag rule replaces config theta", "theta: [[0, 0], [0, -1]]\n", []string{"--rule", "node-perturbation"}, "node-perturbation", 3, ""},
		{"flag theta replaces config rule", "rule: miconi\nk: 1\nl: 1\n", []string{"--theta", "[[0,0],[0,-1]]"}, "custom", 1, ""},
		{"config K conflicts with flag theta", "k: 2\n", []string{"--theta", "[[0,0],[0,-1]]"}, "", 0, "c.yaml:1: k = 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := resolveWith(t, tc.config, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			b, err := r.Build()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.RuleName != tc.wantRule || b.Setup.Rule.K != tc.wantK {
				t.Errorf("rule %s K=%d, want %s K=%d", b.RuleName, b.Setup.Rule.K, tc.wantRule, tc.wantK)
			}
		})
	}
}

// TestKeysFlagsDocs checks that every parameter has a flag of the same name,
// every flag a parameter, and that docs/CLI.md documents them all.
func TestKeysFlagsDocs(t *testing.T) {
	cmd := newTrainCmd(&app{})
	keys := map[string]bool{}
	for _, k := range append(pipelines.ParamKeys(), "seeds", "workers") {
		keys[k] = true
		if cmd.Flags().Lookup(pipelines.FlagName(k)[2:]) == nil {
			t.Errorf("config key %q has no flag %s", k, pipelines.FlagName(k))
		}
	}
	docs, err := os.ReadFile("../../docs/CLI.md")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		if !keys[keyName(f.Name)] && f.Name != "config" && f.Name != "progress" {
			t.Errorf("flag --%s is not a config key", f.Name)
		}
		if !strings.Contains(string(docs), "--"+f.Name+" ") && !strings.Contains(string(docs), "--"+f.Name+"`") {
			t.Errorf("docs/CLI.md does not document --%s", f.Name)
		}
	})
}
