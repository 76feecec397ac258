package workflows

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"rulescape/internal/duckdbcheck"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// shrunkAtlas returns pipelines/solution-atlas.yaml shrunk for CI: 5 of its
// rules (Miconi's, node perturbation, post-synaptic Hebbian and two random
// points) × 6 seeds, 100 training trials, and fewer permutations; every
// stage and setting else as shipped.
func shrunkAtlas(t *testing.T) *pipelines.Plan {
	t.Helper()
	data, err := os.ReadFile("../pipelines/solution-atlas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	rules := doc["rules"].([]any)
	doc["name"] = "solution-atlas-ci"
	doc["rules"] = []any{rules[0], rules[2], rules[4], rules[5], rules[6]}
	doc["seeds"] = "1-6"
	doc["train"].(map[string]any)["trials"] = 100
	st := doc["stages"].(map[string]any)
	st["landscape"].(map[string]any)["permutations"] = 50
	st["dsa"].(map[string]any)["permutations"] = 50
	st["atlas"].(map[string]any)["permutations"] = 200
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	camp, err := pipelines.Parse("solution-atlas-ci.yaml", out)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestAtlasEndToEnd runs the shipped solution-atlas pipeline shrunk to 5
// rules × 6 seeds on the embedded stack with a real worker — train,
// fixedpoints, landscape, dsa (spectral distance only), atlas and the
// report — and checks the atlas datasets: every network in exactly one
// family, one medoid per family and a member of it, family sizes that
// match, stabilities in [0, 1], a rule × family table that counts every
// network; then DuckDB reads them.
func TestAtlasEndToEnd(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c, st := startStack(t, ctx)
	plan := shrunkAtlas(t)
	in, err := NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := runCampaign(t, ctx, c, WorkflowID(in.CampaignID), in)
	for _, s := range res.Stages {
		if s.Status != StatusCompleted || s.Done != s.Total {
			t.Errorf("stage %+v, want completed", s)
		}
		t.Logf("stage %s: %d units, %.1f s", s.Name, s.Total, s.Seconds(time.Now()))
	}
	if s := plan.Stage(pipelines.StageAtlas); s == nil || len(s.Units) != 1 {
		t.Fatalf("plan's atlas stage %+v, want one unit", s)
	}

	refs, err := st.List(ctx, in.CampaignID, "atlas")
	if err != nil {
		t.Fatal(err)
	}
	var nets []schemas.AtlasNetworkRow
	var fams []schemas.AtlasFamilyRow
	var rules []schemas.AtlasRuleRow
	for _, r := range refs {
		switch r.Schema {
		case schemas.AtlasNetworks.ID():
			nets, _, err = store.ReadRows[schemas.AtlasNetworkRow](ctx, st, r)
		case schemas.AtlasFamilies.ID():
			fams, _, err = store.ReadRows[schemas.AtlasFamilyRow](ctx, st, r)
		case schemas.AtlasRules.ID():
			rules, _, err = store.ReadRows[schemas.AtlasRuleRow](ctx, st, r)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	const networks = 30
	if len(nets) != networks || len(fams) == 0 {
		t.Fatalf("atlas_networks has %d rows (want %d), atlas_families %d", len(nets), networks, len(fams))
	}
	type id struct {
		rule string
		seed int64
	}
	seen := map[id]bool{}
	size := make([]int, len(fams))
	medoid := make([]id, len(fams))
	medoids := make([]int, len(fams))
	for _, r := range nets {
		k := id{r.Rule, r.Seed}
		if seen[k] {
			t.Errorf("network %s/%d has two rows", r.Rule, r.Seed)
		}
		seen[k] = true
		if r.Family < 0 || int(r.Family) >= len(fams) {
			t.Fatalf("network %s/%d in family %d of %d", r.Rule, r.Seed, r.Family, len(fams))
		}
		size[r.Family]++
		if r.Medoid {
			medoids[r.Family]++
			medoid[r.Family] = k
		}
		if len(fams) > 1 && !(r.Silhouette >= -1 && r.Silhouette <= 1) {
			t.Errorf("network %s/%d: silhouette %g", r.Rule, r.Seed, r.Silhouette)
		}
	}
	for _, f := range fams {
		i := f.Family
		if int(f.Families) != len(fams) || int(f.Size) != size[i] {
			t.Errorf("family %d: families %d size %d; the networks say %d and %d", i, f.Families, f.Size, len(fams), size[i])
		}
		if medoids[i] != 1 || medoid[i] != (id{f.MedoidRule, f.MedoidSeed}) {
			t.Errorf("family %d: %d medoid rows (%v), the family row says %s/%d", i, medoids[i], medoid[i], f.MedoidRule, f.MedoidSeed)
		}
		if !(f.Stability >= 0 && f.Stability <= 1) || !(f.CramersV >= 0 && f.CramersV <= 1) || !(f.Rand <= 1) {
			t.Errorf("family %d: stability %g, V %g, Rand %g", i, f.Stability, f.CramersV, f.Rand)
		}
		if len(fams) > 1 && !(f.PValue > 0 && f.PValue <= 1 && f.Permutations == 200) {
			t.Errorf("family %d: p %g from %d permutations, want a p-value from 200", i, f.PValue, f.Permutations)
		}
		t.Logf("family %d: %d networks, stability %.2f, prototype %s/%d, V = %.2f, p = %.3f",
			i, f.Size, f.Stability, f.MedoidRule, f.MedoidSeed, f.CramersV, f.PValue)
	}
	total := 0
	perRule := map[string]float64{}
	for _, r := range rules {
		total += int(r.Count)
		perRule[r.Rule] += r.Share
	}
	if total != networks || len(rules) != 5*len(fams) {
		t.Errorf("atlas_rules: %d rows counting %d networks, want %d rows counting %d", len(rules), total, 5*len(fams), networks)
	}
	for rule, s := range perRule {
		if math.Abs(s-1) > 1e-12 {
			t.Errorf("rule %s: shares sum to %g, want 1", rule, s)
		}
	}
	if res.Report == "" {
		t.Error("no report written")
	}

	dir := t.TempDir()
	for _, r := range refs {
		body, err := st.Get(ctx, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel("campaigns/"+in.CampaignID, r.Key)
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []struct {
		glob string
		rows int
	}{
		{"atlas/atlas_networks/*/*.parquet", networks},
		{"atlas/atlas_families/*/*.parquet", len(fams)},
		{"atlas/atlas_rules/*/*.parquet", len(rules)},
	} {
		got, ok := duckdbcheck.Run(t, filepath.Join(dir, k.glob))
		if !ok {
			break
		}
		if got.Rows != int64(k.rows) {
			t.Errorf("duckdb reads %d rows from %s, want %d", got.Rows, k.glob, k.rows)
		}
		t.Logf("duckdb: %s: %d rows, columns %v", k.glob, got.Rows, got.Names())
	}
	t.Logf("campaign and checks: %.1f s", time.Since(start).Seconds())
}
