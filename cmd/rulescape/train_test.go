package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// tinyTask shrinks DNMS to 60 steps so that a trial of a 20-unit network
// takes microseconds.
const tinyTask = `{"Steps":60,"Stim1End":10,"Stim2Start":20,"Stim2End":30,"Response":10}`

// tiny is a small, fast training run.
var tiny = []string{"train", "--n", "20", "--trials", "30", "--task-params", tinyTask,
	"--criterion-window", "10", "--warmup", "5", "--progress", "never"}

func with(extra ...string) []string { return append(append([]string(nil), tiny...), extra...) }

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrainBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // substrings of the one error line
	}{
		{"unknown task", with("--task", "nosuch"), []string{`--task = "nosuch" is not a known task`, "dnms"}},
		{"unknown rule", with("--rule", "nosuch"), []string{`--rule = "nosuch"`, "miconi", "node-perturbation", "zero"}},
		{"K too large", with("--k", "12"), []string{"--k = 12 is out of range", "[0, 8]"}},
		{"L negative", with("--l", "-1"), []string{"--l = -1 is out of range"}},
		{"negative N", with("--n", "-3"), []string{"--n = -3", "at least 1"}},
		{"N too small for clamps", with("--n", "3"), []string{"--n = 3 is too small for 1 readout unit(s) and 3 clamped unit(s)"}},
		{"negative trials", with("--trials", "-1"), []string{"--trials = -1"}},
		{"negative workers", with("--workers", "-2"), []string{"--workers = -2"}},
		{"tau below dt", with("--tau", "0.5"), []string{"--tau = 0.5", "≥ dt"}},
		{"bad perturbation", with("--perturb", "pink"), []string{`--perturb = "pink"`, "decoupled, gaussian or none"}},
		{"bad gain", with("--gain", "big"), []string{`--gain = "big"`, "plain or baseline"}},
		{"bad precision", with("--precision", "f16"), []string{`--precision = "f16" is not known`, "f64 or f32"}},
		{"bad probability", with("--perturb-prob", "1.5"), []string{"--perturb-prob = 1.5"}},
		{"bad criterion fraction", with("--criterion-fraction", "0"), []string{"--criterion-fraction = 0"}},
		{"reversed seed range", with("--seeds", "8-1"), []string{`--seeds = "8-1"`, "low-high"}},
		{"seed not a number", with("--seeds", "1,x"), []string{`"x" is not a seed`}},
		{"duplicate seed", with("--seeds", "1-3,2"), []string{"seed 2 is listed twice"}},
		{"empty seeds", with("--seeds", ""), []string{"no seeds"}},
		{"ragged theta", with("--theta", "[[0,1],[2]]"), []string{"--theta has rows of different lengths"}},
		{"theta shape vs K", with("--k", "3", "--theta", "[[0,0],[0,-1]]"), []string{"--theta is 2×2", "--k = 3", "4×4"}},
		{"theta too large", with("--theta", "[[0,0,0,0,0,0,0,0,0,0]]"), []string{"--theta is 1×10", "≤ 8"}},
		{"theta not JSON", with("--theta", "[[1]"), []string{"--theta", "not a JSON matrix"}},
		{"empty theta", with("--theta", "[]"), []string{"--theta is empty"}},
		{"rule and theta", with("--rule", "miconi", "--theta", "[[1]]"), []string{"--rule and --theta both given"}},
		{"rule needs higher K", with("--k", "2"), []string{`rule (preset default) = "miconi"`, "needs K ≥ 3"}},
		{"unknown task field", with("--task-params", `{"Stepz":3}`), []string{`unknown parameter "Stepz"`, "steps, stim1_end"}},
		{"inconsistent task", with("--task-params", `{"Steps":20}`), []string{"--task-params", "inside [0,20)"}},
		{"task params not JSON", with("--task-params", `{Steps:3}`), []string{"--task-params", "not a JSON object"}},
		{"bad clamps", with("--clamps", "1,a"), []string{`"a" is not a number`}},
		{"unknown preset", with("--preset", "nosuch"), []string{`unknown preset "nosuch"`, "miconi2017"}},
		{"bad progress mode", with("--progress", "sometimes"), []string{`--progress = "sometimes"`}},
		{"unknown flag", with("--nn", "3"), []string{"unknown flag: --nn", "--help"}},
		{"flag not a number", with("--n", "many"), []string{`invalid argument "many" for "--n" flag`}},
		{"bad output", with("-o", "xml"), []string{`--output "xml"`}},
		{"missing config", with("--config", "/nonexistent/train.yaml"), []string{"config file", "no such file"}},
		{"malformed YAML", with("--config", writeFile(t, "bad.yaml", "n: 20\ng: [1,\n")),
			[]string{"bad.yaml:2: ", "YAML syntax"}},
		{"unknown config key", with("--config", writeFile(t, "typo.yaml", "n: 20\nperturb_prb: 0.1\n")),
			[]string{"typo.yaml:2:1: perturb_prb: is not a known key", `did you mean "perturb_prob"`}},
		{"wrong config type", with("--config", writeFile(t, "type.yaml", "trials: many\n")),
			[]string{"type.yaml:1:9: trials:", "`many` into int"}},
		{"config not a mapping", with("--config", writeFile(t, "list.yaml", "- n: 3\n")),
			[]string{"list.yaml:1:1: ", "key: value"}},
		{"duplicate config key", with("--config", writeFile(t, "dup.yaml", "n: 1\nn: 2\n")),
			[]string{"dup.yaml:2:1: n: is given twice"}},
		{"rule and theta in config", with("--config", writeFile(t, "both.yaml", "rule: miconi\ntheta: [[1]]\n")),
			[]string{"both.yaml:2:1: theta: and rule (line 1) are both set"}},
		{"bad value from config", with("--config", writeFile(t, "neg.yaml", "eta: -1\n")),
			[]string{"neg.yaml:1: eta = -1"}},
		{"task params not a mapping", with("--config", writeFile(t, "tp.yaml", "task_params: 3\n")),
			[]string{"tp.yaml:1:14: task_params is not a mapping"}},
		{"unknown preset in config", with("--config", writeFile(t, "preset.yaml", "preset: nosuch\n")),
			[]string{`preset.yaml:1:9: preset: "nosuch" is not a preset`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, tc.args...)
			if code == 0 {
				t.Fatalf("exit code 0, want ≠ 0; stdout %q", stdout)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "rulescape: ") {
				t.Fatalf("stderr is not one line starting with \"rulescape: \": %q", stderr)
			}
			if !strings.Contains(lines[0], " — ") {
				t.Errorf("message says no fix (no \" — \"): %q", lines[0])
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("message %q lacks %q", lines[0], w)
				}
			}
		})
	}
}

