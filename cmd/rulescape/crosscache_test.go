package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rulescape/internal/duckdbcheck"
)

// TestCrossCampaignCacheHits: a second campaign whose metaopt job and
// train units another campaign already computed reuses them (cache hits under the first
// campaign's prefix). Its run summary says so and prints a DuckDB route
// that works — `datasets get` into one tree, then the printed query — and
// the downloaded tree has every dataset under the second campaign's own
// prefix.
func TestCrossCampaignCacheHits(t *testing.T) {
	_, _, _, _ = embeddedStack(t, 3*time.Minute)
	first := filepath.Join("testdata", "campaign_tiny.yaml")
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	// Only a stage setting differs: the train units are the same.
	spec := strings.Replace(string(data), "fixedpoints: {inits: 8, max_iters: 200}", "fixedpoints: {inits: 6, max_iters: 200}", 1)
	second := filepath.Join(t.TempDir(), "campaign_tiny_2.yaml")
	if err := os.WriteFile(second, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	a := runJSONCmd(t, "run", "-o", "json", "--progress", "never", first)

	code, out, errOut := runCLI(t, "run", "--progress", "never", second)
	if code != 0 {
		t.Fatalf("run %s: exit %d: %s", second, code, errOut)
	}
	id := regexp.MustCompile(`\(([0-9a-f]{16})\): completed`).FindStringSubmatch(out)
	if id == nil || id[1] == a.Campaign {
		t.Fatalf("second run's summary names no new completed campaign:\n%s", out)
	}
	// The metaopt job too: its result object lives beside the history,
	// under the first campaign, and is found there.
	if !regexp.MustCompile(`(?m)^  metaopt +1 units +1 cache hits`).MatchString(out) {
		t.Errorf("the second campaign recomputed the metaopt job the first one finished:\n%s", out)
	}
	if !strings.Contains(out, "cache hits kept under the prefix of the campaign that computed them") {
		t.Errorf("the summary does not say that some datasets live under another campaign's prefix:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^  rulescape datasets get ` + id[1] + ` --out results\n  duckdb -c "SELECT .* FROM read_parquet\('([^']+)', hive_partitioning = true\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the summary's DuckDB route is not `datasets get` then a query:\n%s", out)
	}
	dir := t.TempDir()
	if code, _, errOut := runCLI(t, "datasets", "get", id[1], "--out", filepath.Join(dir, "results")); code != 0 {
		t.Fatalf("datasets get: exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "results", "campaigns"))
	if err != nil || len(entries) != 1 || entries[0].Name() != id[1] {
		t.Errorf("datasets get wrote campaigns %v (%v), want only %s", entries, err, id[1])
	}
	if res, ok := duckdbcheck.Run(t, filepath.Join(dir, m[1]), "--hive"); ok && res.Rows != 4*30 {
		t.Errorf("the printed query reads %d learning-curve rows, want 4 networks × 30 trials", res.Rows)
	}
}
