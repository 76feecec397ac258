package pipelines

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"rulescape/store"
)

const idBase = `name: ids
description: the first form
defaults:
  n: 12
  eta: 0.5
tasks:
  - name: gonogo
    task_params: {steps: 60, stim_start: 5, stim_end: 20, response: 20}
rules:
  - name: miconi
  - name: zero
seeds: 1-3
train: {trials: 40}
stages:
  rsa: {permutations: 10}
`

func mustID(t *testing.T, src string) string {
	t.Helper()
	c, err := Parse("ids.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return c.ID()
}

// TestCampaignID checks that the ID depends on what the campaign computes
// and not on how the file is written.
func TestCampaignID(t *testing.T) {
	id := mustID(t, idBase)
	same := map[string]string{
		"flow style, comments, key order": `# reformatted
stages: {rsa: {permutations: 10}}
seeds: "1,2,3"          # the same seeds
train:
  trials: 40
rules: [{name: miconi}, {name: zero}]
tasks: [{task_params: {response: 20, stim_end: 20, stim_start: 5, steps: 60}, name: gonogo}]
defaults: {eta: 0.5, n: 12}
name: ids
`,
		"description and concurrency": strings.Replace(idBase, "the first form", "another text", 1) + "concurrency: {max_parallel: 3}\n",
		"value moved to the task":     strings.Replace(strings.Replace(idBase, "  eta: 0.5\n", "", 1), "response: 20}", "response: 20}\n    overrides: {eta: 0.5}", 1),
		"seed list":                   strings.Replace(idBase, "seeds: 1-3", "seeds: [1, 2, 3]", 1),
		"task defaults written out":   strings.Replace(idBase, "response: 20}", "response: 20, target: 1, input_amp: 1}", 1),
		"preset named":                strings.Replace(idBase, "defaults:\n", "defaults:\n  preset: miconi2017\n", 1),
		"merge keys": `name: ids
description: anchors
defaults: &d
  n: 12
  eta: 0.5
tasks:
  - name: gonogo
    task_params: {steps: 60, stim_start: 5, stim_end: 20, response: 20}
rules:
  - &m {name: miconi}
  - {<<: *m, name: zero}
seeds: 1-3
train: {trials: 40}
stages:
  rsa: {permutations: 10}
`,
		"number spelling": strings.Replace(idBase, "eta: 0.5", "eta: 5.0e-1", 1),
		// f64 is the default: writing it changes nothing, so campaigns
		// from before the setting keep their IDs and keys.
		"precision f64": strings.Replace(idBase, "  eta: 0.5\n", "  eta: 0.5\n  precision: f64\n", 1),
		// Only enabled stages enter the ID (v2): the settings of a stage
		// that does not run change nothing.
		"disabled stage settings": idBase + "  sensitivity: {enabled: false, perturbations: 7}\n  landscape: {enabled: false, pcs: 5}\n",
	}
	for name, src := range same {
		if got := mustID(t, src); got != id {
			t.Errorf("%s: ID %s, want %s", name, got, id)
		}
	}
	differ := map[string]string{
		"eta":            strings.Replace(idBase, "eta: 0.5", "eta: 0.6", 1),
		"seeds":          strings.Replace(idBase, "seeds: 1-3", "seeds: 1-4", 1),
		"seed order":     strings.Replace(idBase, "seeds: 1-3", "seeds: 3,2,1", 1),
		"name":           strings.Replace(idBase, "name: ids", "name: ids2", 1),
		"task param":     strings.Replace(idBase, "steps: 60", "steps: 61", 1),
		"rule":           strings.Replace(idBase, "name: zero", "name: node-perturbation", 1),
		"trials":         strings.Replace(idBase, "trials: 40", "trials: 41", 1),
		"stage knob":     strings.Replace(idBase, "permutations: 10", "permutations: 11", 1),
		"stop":           strings.Replace(idBase, "{trials: 40}", "{trials: 40, stop_at_criterion: true}", 1),
		"extra stage":    idBase + "  sensitivity: {}\n",
		"landscape":      idBase + "  fixedpoints: {}\n  landscape: {}\n",
		"landscape knob": idBase + "  fixedpoints: {}\n  landscape: {pcs: 4}\n",
		"fixedpoints":    idBase + "  fixedpoints: {}\n",
		"no report":      idBase + "  report: {enabled: false}\n",
		"precision f32":  strings.Replace(idBase, "  eta: 0.5\n", "  eta: 0.5\n  precision: f32\n", 1),
	}
	// Pinned: a change to how IDs are computed changes every campaign's
	// workflow ID and store prefix, so it must be deliberate (a new
	// PlanFormat, documented in docs/CAMPAIGNS.md).
	if id != "06e5d71825990a8c" {
		t.Errorf("ID v2 of idBase is %s, want 06e5d71825990a8c", id)
	}
	seen := map[string]string{id: "base"}
	for name, src := range differ {
		got := mustID(t, src)
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: ID %s is the same as for %s", name, got, prev)
		}
		seen[got] = name
	}
}

