package workflows

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"rulescape/internal/duckdbcheck"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// TestAnalysisEndToEnd runs testdata/analysis_e2e.yaml (two rules × 5
// seeds of DNMS) on the embedded stack with a real worker: train, then
// fixedpoints, rsa, landscape and sensitivity; it checks the committed
// datasets and the manifest, runs the campaign again (every unit a cache
// hit), reruns the landscape stage alone (forced), and — when node and
// @duckdb/node-api are available — opens each analysis dataset in DuckDB.
func TestAnalysisEndToEnd(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	home := t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	stack, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	st, err := store.New(ctx, store.Config{Endpoint: stack.S3Endpoint, AccessKey: stack.S3AccessKey, SecretKey: stack.S3SecretKey, Bucket: stack.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: stack.TemporalAddress, Namespace: stack.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, TaskQueue, worker.Options{StickyScheduleToStartTimeout: time.Second, MaxConcurrentActivityExecutionSize: 2})
	Register(w)
	w.RegisterActivity(&activities.Activities{Store: st, EngineVersion: "e2e", Workers: 1})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	data, err := os.ReadFile("testdata/analysis_e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	camp, err := pipelines.Parse("analysis_e2e.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	in := CampaignInput{CampaignID: camp.ID(), File: "analysis_e2e.yaml", YAML: data}
	runOnce := func(id string) *CampaignResult {
		t.Helper()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}, CampaignWorkflowName, in)
		if err != nil {
			t.Fatal(err)
		}
		var res CampaignResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		return &res
	}
	first := runOnce(WorkflowID(in.CampaignID))
	wantStatus := map[string]string{"train": StatusCompleted, "fixedpoints": StatusCompleted, "rsa": StatusCompleted,
		"landscape": StatusCompleted, "sensitivity": StatusCompleted}
	for _, s := range first.Stages {
		if s.Status != wantStatus[s.Name] || s.Done != s.Total || s.CacheHits != 0 {
			t.Errorf("first run: stage %+v", s)
		}
	}
	// 10 × (learning_curves, networks, fixed_points, sensitivity) + rdms +
	// rsa_pairs + landscape + landscape_pairs.
	if first.Datasets != 44 {
		t.Errorf("manifest lists %d datasets, want 44", first.Datasets)
	}
	counts := map[string]int{}
	for _, stage := range []string{"fixedpoints", "rsa", "landscape", "sensitivity"} {
		refs, err := st.List(ctx, in.CampaignID, stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			counts[r.Schema]++
		}
	}
	want := map[string]int{schemas.FixedPoints.ID(): 10, schemas.Sensitivity.ID(): 10, schemas.RDMs.ID(): 1, schemas.RSAPairs.ID(): 1,
		schemas.Landscape.ID(): 1, schemas.LandscapePairs.ID(): 1}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d datasets of %s, want %d (all: %v)", counts[k], k, n, counts)
		}
	}
	refs, err := st.List(ctx, in.CampaignID, "rsa")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if r.Schema != schemas.RSAPairs.ID() {
			continue
		}
		pairs, _, err := store.ReadRows[schemas.RSAPairRow](ctx, st, r)
		if err != nil {
			t.Fatal(err)
		}
		// 45 pairs × 3 measures + 2 permutation summaries + 2 same-seed means.
		if len(pairs) != 139 {
			t.Errorf("rsa_pairs has %d rows, want 139", len(pairs))
		}
		for _, p := range pairs {
			if p.ARule == "*" {
				t.Logf("%s: %.4f, p = %.4f", p.Method, p.Value, p.PValue)
			}
		}
	}
	fixedRows := 0
	fpRefs, err := st.List(ctx, in.CampaignID, "fixedpoints")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fpRefs {
		fixedRows += int(r.Rows)
	}
	lsRefs, err := st.List(ctx, in.CampaignID, "landscape")
	if err != nil {
		t.Fatal(err)
	}
	var landscapeKey string
	for _, r := range lsRefs {
		switch r.Schema {
		case schemas.Landscape.ID():
			landscapeKey = r.Key
			if int(r.Rows) != fixedRows {
				t.Errorf("landscape has %d rows, want one per fixed or slow point (%d)", r.Rows, fixedRows)
			}
		case schemas.LandscapePairs.ID():
			pairs, _, err := store.ReadRows[schemas.LandscapePairRow](ctx, st, r)
			if err != nil {
				t.Fatal(err)
			}
			// 45 pairs × 3 methods + the permutation test + the same-seed mean.
			if len(pairs) != 137 {
				t.Errorf("landscape_pairs has %d rows, want 137", len(pairs))
			}
			for _, p := range pairs {
				if p.ARule == "*" {
					t.Logf("landscape %s: %.4f, p = %.4f", p.Method, p.Value, p.PValue)
				}
			}
		}
	}

	// The new command sequence replays deterministically from a real
	// server's history.
	hist := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, WorkflowID(in.CampaignID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
	if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Fatalf("replaying the analysis run: %v", err)
	}

	second := runOnce(WorkflowID(in.CampaignID) + "-again")
	for _, s := range second.Stages {
		if s.Status != wantStatus[s.Name] || s.CacheHits != s.Total {
			t.Errorf("second run: stage %+v, want every unit a cache hit", s)
		}
	}

	// `rulescape rerun --stage landscape`: the landscape stage recomputes
	// (its fixed points come from the cached fixedpoints units) and
	// overwrites its datasets with the same bytes; the rest are hits.
	in.Force = []pipelines.StageName{pipelines.StageLandscape}
	third := runOnce(WorkflowID(in.CampaignID) + "-landscape")
	in.Force = nil
	for _, s := range third.Stages {
		hits := s.Total
		if s.Name == "landscape" {
			hits = 0
		}
		if s.Status != wantStatus[s.Name] || s.CacheHits != hits {
			t.Errorf("landscape rerun: stage %+v, want %d cache hits", s, hits)
		}
	}
	lsAgain, err := st.List(ctx, in.CampaignID, "landscape")
	if err != nil {
		t.Fatal(err)
	}
	if len(lsAgain) != len(lsRefs) {
		t.Errorf("landscape rerun: %d datasets, want %d", len(lsAgain), len(lsRefs))
	}
	before := map[string]string{}
	for _, r := range lsRefs {
		before[r.Key] = r.SHA256
	}
	for _, r := range lsAgain {
		if before[r.Key] != r.SHA256 {
			t.Errorf("landscape rerun: %s has digest %s, was %q: the stage is not deterministic", r.Key, r.SHA256, before[r.Key])
		}
	}
	if landscapeKey == "" {
		t.Error("no landscape dataset committed")
	}

	duckdbCheck(t, ctx, st, in.CampaignID)
}