// record mirrors the JSON object of one seed.
type record struct {
	Task              string     `json:"task"`
	Rule              string     `json:"rule"`
	Seed              uint64     `json:"seed"`
	Trials            int        `json:"trials"`
	TrialsToCriterion *int       `json:"trials_to_criterion"`
	FinalError        *float64   `json:"final_error"`
	FinalAccuracy     *float64   `json:"final_accuracy"`
	WallSeconds       float64    `json:"wall_seconds"`
	Errors            []*float64 `json:"errors"`
	Error             string     `json:"error"`
}

var wantFields = []string{"task", "rule", "seed", "trials", "trials_to_criterion",
	"final_error", "final_accuracy", "wall_seconds", "errors"}

// parseRecords parses one JSON object per line, checking the exact field set.
func parseRecords(t *testing.T, stdout string, extra ...string) []record {
	t.Helper()
	var recs []record
	for i, line := range strings.Split(strings.TrimRight(stdout, "\n"), "\n") {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("line %d is not a JSON object: %v\n%s", i+1, err, line)
		}
		var got []string
		for k := range fields {
			got = append(got, k)
		}
		want := append(append([]string(nil), wantFields...), extra...)
		if !sameSet(got, want) {
			t.Errorf("line %d has fields %v, want exactly %v", i+1, got, want)
		}
		var r record
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		recs = append(recs, r)
	}
	return recs
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func errorsOf(t *testing.T, r record) []float64 {
	t.Helper()
	out := make([]float64, len(r.Errors))
	for i, e := range r.Errors {
		if e == nil {
			t.Fatalf("seed %d: error %d is null", r.Seed, i)
		}
		out[i] = *e
	}
	return out
}

// criterionFrom recomputes trials to criterion from the per-trial errors:
// the first h+1 ≥ window with ≥ fraction·window of the last window errors
// below threshold, or −1.
func criterionFrom(errs []float64, thr float64, window int, frac float64) int {
	for h := window - 1; h < len(errs); h++ {
		below := 0
		for _, e := range errs[h-window+1 : h+1] {
			if e < thr {
				below++
			}
		}
		if float64(below) >= frac*float64(window) {
			return h + 1
		}
	}
	return -1
}