// TestUnitsRoundTrip checks that units survive JSON (as through Temporal)
// with the same keys and setups, and that Setup needs Θ exactly for
// metaopt units.
func TestUnitsRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/forms.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse("forms.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(p)
	var back Plan
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	for i := range p.Train {
		u, v := &p.Train[i], &back.Train[i]
		k1, err1 := store.ContentKey(u.Key(), nil, "test")
		k2, err2 := store.ContentKey(v.Key(), nil, "test")
		if err1 != nil || err2 != nil || k1 != k2 {
			t.Errorf("%s: content key %s, after JSON %s (%v, %v)", u.ID, k1, k2, err1, err2)
		}
		var theta [][]float64
		if v.Metaopt != "" {
			if _, err := v.Setup(nil); err == nil {
				t.Errorf("%s: Setup without Θ succeeded", v.ID)
			}
			theta = [][]float64{{0, 0, 0}, {0, 0, -1}}
		} else if _, err := v.Setup([][]float64{{1}}); err == nil {
			t.Errorf("%s: Setup with a Θ it does not need succeeded", v.ID)
		}
		s, err := v.Setup(theta)
		if err != nil {
			t.Fatalf("%s: %v", v.ID, err)
		}
		if s.Trials != 50 || !s.StopAtCriterion || s.Init.N != 12 || s.Task.Spec().Steps != map[string]int{"gonogo": 60, "short-dnms": 80}[v.Task] {
			t.Errorf("%s: setup %d trials, stop %v, N %d, T %d", v.ID, s.Trials, s.StopAtCriterion, s.Init.N, s.Task.Spec().Steps)
		}
		if v.Rule == "custom" && s.Rule.At(1, 1) != -1 {
			t.Errorf("%s: rule %v", v.ID, s.Rule)
		}
	}
	j := back.Metaopt[0]
	s, err := j.Setup()
	if err != nil {
		t.Fatal(err)
	}
	init, _ := RandomRule(1, 2, 0.2, 3)
	if s.Trials != 10 || !reflect.DeepEqual(s.Rule.Theta, init.Theta) {
		t.Errorf("metaopt setup: H = %d, initial Θ %v, want 10, %v", s.Trials, s.Rule.Theta, init.Theta)
	}
	k1, _ := store.ContentKey(p.Metaopt[0].Key(), nil, "test")
	k2, _ := store.ContentKey(j.Key(), nil, "test")
	if k1 != k2 {
		t.Error("metaopt key changes through JSON")
	}
	for _, a := range back.Analysis {
		var rsa RSAStage
		if err := json.Unmarshal(a.Settings, &rsa); err != nil || !rsa.Enabled || rsa.Permutations != 1000 {
			t.Errorf("%s settings %s", a.ID, a.Settings)
		}
	}
}

