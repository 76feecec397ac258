package pipelines

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestParseSeeds(t *testing.T) {
	tests := []struct {
		in      string
		want    []uint64
		wantErr string
	}{
		{in: "1-8", want: []uint64{1, 2, 3, 4, 5, 6, 7, 8}},
		{in: "1,3,5", want: []uint64{1, 3, 5}},
		{in: "1-4,10", want: []uint64{1, 2, 3, 4, 10}},
		{in: " 7 , 2-3 ", want: []uint64{7, 2, 3}},
		{in: "0", want: []uint64{0}},
		{in: "5-5", want: []uint64{5}},
		{in: "18446744073709551614-18446744073709551615", want: []uint64{1<<64 - 2, 1<<64 - 1}},
		{in: "", wantErr: "no seeds"},
		{in: "a", wantErr: `"a" is not a seed`},
		{in: "1-", wantErr: `"1-" is not a seed`},
		{in: "-3", wantErr: `"-3" is not a seed`},
		{in: "1,,2", wantErr: `"" is not a seed`},
		{in: "5-2", wantErr: "runs backwards"},
		{in: "1,1", wantErr: "seed 1 is listed twice"},
		{in: "1-3,3", wantErr: "seed 3 is listed twice"},
		{in: "0-100000", wantErr: "more than 100000 seeds"},
		{in: "0-60000,60001-120000", wantErr: "more than 100000 seeds"},
	}
	for _, tc := range tests {
		got, err := ParseSeeds(tc.in)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSeeds(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("ParseSeeds(%q): %v", tc.in, err)
		case !reflect.DeepEqual(got, tc.want):
			t.Errorf("ParseSeeds(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestNearest(t *testing.T) {
	keys := ParamKeys()
	for in, want := range map[string]string{
		"perturb_prb": "perturb_prob",
		"nn":          "n",
		"alpha_R":     "alpha_r",
		"gatestart":   "gate_start",
		"learning":    "",
	} {
		if got := Nearest(in, keys); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"kitten", "sitting", 3}, {"flaw", "lawn", 2}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestFloatList(t *testing.T) {
	for in, want := range map[string]FloatList{"1,1,-1": {1, 1, -1}, " 2 , 0.5": {2, 0.5}, "none": {}, "": {}} {
		var f FloatList
		if err := f.Set(in); err != nil || !reflect.DeepEqual(f, want) {
			t.Errorf("Set(%q) = %v, %v; want %v", in, f, err, want)
		}
	}
	for in, want := range map[string]FloatList{"c: [1, -1]": {1, -1}, "c: \"1,-1\"": {1, -1}, "c: []": {}, "c: none": {}} {
		var v struct {
			C FloatList `yaml:"c"`
		}
		if err := yaml.Unmarshal([]byte(in), &v); err != nil || !reflect.DeepEqual(v.C, want) {
			t.Errorf("yaml %q = %v, %v; want %v", in, v.C, err, want)
		}
	}
}

// TestPresetBuilds checks the preset against Miconi's (2017) values, written
// out here, and that it builds.
func TestPresetBuilds(t *testing.T) {
	p, err := Preset(PresetMiconi2017)
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 200 || p.G != 1.5 || p.Tau != 30 || p.Eta != 0.1 || p.K != 3 || p.Rule != "miconi" || p.Trials != 3000 {
		t.Errorf("preset %+v", p)
	}
	b, err := p.Build(nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.RuleName != "miconi" || b.Setup.Rule.At(3, 3) != -1 || b.Setup.Init.N != 200 {
		t.Errorf("built %v %+v", b.RuleName, b.Setup.Init)
	}
	if _, err := Preset("nosuch"); err == nil || !strings.Contains(err.Error(), "miconi2017") {
		t.Errorf("unknown preset: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Params)
		key  string
		want string
	}{
		{"n", func(p *Params) { p.N = 0 }, "n", "n (preset default) = 0 is too small — the network needs"},
		{"task", func(p *Params) { p.Task = "x" }, "task", `task (preset default) = "x" is not a known task`},
		{"theta ragged", func(p *Params) { p.Theta = Matrix{{0, 1}, {2}} }, "theta", "has rows of different lengths"},
		{"no rule", func(p *Params) { p.Rule = "" }, "rule", "no rule given — set"},
		{"task params", func(p *Params) { p.TaskParams = JSONObject{"nosuch": 1} }, "task_params", "unknown parameter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := Preset(PresetDefault)
			tc.mod(&p)
			_, err := p.Build(nil)
			var pe *ParamError
			if !errors.As(err, &pe) || pe.Key != tc.key || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (%#v), want key %s and %q", err, pe, tc.key, tc.want)
			}
		})
	}
}

func TestRandomRule(t *testing.T) {
	a, _ := RandomRule(1, 2, 0.1, 7)
	b, _ := RandomRule(1, 2, 0.1, 7)
	c, _ := RandomRule(1, 2, 0.1, 8)
	if len(a.Theta) != 6 || !reflect.DeepEqual(a, b) || reflect.DeepEqual(a, c) {
		t.Errorf("random rules %v %v %v", a, b, c)
	}
	var nonzero int
	for _, v := range a.Theta {
		if v != 0 && v > -1 && v < 1 {
			nonzero++
		}
	}
	if nonzero != 6 {
		t.Errorf("θ ~ N(0, 0.01) should be small and non-zero: %v", a.Theta)
	}
}