func TestTrainJSON(t *testing.T) {
	code, stdout, stderr := runCLI(t, with("--seeds", "2,1", "-o", "json", "--workers", "2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := parseRecords(t, stdout)
	if len(recs) != 2 || recs[0].Seed != 2 || recs[1].Seed != 1 {
		t.Fatalf("records are not one per seed in the order given: %+v", recs)
	}
	for _, r := range recs {
		if r.Task != "dnms" || r.Rule != "miconi" || r.Trials != 30 || len(r.Errors) != 30 {
			t.Errorf("seed %d: task %q rule %q trials %d errors %d; want dnms, miconi, 30, 30",
				r.Seed, r.Task, r.Rule, r.Trials, len(r.Errors))
		}
		errs := errorsOf(t, r)
		var mean float64
		for _, e := range errs[20:] {
			mean += e / 10
		}
		if r.FinalError == nil || math.Abs(*r.FinalError-mean) > 1e-12 {
			t.Errorf("seed %d: final_error %v, want the mean of the last 10 errors %v", r.Seed, r.FinalError, mean)
		}
		if r.FinalAccuracy == nil || *r.FinalAccuracy < 0 || *r.FinalAccuracy > 1 {
			t.Errorf("seed %d: final_accuracy %v not in [0, 1]", r.Seed, r.FinalAccuracy)
		}
		want := criterionFrom(errs, 0.5, 10, 0.95)
		got := -1
		if r.TrialsToCriterion != nil {
			got = *r.TrialsToCriterion
		}
		if got != want {
			t.Errorf("seed %d: trials_to_criterion %d, recomputed from errors %d", r.Seed, got, want)
		}
	}
	if reflect.DeepEqual(recs[0].Errors, recs[1].Errors) {
		t.Error("seeds 1 and 2 gave identical errors")
	}

	// The same seed gives the same errors, whatever the other seeds and workers.
	_, again, _ := runCLI(t, with("--seeds", "1", "-o", "json", "--workers", "1")...)
	rec := parseRecords(t, again)
	if !reflect.DeepEqual(errorsOf(t, rec[0]), errorsOf(t, recs[1])) {
		t.Error("seed 1 gave different errors in two runs")
	}
}

func TestTrainCriterionReached(t *testing.T) {
	// With a threshold no error reaches, every seed meets the criterion as
	// soon as the window is full.
	code, stdout, stderr := runCLI(t, with("--seeds", "1-3", "--criterion-threshold", "100", "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, r := range parseRecords(t, stdout) {
		if r.TrialsToCriterion == nil || *r.TrialsToCriterion != 10 {
			t.Errorf("seed %d: trials_to_criterion %v, want 10", r.Seed, r.TrialsToCriterion)
		}
	}
	_, text, _ := runCLI(t, with("--seeds", "1-3", "--criterion-threshold", "100")...)
	if !strings.Contains(text, "3 of 3 seeds reached the criterion; median 10 trials to criterion") {
		t.Errorf("text summary wrong:\n%s", text)
	}
}

func TestTrainText(t *testing.T) {
	code, stdout, stderr := runCLI(t, with("--seeds", "1-2")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"train dnms (T=60 steps, 4 conditions) with rule miconi, 2 seed(s) × 30 trials",
		"K=3 L=3 θ33=-1",
		"N=20 G=1.5",
		"decoupled p=0.003 A=16 from step 4",
		"η=0.1 gain=baseline clip=0.0003 warm-up=5",
		"error < 0.5 in ≥ 95% of the last 10 trials",
		"seed   trials   to criterion  final error  final accuracy",
		"seeds reached the criterion",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, stdout)
		}
	}
	for _, seed := range []string{"1", "2"} {
		row := regexp.MustCompile(`(?m)^ +` + seed + ` +30 +(not reached|\d+) +\d+\.\d{4} +\d+\.\d%  +\d+\.\ds$`)
		if !row.MatchString(stdout) {
			t.Errorf("no row for seed %s:\n%s", seed, stdout)
		}
	}
	if stderr != "" {
		t.Errorf("stderr = %q with --progress never", stderr)
	}
}

func TestTrainProgressAlways(t *testing.T) {
	code, _, stderr := runCLI(t, with("--seeds", "1-2", "--progress", "always")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "\rdnms/miconi [") || !strings.Contains(stderr, "60/60 100.0%") ||
		!strings.HasSuffix(stderr, "\n") {
		t.Errorf("no finished progress bar on stderr: %q", stderr)
	}
	// auto draws nothing when stderr is not a terminal.
	_, _, stderr = runCLI(t, with("--progress", "auto")...)
	if stderr != "" {
		t.Errorf("--progress auto drew on a buffer: %q", stderr)
	}
}

func TestTrainDiverging(t *testing.T) {
	// A bound on |W_ij| below the initial weights makes every seed diverge at
	// its first weight update, trial 5 after the warm-up.
	code, stdout, stderr := runCLI(t, with("--seeds", "1-2", "--max-weight", "0.01", "-o", "json")...)
	if code == 0 {
		t.Fatal("exit code 0 for diverging seeds")
	}
	recs := parseRecords(t, stdout, "error")
	if len(recs) != 2 {
		t.Fatalf("%d records, want one per seed", len(recs))
	}
	for _, r := range recs {
		if !strings.Contains(r.Error, "diverged at trial 5") || r.Trials != 5 || len(r.Errors) != 5 {
			t.Errorf("seed %d: error %q, trials %d, %d errors; want divergence at trial 5 after 5 trials",
				r.Seed, r.Error, r.Trials, len(r.Errors))
		}
	}
	if lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n"); len(lines) != 1 ||
		!strings.Contains(stderr, "2 of 2 seeds failed (1,2)") || !strings.Contains(stderr, "lower --eta") {
		t.Errorf("stderr = %q, want one line naming the failed seeds and a fix", stderr)
	}

	_, text, _ := runCLI(t, with("--seeds", "1", "--max-weight", "0.01")...)
	if !regexp.MustCompile(`(?m)^ +1 +5 +failed `).MatchString(text) || !strings.Contains(text, "seed 1: ") {
		t.Errorf("text output does not show the failed seed:\n%s", text)
	}
}

func TestTrainInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, with("--seeds", "1-3", "-o", "json"), &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "interrupted: 3 of 3 seeds did not finish") ||
		!strings.Contains(errb.String(), "--seeds 1,2,3") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}

