package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/stages"
)

// TestLoadtestFlags: every bad flag is one line naming it and the fix,
// before any service is contacted.
func TestLoadtestFlags(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1") // nothing answers: a check that got past the flags would hang or fail otherwise
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "0"}, "--workers \"0\": want positive worker counts"},
		{[]string{"--workers", "8,x"}, "--workers \"8,x\""},
		{[]string{"--unit-seconds", "-1"}, "--unit-seconds -1: want 0 or more seconds"},
		{[]string{"--units", "0"}, "--units 0: want at least 1 unit"},
		{[]string{"--units", "2", "--analysis-units", "3"}, "--analysis-units 3: want 0 to --units (2)"},
		{[]string{"--repeat", "0"}, "--repeat 0: want at least 1 run"},
		{[]string{"--chunk", "-5"}, "--chunk -5"},
	} {
		code, out, errOut := runCLI(t, append([]string{"loadtest"}, tc.args...)...)
		if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("loadtest %v: exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", tc.args, code, out, errOut, tc.want)
		}
	}
	// The worker processes' flag too.
	code, out, errOut := runCLI(t, "worker", "--slots", "-1")
	if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "--slots -1: want 0 (one per core) or more") {
		t.Errorf("worker --slots -1: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestLoadtestPlan: the synthetic plan decodes as a stored plan does (its
// ID is the ID of its units), has the two hidden stages, and the analysis
// units read every first-stage unit exactly once; another tag is another
// campaign.
func TestLoadtestPlan(t *testing.T) {
	p, err := loadtestPlan(10, 3, 250, "a", 4)
	if err != nil {
		t.Fatal(err)
	}
	data, sum, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipelines.DecodePlan(data, sum); err != nil {
		t.Fatalf("the synthetic plan does not decode: %v", err)
	}
	if len(p.Stages) != 2 || p.Stages[0].Name != stages.StageLoadtest || len(p.Stages[0].Units) != 10 ||
		p.Stages[1].Name != stages.StageLoadtestAnalysis || len(p.Stages[1].Units) != 3 || p.MaxParallel != 4 {
		t.Fatalf("stages %+v", p.Stages)
	}
	read := map[string]int{}
	for _, u := range p.Analysis {
		if u.Stage == stages.StageLoadtestAnalysis {
			for _, in := range u.Inputs {
				read[in]++
			}
		}
	}
	for _, id := range p.Stages[0].Units {
		if read[id] != 1 {
			t.Errorf("%s is read by %d analysis units, want 1", id, read[id])
		}
	}
	q, err := loadtestPlan(10, 3, 250, "b", 4)
	if err != nil {
		t.Fatal(err)
	}
	if q.CampaignID == p.CampaignID {
		t.Errorf("tags a and b give the same campaign %s", p.CampaignID)
	}
}

// TestLoadtestBoundedHistory runs a scaled-down synthetic campaign (1 000
// train-like units in chunks of 400, 100 analysis-like units) on the
// embedded stack, then runs it again: the second run is all cache hits,
// and no workflow history of either run grows with the campaign beyond a
// chunk's. The manifest records the worker, attempt and wall time of every
// dataset. (`rulescape loadtest --units 5000 --analysis-units 500` is the
// full size; docs/SCALING.md.)
func TestLoadtestBoundedHistory(t *testing.T) {
	ctx, _, _, s := embeddedStack(t, 10*time.Minute)
	code, out, errOut := runCLI(t, "loadtest", "--workers", "8", "--units", "1000", "--analysis-units", "100", "--unit-seconds", "0",
		"--chunk", "400", "--repeat", "2", "--tag", "ci", "-o", "json")
	if code != 0 {
		t.Fatalf("loadtest: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var rows []loadtestRow
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var r loadtestRow
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2: %s", len(rows), out)
	}
	first, second := rows[0], rows[1]
	if first.Units != 1100 || first.Workers != 8 || first.Run != 1 || first.CacheHits != 0 || second.Run != 2 || second.CacheHits != 1100 {
		t.Fatalf("rows %+v, want 1 100 units computed, then 1 100 cache hits", rows)
	}
	// The campaign and 3 chunks of the train-like stage; the 100 analysis
	// units run in the campaign's history. In the cached run every chunk
	// is resolved ahead as all hits, so no chunk child starts.
	if first.Workflows != 4 || second.Workflows != 1 {
		t.Errorf("workflows %d and %d, want 4 (the campaign and 3 chunks), then 1 (the campaign: no chunk to run)", first.Workflows, second.Workflows)
	}
	// A computed unit costs a handful of events in one history: a chunk
	// of 400 stays far below a history proportional to the campaign.
	if first.MaxHistoryEvents > 5*400 || first.MaxHistoryBytes > 1<<20 || first.MaxEventBytes > 16<<10 {
		t.Errorf("first run: largest history %d events, %d bytes, event %d bytes; want at most 2 000 events, 1 MiB, 16 KiB",
			first.MaxHistoryEvents, first.MaxHistoryBytes, first.MaxEventBytes)
	}
	// Cache hits cost no events of their own.
	if second.MaxHistoryEvents > 100 || second.MaxEventBytes > 16<<10 {
		t.Errorf("second run: largest history %d events, event %d bytes; want at most 100 events (no per-unit events)", second.MaxHistoryEvents, second.MaxEventBytes)
	}
	m, err := manifest.Read(ctx, s, first.Campaign)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Datasets) != 1100 {
		t.Fatalf("manifest lists %d datasets, want 1 100", len(m.Datasets))
	}
	for _, e := range m.Datasets {
		if !strings.HasPrefix(e.Worker, "loadtest-") || e.Attempt != 1 || e.WallSeconds <= 0 || e.ComputedAt == nil {
			t.Fatalf("%s: worker %q attempt %d wall %v computed at %v; want a loadtest worker, attempt 1, wall > 0",
				e.Unit, e.Worker, e.Attempt, e.WallSeconds, e.ComputedAt)
		}
	}
}
