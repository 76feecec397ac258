package workflows

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/internal/duckdbcheck"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// startStack starts the embedded stack (Temporal and versitygw) in a
// temporary home with a worker of the campaign workflows and activities,
// all stopped when the test ends, and returns a client and the store.
func startStack(t *testing.T, ctx context.Context) (client.Client, *store.Store) {
	t.Helper()
	home := t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	stack, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Stop() })
	st, err := store.New(ctx, store.Config{Endpoint: stack.S3Endpoint, AccessKey: stack.S3AccessKey, SecretKey: stack.S3SecretKey, Bucket: stack.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: stack.TemporalAddress, Namespace: stack.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	w := worker.New(c, TaskQueue, worker.Options{StickyScheduleToStartTimeout: time.Second, MaxConcurrentActivityExecutionSize: 2})
	Register(w)
	activities.Register(w, &activities.Activities{Store: st, EngineVersion: "e2e", Workers: 1})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return c, st
}

// planFile parses and plans a campaign file, as `rulescape run` does.
func planFile(t *testing.T, path string) *pipelines.Plan {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	camp, err := pipelines.Parse(filepath.Base(path), data)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := camp.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// runCampaign runs a campaign workflow to its end under the workflow ID id.
func runCampaign(t *testing.T, ctx context.Context, c client.Client, id string, in CampaignInput) *CampaignResult {
	t.Helper()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue}, CampaignWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res CampaignResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("campaign %s: %v", id, err)
	}
	return &res
}

// fetchHistory returns the full history of a workflow from the server.
func fetchHistory(t *testing.T, ctx context.Context, c client.Client, workflowID string) *historypb.History {
	t.Helper()
	hist := &historypb.History{}
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	return hist
}

// replay replays a history on this build's workflows (Register): the
// command sequence must be deterministic.
func replay(t *testing.T, hist *historypb.History) {
	t.Helper()
	if err := replayHistory(hist); err != nil {
		t.Fatalf("replaying a real run's history: %v", err)
	}
}

// TestAnalysisEndToEnd runs testdata/analysis_e2e.yaml (two rules × 5
// seeds of DNMS) on the embedded stack with a real worker: train, then
// fixedpoints, rsa, landscape, sensitivity and dsa; it checks the committed
// datasets and the manifest, runs the campaign again (every unit a cache
// hit), reruns the landscape stage alone (forced), and — when node and
// @duckdb/node-api are available — opens each analysis dataset in DuckDB.
func TestAnalysisEndToEnd(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c, st := startStack(t, ctx)
	plan := planFile(t, "testdata/analysis_e2e.yaml")
	in, err := NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	runOnce := func(id string, in CampaignInput) *CampaignResult {
		t.Helper()
		return runCampaign(t, ctx, c, id, in)
	}
	first := runOnce(WorkflowID(in.CampaignID), in)
	wantStatus := map[string]string{"train": StatusCompleted, "fixedpoints": StatusCompleted, "rsa": StatusCompleted,
		"landscape": StatusCompleted, "sensitivity": StatusCompleted, "dsa": StatusCompleted}
	for _, s := range first.Stages {
		if s.Status != wantStatus[s.Name] || s.Done != s.Total || s.CacheHits != 0 {
			t.Errorf("first run: stage %+v", s)
		}
	}
	// 10 × (learning_curves, networks, fixed_points, sensitivity) + rdms +
	// rsa_pairs + landscape + landscape_pairs + dsa_operators + dsa_pairs.
	if first.Datasets != 46 {
		t.Errorf("manifest lists %d datasets, want 46", first.Datasets)
	}
	counts := map[string]int{}
	for _, stage := range []string{"fixedpoints", "rsa", "landscape", "sensitivity", "dsa"} {
		refs, err := st.List(ctx, in.CampaignID, stage)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			counts[r.Schema]++
		}
	}
	want := map[string]int{schemas.FixedPoints.ID(): 10, schemas.Sensitivity.ID(): 10, schemas.RDMs.ID(): 1, schemas.RSAPairs.ID(): 1,
		schemas.Landscape.ID(): 1, schemas.LandscapePairs.ID(): 1, schemas.DSAOperators.ID(): 1, schemas.DSAPairs.ID(): 1}
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

	dsaRefs, err := st.List(ctx, in.CampaignID, "dsa")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range dsaRefs {
		switch r.Schema {
		case schemas.DSAOperators.ID():
			if r.Rows != 10 {
				t.Errorf("dsa_operators has %d rows, want one per network (10)", r.Rows)
			}
		case schemas.DSAPairs.ID():
			pairs, _, err := store.ReadRows[schemas.DSAPairRow](ctx, st, r)
			if err != nil {
				t.Fatal(err)
			}
			// 45 pairs × 3 methods + 2 permutation tests + 2 same-seed means.
			if len(pairs) != 139 {
				t.Errorf("dsa_pairs has %d rows, want 139", len(pairs))
			}
			for _, p := range pairs {
				if p.ARule == "*" {
					t.Logf("dsa %s: %.4f, p = %.4f", p.Method, p.Value, p.PValue)
				}
			}
		}
	}

	// The new command sequence replays deterministically from a real
	// server's history.
	replay(t, fetchHistory(t, ctx, c, WorkflowID(in.CampaignID)))

	second := runOnce(WorkflowID(in.CampaignID)+"-again", in)
	for _, s := range second.Stages {
		if s.Status != wantStatus[s.Name] || s.CacheHits != s.Total {
			t.Errorf("second run: stage %+v, want every unit a cache hit", s)
		}
	}

	// `rulescape rerun --stage landscape`: the landscape stage recomputes
	// (its fixed points come from the cached fixedpoints units) and
	// overwrites its datasets with the same bytes; the rest are hits.
	forced, err := NewInput(ctx, st, plan, []pipelines.StageName{pipelines.StageLandscape})
	if err != nil {
		t.Fatal(err)
	}
	if forced.Plan != in.Plan {
		t.Errorf("the same plan stored again has ref %+v, was %+v", forced.Plan, in.Plan)
	}
	third := runOnce(WorkflowID(in.CampaignID)+"-landscape", forced)
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
	for _, stage := range []string{"fixedpoints", "rsa", "landscape", "sensitivity", "dsa"} {
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
		{"dsa/dsa_operators/*/*.parquet", 10, []string{"--vector", "eigen_re"}},
		{"dsa/dsa_pairs/*/*.parquet", 139, nil},
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
		if len(k.args) == 2 && k.args[1] == "eigen_re" && len(res.Vector) != 10 {
			t.Errorf("duckdb reads %d eigenvalues from the first dsa_operators row, want rank = 10", len(res.Vector))
		}
		t.Logf("duckdb: %s: %d rows, %d columns", k.glob, res.Rows, len(res.Columns))
	}
}