func TestTrainConfigExample(t *testing.T) {
	// The documented example runs, and a flag overrides the file.
	code, stdout, stderr := runCLI(t, "train", "--config", "testdata/train.yaml", "--seeds", "4", "-o", "json", "--progress", "never")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	recs := parseRecords(t, stdout)
	if len(recs) != 1 || recs[0].Seed != 4 || recs[0].Trials != 30 {
		t.Errorf("records %+v, want seed 4 with the file's 30 trials", recs)
	}
}

func TestTrainTheta(t *testing.T) {
	// An explicit theta equal to a named rule trains identically to it.
	named := with("--rule", "node-perturbation", "--k", "1", "--l", "1", "-o", "json")
	explicit := with("--theta", "[[0,0],[0,-1]]", "-o", "json")
	_, a, errA := runCLI(t, named...)
	_, b, errB := runCLI(t, explicit...)
	ra, rb := parseRecords(t, a), parseRecords(t, b)
	if errA != "" || errB != "" {
		t.Fatalf("stderr %q %q", errA, errB)
	}
	if rb[0].Rule != "custom" || ra[0].Rule != "node-perturbation" {
		t.Errorf("rule names %q, %q; want node-perturbation, custom", ra[0].Rule, rb[0].Rule)
	}
	if !reflect.DeepEqual(errorsOf(t, ra[0]), errorsOf(t, rb[0])) {
		t.Error("theta [[0,0],[0,-1]] and node-perturbation (K = L = 1) gave different errors")
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, "version", "-o", "json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.EngineVersion != engineVersion || v.GoVersion == "" {
		t.Errorf("version -o json: exit %d, %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "rulescape engine "+engineVersion+"\n") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

// TestTrainPrecisionF32 trains on the float32 path from the command line:
// the header names the precision, and the run is reproducible.
func TestTrainPrecisionF32(t *testing.T) {
	var outs []string
	for range 2 {
		code, stdout, stderr := runCLI(t, with("--precision", "f32", "--seeds", "1-2")...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "precision=f32") {
			t.Fatalf("the header does not name the precision:\n%s", stdout)
		}
		outs = append(outs, regexp.MustCompile(`\d+\.\ds\n`).ReplaceAllString(stdout, "\n"))
	}
	if outs[0] != outs[1] {
		t.Fatalf("two f32 runs differ:\n%s\n%s", outs[0], outs[1])
	}
	_, f64, _ := runCLI(t, with("--seeds", "1-2")...)
	if strings.Contains(f64, "precision") {
		t.Fatalf("an f64 run's header mentions the precision:\n%s", f64)
	}
}