// duckdbCheck downloads the analysis datasets and opens each kind in
// DuckDB with ../store/testdata/duckdb_check.mjs, or skips loudly.
func duckdbCheck(t *testing.T, ctx context.Context, st *store.Store, campaign string) {
	t.Helper()
	dir := t.TempDir()
	for _, stage := range []string{"fixedpoints", "rsa", "landscape", "sensitivity"} {
		refs, err := st.List(ctx, campaign, stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			body, err := st.Get(ctx, r.Key)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel("campaigns/"+campaign, r.Key)
			p := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, k := range []struct {
		glob string
		rows int
		args []string
	}{
		{"fixedpoints/fixed_points/*/*/*/*.parquet", -1, []string{"--hive"}},
		{"sensitivity/sensitivity/*/*/*/*.parquet", 10, []string{"--hive", "--vector", "singular_values"}},
		// Partitioned by task only: the script's --hive lists task, rule and seed.
		{"rsa/rdms/*/*.parquet", 10, nil},
		{"rsa/rsa_pairs/*/*.parquet", 139, nil},
		{"landscape/landscape/*/*.parquet", -1, []string{"--vector", "pc"}},
		{"landscape/landscape_pairs/*/*.parquet", 137, nil},
	} {
		res, ok := duckdbcheck.Run(t, filepath.Join(dir, k.glob), k.args...)
		if !ok {
			t.SkipNow()
		}
		if (k.rows >= 0 && res.Rows != int64(k.rows)) || res.Rows == 0 {
			t.Errorf("duckdb reads %d rows from %s, want %d", res.Rows, k.glob, k.rows)
		}
		if len(k.args) > 1 && k.args[len(k.args)-1] == "singular_values" && len(res.Vector) != 10 {
			t.Errorf("duckdb reads %d singular values from the first sensitivity row, want N = 10", len(res.Vector))
		}
		if len(k.args) == 2 && k.args[1] == "pc" && len(res.Vector) != 3 {
			t.Errorf("duckdb reads %d coordinates from the first landscape row, want pcs = 3", len(res.Vector))
		}
		t.Logf("duckdb: %s: %d rows, %d columns", k.glob, res.Rows, len(res.Columns))
	}
}
