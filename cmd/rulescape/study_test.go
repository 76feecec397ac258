package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	manifestpkg "rulescape/manifest"
	"rulescape/schemas"
	"rulescape/store"
)

// studyScaledDown turns the shipped study into the CI-sized version: the
// same tasks, rules, stages and settings' structure, with fewer seeds,
// iterations, trials, initial states and permutations, and smaller
// networks. Every replacement must match exactly once, so a change of the
// shipped file's shape breaks this test instead of silently testing
// something else.
var studyScaledDown = []struct{ from, to string }{
	{"  n: 50\n", "  n: 12\n"},
	{"overrides: {n: 30, eta: 1, clip: 0.01, trials: 1500}", "overrides: {n: 10, eta: 1, clip: 0.01, trials: 60}"},
	{"      iters: 80\n", "      iters: 2\n"},
	{"      learners: 8\n", "      learners: 2\n"},
	{"      trials: 1000             # horizon H", "      trials: 20             # horizon H"},
	{"      held_out: 8\n", "      held_out: 2\n"},
	{"      eval_every: 10\n", "      eval_every: 1\n"},
	{"seeds: 1-20                    # 1-10: discovery, 11-20: replication (docs/STUDY.md)\n", "seeds: 1-2\n"},
	{"  trials: 6000\n", "  trials: 80\n"},
	{"fixedpoints: {inits: 64, max_iters: 2000, tol: 1.0e-6}", "fixedpoints: {inits: 4, max_iters: 100, tol: 1.0e-6}"},
	{"rsa: {permutations: 1000, metric: correlation}", "rsa: {permutations: 20, metric: correlation}"},
	{"landscape: {pcs: 3, permutations: 1000}", "landscape: {pcs: 3, permutations: 20, connect_steps: 500}"},
	{"sensitivity: {perturbations: 20}", "sensitivity: {perturbations: 2}"},
}

// TestStudyScaledDown runs a scaled-down pipelines/rules-vs-solutions.yaml
// end to end on the embedded stack — meta-optimization on both tasks,
// training of the five rules on both, every analysis stage and the report
// — and checks that every stage completes, every dataset kind is there for
// both tasks, and the report has every figure, the landscape of both tasks
// included.
func TestStudyScaledDown(t *testing.T) {
	file := scaledDownPipeline(t, "rules-vs-solutions.yaml", studyScaledDown)
	ctx, _, _, s := embeddedStack(t, 5*time.Minute)

	res := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	if res.Status != "completed" {
		t.Fatalf("the scaled-down study: %+v", res)
	}
	want := map[string]int{"metaopt": 2, "train": 2 * 5 * 2, "fixedpoints": 20, "rsa": 2, "landscape": 2, "sensitivity": 20, "report": 1}
	for name, units := range want {
		if st := res.Stages[name]; st.Status != "completed" || st.Units != units {
			t.Errorf("stage %s: %+v, want completed with %d units", name, st, units)
		}
	}
	kinds := map[string]map[string]bool{} // kind → tasks
	for _, d := range res.Datasets {
		if kinds[d.Kind] == nil {
			kinds[d.Kind] = map[string]bool{}
		}
		for _, task := range []string{"dnms", "cdi"} {
			if strings.Contains(d.URI, "/task="+task+"/") {
				kinds[d.Kind][task] = true
			}
		}
	}
	for _, k := range []string{"learning_curves", "networks", "fixed_points", "rdms", "rsa_pairs", "landscape", "landscape_pairs", "sensitivity"} {
		if !kinds[k]["dnms"] || !kinds[k]["cdi"] {
			t.Errorf("dataset kind %s: tasks %v, want dnms and cdi", k, kinds[k])
		}
	}
	if !kinds["metaopt_history"]["dnms"] || !kinds["metaopt_history"]["cdi"] {
		t.Errorf("metaopt_history: tasks %v, want a job on each task", kinds["metaopt_history"])
	}

	page, err := s.Get(ctx, "campaigns/"+res.Campaign+"/report/index.html")
	if err != nil {
		t.Fatalf("the study's report: %v", err)
	}
	var figs []string
	for _, id := range []string{"fig-learning-curves", "fig-metaopt", "fig-metaopt-2", "fig-fixed-points", "fig-rdms",
		"fig-similarity", "fig-landscape-cdi", "fig-landscape-dnms", "fig-sensitivity"} {
		if strings.Contains(string(page), `<figure id="`+id+`">`) {
			figs = append(figs, id)
		}
	}
	if len(figs) != 9 {
		t.Errorf("the report has figures %v, want all 9", figs)
	}
	for _, r := range []string{"discovered-dnms", "discovered-cdi", "miconi", "node-perturbation", "random"} {
		if !strings.Contains(string(page), r) {
			t.Errorf("the report never names rule %s", r)
		}
	}
}