// TestStagesOrder checks the dependencies of the stages.
func TestStagesOrder(t *testing.T) {
	data, _ := os.ReadFile("quickstart.yaml")
	c, err := Parse("quickstart.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Plan()
	after := map[StageName][]StageName{}
	for _, s := range p.Stages {
		after[s.Name] = s.After
	}
	want := map[StageName][]StageName{
		StageMetaopt: nil, StageTrain: {StageMetaopt},
		StageFixedPoints: {StageTrain}, StageRSA: {StageTrain}, StageLandscape: {StageFixedPoints}, StageSensitivity: {StageTrain},
		StageDSA: {StageTrain}, StageAtlas: {StageDSA, StageLandscape},
		StageReport: {StageFixedPoints, StageRSA, StageLandscape, StageSensitivity, StageDSA, StageAtlas},
	}
	if !reflect.DeepEqual(after, want) {
		t.Errorf("after = %v\nwant %v", after, want)
	}
	ids := map[string]bool{}
	for _, s := range p.Stages {
		for _, u := range s.Units {
			if ids[u] {
				t.Errorf("unit %s twice", u)
			}
			ids[u] = true
		}
	}
	for _, a := range p.Analysis {
		for _, in := range a.Inputs {
			if !ids[in] {
				t.Errorf("%s reads unknown unit %s", a.ID, in)
			}
		}
	}
	if _, err := (&Campaign{}).Plan(); err == nil {
		t.Error("Plan of a campaign not from Parse succeeded")
	}
}

// TestQuickstartLayering checks a quickstart unit's setup against one built
// from the preset with the file's values written out by hand.
func TestQuickstartLayering(t *testing.T) {
	data, _ := os.ReadFile("quickstart.yaml")
	c, err := Parse("quickstart.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Plan()
	want, _ := Preset(PresetMiconi2017)
	want.Task = "gonogo"
	want.TaskParams = JSONObject{"steps": 150, "stim_start": 10, "stim_end": 60, "response": 50}
	want.N, want.Eta, want.Clip, want.Gain, want.Loss, want.Warmup, want.GateStart = 30, 1, 0.01, "plain", "mse", 20, 3
	want.Trials = 600
	for _, rule := range []string{"miconi", "zero"} {
		want.Rule = rule
		b, err := want.Build(nil)
		if err != nil {
			t.Fatal(err)
		}
		var u *TrainUnit
		for i := range p.Train {
			if p.Train[i].Rule == rule && p.Train[i].Seed == 2 {
				u = &p.Train[i]
			}
		}
		got, err := u.Setup(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, b.Setup) {
			t.Errorf("%s: setup\n%+v\nwant\n%+v", u.ID, got, b.Setup)
		}
	}
}

// TestMetaoptProblem checks that a job's settings reach the objective and
// the optimizer settings.
func TestMetaoptProblem(t *testing.T) {
	data, _ := os.ReadFile("testdata/forms.yaml")
	c, err := Parse("forms.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := c.Plan()
	j := p.Metaopt[0]
	obj, s, err := j.Problem(1)
	if err != nil {
		t.Fatal(err)
	}
	if obj.H != 10 || obj.Gamma != 1 || obj.Estimator.String() != "exact" || obj.Dim() != 6 {
		t.Errorf("objective H=%d γ=%v estimator %v dim %d", obj.H, obj.Gamma, obj.Estimator, obj.Dim())
	}
	if s.Iters != 2 || s.Learners != 2 || s.Seed != 3 || s.Workers != 1 || s.LR != 0.02 || s.HeldOut != 8 {
		t.Errorf("settings %+v", s)
	}
}

// TestPlanEncodeDecode checks that a stored plan decodes to the same plan
// and that a modified one is refused.
func TestPlanEncodeDecode(t *testing.T) {
	c, err := Parse("ids.yaml", []byte(idBase))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	data, sum, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodePlan(data, sum)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Error("decoded plan differs from the encoded one")
	}
	if back.Spec != idBase || back.File != "ids.yaml" || back.Format != PlanFormat {
		t.Errorf("plan records file %q, format %d and a spec of %d bytes", back.File, back.Format, len(back.Spec))
	}
	if _, err := DecodePlan(append(data[:len(data)-1:len(data)-1], ' '), sum); err == nil || !strings.Contains(err.Error(), "modified or truncated") {
		t.Errorf("modified bytes: got %v", err)
	}
	forged := strings.Replace(string(data), `"trials":40`, `"trials":41`, 1)
	if forged == string(data) {
		t.Fatal("test plan has no trials 40")
	}
	if _, err := DecodePlan([]byte(forged), ""); err == nil || !strings.Contains(err.Error(), "its units give") {
		t.Errorf("plan whose ID does not match its units: got %v", err)
	}
	o := p.Outline()
	if o.Name != "ids" || len(o.Stages) != len(p.Stages) || o.Stages[0].Units != len(p.Stages[0].Units) {
		t.Errorf("outline %+v does not match the plan's stages", o)
	}
}

// TestPrecisionKeys checks that precision enters a train unit's content
// key only when it is f32, that f32 reaches the unit's setup, that a bad
// value is one line naming the field and the valid values, and that a
// metaopt job refuses f32.
func TestPrecisionKeys(t *testing.T) {
	key := func(src string) (string, *TrainUnit) {
		t.Helper()
		c, err := Parse("ids.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Plan()
		if err != nil {
			t.Fatal(err)
		}
		u := &p.Train[0]
		k, err := store.ContentKey(u.Key(), nil, "train-test")
		if err != nil {
			t.Fatal(err)
		}
		return k, u
	}
	with := func(v string) string {
		return strings.Replace(idBase, "  eta: 0.5\n", "  eta: 0.5\n  precision: "+v+"\n", 1)
	}
	k0, u0 := key(idBase)
	k64, u64 := key(with("f64"))
	k32, u32 := key(with("f32"))
	if k64 != k0 || u64.Params.Precision != "" {
		t.Errorf("precision f64 changed the key (%s → %s) or was kept as %q", k0, k64, u64.Params.Precision)
	}
	if k32 == k0 {
		t.Error("precision f32 left the key unchanged")
	}
	data, _ := json.Marshal(u0.Key())
	if strings.Contains(string(data), "precision") {
		t.Errorf("an f64 key document mentions precision: %s", data)
	}
	s32, err := u32.Setup(nil)
	if err != nil || s32.Precision != "f32" {
		t.Errorf("f32 unit setup: precision %q, err %v", s32.Precision, err)
	}
	_, err = Parse("ids.yaml", []byte(with("f16")))
	if err == nil || strings.Count(err.Error(), "\n") > 0 || !strings.Contains(err.Error(), "precision") || !strings.Contains(err.Error(), "f64 or f32") {
		t.Errorf("bad precision: %v; want one line naming precision and f64 or f32", err)
	}
	meta := strings.Replace(with("f32"), "  - name: zero\n", `  - name: found
    from: metaopt
    metaopt: {iters: 2, learners: 2, trials: 10}
`, 1)
	_, err = Parse("ids.yaml", []byte(meta))
	if err == nil || !strings.Contains(err.Error(), "not supported by metaopt") || strings.Contains(err.Error(), "\n") {
		t.Errorf("metaopt with precision f32: %v; want a one-line refusal", err)
	}
	// The job can be kept in f64 while its rule's units train in f32.
	meta = strings.Replace(meta, "trials: 10}", "trials: 10, overrides: {precision: f64}}", 1)
	if _, err := Parse("ids.yaml", []byte(meta)); err != nil {
		t.Errorf("metaopt.overrides precision f64 under f32 defaults: %v", err)
	}
}
