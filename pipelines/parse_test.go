package pipelines

import (
	"errors"
	"strings"
	"testing"
)

// base is a valid campaign the error cases below change.
const base = `name: t
tasks:
  - name: dnms
rules:
  - name: miconi
seeds: 1-2
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		line, col int
		field     string
		msg, fix  string // substrings
		param     string // key of the *ParamError it unwraps to, if any
	}{
		{"empty", "", 0, 0, "", "the file is empty", "quickstart.yaml", ""},
		{"syntax", "name: t\ntasks:\n\t- name: dnms\n", 3, 0, "", "cannot start any token", "YAML syntax", ""},
		{"not a mapping", "- a\n- b\n", 1, 1, "", "is a list, not a mapping", "key: value", ""},
		{"unknown top key", base + "sedes: 3\n", 7, 1, "sedes", "is not a known key", `did you mean "seeds"?`, ""},
		{"missing seeds", "name: t\ntasks: [{name: dnms}]\nrules: [{name: miconi}]\n", 1, 1, "seeds", "is missing", "add a top-level seeds:", ""},
		{"bad name", strings.Replace(base, "name: t", "name: My Study", 1), 1, 7, "name", `"My Study" is not a valid name`, "lowercase", ""},
		{"duplicate key", base + "seeds: 3\n", 7, 1, "seeds", "is given twice (first on line 6)", "keep only one", ""},
		{"unknown param", base + "defaults:\n  etaa: 1\n", 8, 3, "defaults.etaa", "is not a known key", `did you mean "eta"?`, ""},
		{"forbidden param", base + "defaults:\n  rule: miconi\n", 8, 3, "defaults.rule", "cannot be set here", "list rules under rules:", ""},
		{"param type", base + "defaults:\n  n: many\n", 8, 6, "defaults.n", "cannot unmarshal !!str `many` into int", "give a whole number", ""},
		{"param null", base + "defaults:\n  eta:\n", 8, 7, "defaults.eta", "has no value", "give a value (a number)", ""},
		{"param range", base + "defaults:\n  eta: -1\n", 8, 8, "defaults.eta", "defaults.eta = -1 is out of range (rule miconi on task dnms)", "finite learning rate", "eta"},
		{"preset value out of range for the task", base + "defaults:\n  clamps: [1, 1, 1, 1, 1, 1]\n  n: 5\n", 9, 6, "defaults.n",
			"defaults.n = 5 is too small for 1 readout unit(s) and 6 clamped unit(s)", "use n ≥ 7 or fewer clamps", "n"},
		{"unknown preset", base + "defaults:\n  preset: miconi2018\n", 8, 11, "defaults.preset", `"miconi2018" is not a preset`, "miconi2017", ""},
		{"unknown task", strings.Replace(base, "name: dnms", "name: dnmss", 1), 3, 11, "tasks[0].name", `"dnmss" is not a known task`, "choose one of cdi, dnms", ""},
		{"task params", strings.Replace(base, "name: dnms", "name: dnms\n    task_params: {stepz: 3}", 1), 4, 18, "tasks[0].task_params",
			`unknown parameter "stepz"`, "use one of those names", "task_params"},
		{"task params conflict", strings.Replace(base, "name: dnms", "name: dnms\n    task_params: {steps: 100}", 1), 4, 18, "tasks[0].task_params",
			"must be", "adjust them", "task_params"},
		{"duplicate task", strings.Replace(base, "  - name: dnms", "  - name: dnms\n  - task: dnms", 1), 4, 11, "tasks[1].name",
			`"dnms" is already the name of tasks[0]`, "name: for the entry", ""},
		{"no tasks", strings.Replace(base, "tasks:\n  - name: dnms", "tasks: []", 1), 2, 8, "tasks", "is empty", "list at least one task", ""},
		{"tasks not a list", strings.Replace(base, "tasks:\n  - name: dnms", "tasks: dnms", 1), 2, 8, "tasks", `is the value "dnms", not a list`, "write a list", ""},
		{"unknown rule", strings.Replace(base, "name: miconi", "name: miconii", 1), 5, 11, "rules[0].name", `"miconii" is not a named rule`, "or give theta:", ""},
		{"theta rows vs explicit K", strings.Replace(base, "name: miconi", "name: mine\n    theta: [[0, 0], [0, -1], [1, 1]]", 1) + "defaults: {k: 3}\n",
			6, 12, "rules[0].theta", "rules[0].theta is 3×2, which needs K = 2, L = 1, but defaults.k = 3", "give a 4×4 matrix or drop k", "theta"},
		{"theta ragged", strings.Replace(base, "name: miconi", "name: mine\n    theta: [[0, 0], [1]]", 1), 6, 12, "rules[0].theta",
			"has rows of different lengths", "rectangular", "theta"},
		{"theta not numbers", strings.Replace(base, "name: miconi", "name: mine\n    theta: [[a]]", 1), 6, 12, "rules[0].theta",
			"cannot unmarshal", "a list of rows of numbers", ""},
		{"two rule forms", strings.Replace(base, "name: miconi", "name: mine\n    theta: [[0]]\n    random: {seed: 1}", 1), 7, 13, "rules[0].random",
			"and theta both give the rule", "keep one", ""},
		{"random scale", strings.Replace(base, "name: miconi", "name: r\n    random: {scale: -1}", 1), 6, 21, "rules[0].random.scale",
			"rules[0].random.scale = -1 is out of range", "finite standard deviation", ""},
		{"random key", strings.Replace(base, "name: miconi", "name: r\n    random: {sed: 1}", 1), 6, 14, "rules[0].random.sed",
			"is not a known key", `did you mean "seed"?`, ""},
		{"from", strings.Replace(base, "name: miconi", "name: d\n    from: es", 1), 6, 11, "rules[0].from", `"es" is not known`, "from: metaopt", ""},
		{"metaopt without from", strings.Replace(base, "name: miconi", "name: d\n    metaopt: {iters: 3}", 1), 6, 14, "rules[0].metaopt",
			"without from: metaopt", "add from: metaopt", ""},
		{"metaopt estimator", strings.Replace(base, "name: miconi", "name: d\n    from: metaopt\n    metaopt: {estimator: adam}", 1), 7, 26,
			"rules[0].metaopt.estimator", `rules[0].metaopt.estimator = "adam" is not known`, "projection:4", ""},
		{"metaopt task", strings.Replace(base, "name: miconi", "name: d\n    from: metaopt\n    metaopt: {task: dnm}", 1), 7, 21,
			"rules[0].metaopt.task", `"dnm" is not a tasks entry`, `did you mean "dnms"?`, ""},
		{"metaopt needs task", strings.Replace(strings.Replace(base, "- name: dnms", "- name: dnms\n  - name: cdi", 1), "name: miconi", "name: d\n    from: metaopt", 1), 7, 11,
			"rules[0].metaopt", "needs task: (the campaign has 2 tasks)", "dnms, cdi", ""},
		{"metaopt override", strings.Replace(base, "name: miconi", "name: d\n    from: metaopt\n    metaopt: {overrides: {trials: 5}}", 1), 7, 27,
			"rules[0].metaopt.overrides.trials", "cannot be set here", "metaopt.trials", ""},
		{"rule tasks", strings.Replace(base, "name: miconi", "name: miconi\n    tasks: [cdi]", 1), 6, 13, "rules[0].tasks[0]",
			`"cdi" is not a tasks entry`, "dnms", ""},
		{"rule override", strings.Replace(base, "name: miconi", "name: miconi\n    overrides: {perturb: pink}", 1), 6, 26,
			"rules[0].overrides.perturb", `rules[0].overrides.perturb = "pink" is not known (rule miconi on task dnms)`, "decoupled, gaussian or none", "perturb"},
		{"seeds", strings.Replace(base, "seeds: 1-2", "seeds: 8-1", 1), 6, 8, "seeds", `range "8-1" runs backwards`, "low-high", ""},
		{"seeds list", strings.Replace(base, "seeds: 1-2", "seeds: [1, x]", 1), 6, 12, "seeds[1]", "cannot unmarshal", "whole number", ""},
		{"train trials", base + "train: {trials: 0}\n", 7, 17, "train.trials", "train.trials = 0 is too small", "at least 1 trial", ""},
		{"trials twice", base + "defaults: {trials: 10}\ntrain: {trials: 20}\n", 8, 17, "train.trials", "defaults.trials (line 7) both set", "keep one", ""},
		{"stage key", base + "stages: {fixedpoint: {}}\n", 7, 10, "stages.fixedpoint", "is not a known key", `did you mean "fixedpoints"?`, ""},
		{"stage knob", base + "stages:\n  rsa: {metric: cosine}\n", 8, 17, "stages.rsa.metric", `stages.rsa.metric = "cosine" is not known`, "correlation or euclidean", ""},
		{"stage knob range", base + "stages:\n  fixedpoints: {tol: 0}\n", 8, 22, "stages.fixedpoints.tol", "= 0 is out of range", "small positive speed", ""},
		{"deflation", base + "stages:\n  fixedpoints: {deflation: -3}\n", 8, 28, "stages.fixedpoints.deflation", "= -3 is out of range", "0 (off)", ""},
		{"deflation power", base + "stages:\n  fixedpoints: {deflation: 2, deflation_power: -1}\n", 8, 48, "stages.fixedpoints.deflation_power", "= -1 is out of range", "positive power", ""},
		{"landscape without fixedpoints", base + "stages:\n  rsa: {}\n  landscape: {pcs: 2}\n", 9, 3, "stages.landscape",
			"needs the fixed points of the fixedpoints stage, which is off", "add a fixedpoints section", ""},
		{"landscape pcs", base + "stages:\n  fixedpoints: {}\n  landscape: {pcs: 0}\n", 9, 20, "stages.landscape.pcs", "= 0 is out of range", "at least 1 principal axis", ""},
		{"landscape connect_steps", base + "stages:\n  fixedpoints: {}\n  landscape: {connect_steps: -4}\n", 9, 30, "stages.landscape.connect_steps",
			"= -4 is out of range", "at least 1 step", ""},
		{"landscape old knob", base + "stages:\n  fixedpoints: {}\n  landscape: {points: 11}\n", 9, 15, "stages.landscape.points", "is not a known key", "pcs, permutations, connect_steps", ""},
		{"dsa rank", base + "stages:\n  dsa: {rank: 0}\n", 8, 15, "stages.dsa.rank", "= 0 is out of range", "at least 1 dimension", ""},
		{"dsa rank over dimension", base + "stages:\n  dsa: {n_delays: 2, rank: 500}\n", 8, 3, "stages.dsa",
			"rank = 500 exceeds the embedding dimension n_delays × units = 2 × 200 = 400: lower rank or raise n_delays", "fit the delays and rank", ""},
		{"dsa delays over trial", base + "stages:\n  dsa: {n_delays: 300, delay_interval: 4}\n", 8, 3, "stages.dsa",
			"n_delays = 300 with delay_interval = 4 spans 1197 steps, but trials have 1000", "fit the delays and rank", ""},
		{"merge key", base + "train: {<<: 3}\n", 7, 13, "train", `is the value "3", not a mapping`, "key: value", ""},
		{"concurrency", base + "concurrency: {max_parallel: -1}\n", 7, 29, "concurrency.max_parallel", "is negative", "positive bound", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.yaml", []byte(tc.yaml))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if tc.msg == "" {
				return
			}
			if pe.File != "c.yaml" || pe.Line != tc.line || pe.Column != tc.col || pe.Field != tc.field {
				t.Errorf("at %s:%d:%d field %q, want c.yaml:%d:%d field %q\n%v", pe.File, pe.Line, pe.Column, pe.Field, tc.line, tc.col, tc.field, err)
			}
			if !strings.Contains(pe.Err.Error(), tc.msg) || !strings.Contains(pe.Fix, tc.fix) {
				t.Errorf("error %q / fix %q, want %q / %q", pe.Err, pe.Fix, tc.msg, tc.fix)
			}
			if !strings.Contains(err.Error(), " — "+pe.Fix) || !strings.HasPrefix(err.Error(), "c.yaml:") {
				t.Errorf("Error() = %q", err)
			}
			var param *ParamError
			if got := errors.As(err, &param); got != (tc.param != "") || (got && param.Key != tc.param) {
				t.Errorf("ParamError %v, want key %q", param, tc.param)
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	e := &ParseError{File: "q.yaml", Line: 12, Column: 5, Field: "rules[1].theta",
		Err: errors.New("has 3 rows, want K+1 = 4"), Fix: "give (K+1)×(L+1) numbers or set k/l"}
	if got, want := e.Error(), "q.yaml:12:5: rules[1].theta: has 3 rows, want K+1 = 4 — give (K+1)×(L+1) numbers or set k/l"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	e = &ParseError{File: "q.yaml", Err: errors.New("the file is empty")}
	if got := e.Error(); got != "q.yaml: the file is empty" {
		t.Errorf("got %s", got)
	}
	if !errors.Is(&ParseError{Err: errFake}, errFake) {
		t.Error("ParseError does not unwrap")
	}
}

var errFake = errors.New("fake")

// TestErrorsQuoteExcerpts: a file that is one 10 MB line, or a huge key or
// value, gives a one-line error that quotes at most a short excerpt.
func TestErrorsQuoteExcerpts(t *testing.T) {
	long := strings.Repeat("x", 10<<20)
	for name, src := range map[string]string{
		"one long line": long,
		"long value":    "name: " + long + "\n",
		"long key":      long + ": 1\n",
		"passwd":        "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
	} {
		_, err := Parse("f.yaml", []byte(src))
		if err == nil {
			t.Fatalf("%s: parsed", name)
		}
		if msg := err.Error(); len(msg) > 700 || strings.Contains(msg, "\n") || strings.Contains(msg, strings.Repeat("x", 200)) || strings.Contains(msg, "nologin") {
			t.Errorf("%s: error of %d bytes echoes the input: %.300q", name, len(msg), msg)
		}
	}
}