// scaledDownPipeline writes pipelines/NAME with every replacement applied
// to a temporary file and returns its path. Each replacement must match
// exactly once.
func scaledDownPipeline(t *testing.T, name string, replacements []struct{ from, to string }) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "pipelines", name))
	if err != nil {
		t.Fatal(err)
	}
	spec := string(data)
	for _, r := range replacements {
		if n := strings.Count(spec, r.from); n != 1 {
			t.Fatalf("pipelines/%s has %q %d times, want once: update the test's replacements", name, r.from, n)
		}
		spec = strings.Replace(spec, r.from, r.to, 1)
	}
	file := filepath.Join(t.TempDir(), strings.TrimSuffix(name, ".yaml")+"-ci.yaml")
	if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// fullStudyScaledDown turns pipelines/rules-vs-solutions-full.yaml into its
// CI-sized version: the same tasks (at full trial length), rules, K = L = 5
// job, precisions and stages, with 2 seeds, small networks, 2
// meta-iterations of 2 learners over 20 trials, few trials, initial states
// and permutations.
var fullStudyScaledDown = []struct{ from, to string }{
	{"overrides: {trials: 3000}", "overrides: {trials: 40, n: 12}"},
	{"overrides: {trials: 6000}", "overrides: {trials: 40, n: 10}"},
	{"      iters: 12\n", "      iters: 2\n"},
	{"      learners: 4\n", "      learners: 2\n"},
	{"      trials: 1000             # horizon H", "      trials: 20             # horizon H"},
	{"      held_out: 8\n", "      held_out: 2\n"},
	{"      eval_every: 4\n", "      eval_every: 1\n"},
	{"      iters: 10\n", "      iters: 2\n"},
	{"      trials: 2000             # CDI", "      trials: 20             # CDI"},
	{"seeds: 1-20                    # 1-10: discovery, 11-20: replication (docs/STUDY.md)\n", "seeds: 1-2\n"},
	{"fixedpoints: {inits: 32, max_iters: 1000, tol: 1.0e-6}", "fixedpoints: {inits: 4, max_iters: 100, tol: 1.0e-6}"},
	{"rsa: {permutations: 1000, metric: correlation}", "rsa: {permutations: 20, metric: correlation}"},
	{"landscape: {pcs: 3, permutations: 1000}", "landscape: {pcs: 3, permutations: 20, connect_steps: 500}"},
	{"dsa: {permutations: 1000}", "dsa: {permutations: 20, restarts: 2}"},
	{"atlas: {permutations: 1000}", "atlas: {permutations: 20, resamples: 4}"},
	{"sensitivity: {perturbations: 20}", "sensitivity: {perturbations: 2}"},
}

// TestFullStudyScaledDown runs pipelines/rules-vs-solutions-full.yaml scaled
// down on the embedded stack: three meta-optimization jobs (one of them
// K = L = 5, in float64) feeding float32 training of the six rules on their
// tasks, every analysis stage and the report. It checks every stage's unit
// count, that the K = L = 5 rule's networks carry a 6×6 Θ, and that the
// report names every rule and has the dsa and atlas sections.
func TestFullStudyScaledDown(t *testing.T) {
	file := scaledDownPipeline(t, "rules-vs-solutions-full.yaml", fullStudyScaledDown)
	ctx, _, _, s := embeddedStack(t, 5*time.Minute)

	res := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	if res.Status != "completed" {
		t.Fatalf("the scaled-down full study: %+v", res)
	}
	// dnms: 2 discovered + miconi, node-perturbation, random; cdi: 1 discovered + the same 3.
	nets := 2 * (5 + 4)
	want := map[string]int{"metaopt": 3, "train": nets, "fixedpoints": nets, "rsa": 2, "landscape": 2,
		"dsa": 2, "atlas": 2, "sensitivity": nets, "report": 1}
	for name, units := range want {
		if st := res.Stages[name]; st.Status != "completed" || st.Units != units {
			t.Errorf("stage %s: %+v, want completed with %d units", name, st, units)
		}
	}
	m, err := manifestpkg.Read(ctx, s, res.Campaign)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]int{} // metaopt unit → P
	for _, d := range m.Datasets {
		if d.Kind != string(schemas.MetaoptHistory) {
			continue
		}
		rows, _, err := store.ReadRows[schemas.MetaoptRow](ctx, s, d.Ref)
		if err != nil {
			t.Fatalf("%s: %v", d.Unit, err)
		}
		sizes[d.Unit] = len(rows[0].Theta)
	}
	for unit, p := range map[string]int{"metaopt/discovered-dnms": 16, "metaopt/discovered-dnms-k5": 36, "metaopt/discovered-cdi": 16} {
		if sizes[unit] != p {
			t.Errorf("%s: Θ has %d coefficients, want %d (all jobs: %v)", unit, sizes[unit], p, sizes)
		}
	}
	page, err := s.Get(ctx, "campaigns/"+res.Campaign+"/report/index.html")
	if err != nil {
		t.Fatalf("the report: %v", err)
	}
	for _, r := range []string{"discovered-dnms-k5", "discovered-dnms", "discovered-cdi", "miconi", "node-perturbation", "random"} {
		if !strings.Contains(string(page), r) {
			t.Errorf("the report never names rule %s", r)
		}
	}
	for _, id := range []string{"fig-metaopt", "fig-metaopt-2", "fig-metaopt-3", "fig-learning-curves"} {
		if !strings.Contains(string(page), `<figure id="`+id+`">`) {
			t.Errorf("the report has no figure %s", id)
		}
	}
}
