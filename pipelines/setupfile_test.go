package pipelines

import (
	"errors"
	"strings"
	"testing"
)

func TestParseSetup(t *testing.T) {
	var run struct {
		Seeds string `yaml:"seeds"`
	}
	f, err := ParseSetup("c.yaml", []byte("preset: miconi2017\nn: 50\ntask_params: {Steps: 500}\nseeds: 1-4\n"), &run)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Preset(PresetDefault)
	p.TaskParams = JSONObject{"Response": 10}
	if err := f.Apply(&p); err != nil {
		t.Fatal(err)
	}
	if f.Preset != "miconi2017" || p.N != 50 || p.G != 1.5 || run.Seeds != "1-4" || len(p.TaskParams) != 2 {
		t.Errorf("preset %q, n %d, g %v, seeds %q, task_params %v", f.Preset, p.N, p.G, run.Seeds, p.TaskParams)
	}
	if got := strings.Join(f.Keys, ","); got != "preset,n,task_params,seeds" {
		t.Errorf("keys %s", got)
	}
	if got := f.Ref("n"); got != "c.yaml:2: n" {
		t.Errorf("Ref(n) = %q", got)
	}

	for _, tc := range []struct{ yaml, want string }{
		{"n: 20\ng: [1,\n", "c.yaml:2: did not find expected node content — fix the YAML syntax"},
		{"n: 20\nperturb_prb: 0.1\n", `c.yaml:2:1: perturb_prb: is not a known key — did you mean "perturb_prob"?`},
		{"trials: many\n", "c.yaml:1:9: trials:"},
		{"- n: 3\n", "c.yaml:1:1: is a list, not a mapping"},
		{"n: 1\nn: 2\n", "c.yaml:2:1: n: is given twice (first on line 1)"},
		{"rule: miconi\ntheta: [[1]]\n", "c.yaml:2:1: theta: and rule (line 1) are both set — keep one"},
		{"task_params: 3\n", "c.yaml:1:14: task_params is not a mapping"},
		{"preset: nosuch\n", `c.yaml:1:9: preset: "nosuch" is not a preset`},
		{"seeds: [1]\n", "c.yaml:1:8: seeds:"},
	} {
		_, err := ParseSetup("c.yaml", []byte(tc.yaml), &run)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), " — ") {
			t.Errorf("%q: error %v, want a ParseError containing %q and a fix", tc.yaml, err, tc.want)
		}
	}
	if f, err := ParseSetup("e.yaml", nil, nil); err != nil || len(f.Keys) != 0 {
		t.Errorf("empty file: %v, %v", f, err)
	}
}
