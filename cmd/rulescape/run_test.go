package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"rulescape/internal/duckdbcheck"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
	"rulescape/workflows"
)

// TestRunCampaign runs testdata/campaign_tiny.yaml (the quickstart's shape:
// a metaopt job, a named and a discovered rule, 2 seeds, analysis stages)
// end to end on the embedded stack, reads the datasets back, runs it again
// (all cache hits), asks `status`, and replays the recorded workflow
// history. With RULESCAPE_UPDATE_HISTORY=1 it also refreshes the newest history
// the workflows package replays in its unit tests.
func TestRunCampaign(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	home := t.TempDir()
	t.Setenv(devstack.EnvHome, home)
	t.Setenv(devstack.EnvTemporalAddr, "")
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	// The test owns the stack; the commands attach to it.
	st, err := devstack.Start(ctx, devstack.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Stop()
	file := filepath.Join("testdata", "campaign_tiny.yaml")

	first := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	if first.Status != "completed" || first.Report == nil || *first.Report != "s3://"+st.S3Bucket+"/campaigns/"+first.Campaign+"/report/index.html" {
		t.Fatalf("first run: %+v", first)
	}
	wantStages := map[string]stageJSON{
		"metaopt":     {Status: "completed", Units: 1},
		"train":       {Status: "completed", Units: 4},
		"fixedpoints": {Status: "completed", Units: 4},
		"report":      {Status: "completed", Units: 1},
	}
	checkStages(t, "first run", first, wantStages)

	s, err := store.New(ctx, store.Config{Endpoint: st.S3Endpoint, AccessKey: st.S3AccessKey, SecretKey: st.S3SecretKey, Bucket: st.S3Bucket})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := s.List(ctx, first.Campaign, "")
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, r := range refs {
		counts[r.Schema]++
		var rows int
		switch r.Schema {
		case schemas.LearningCurves.ID():
			got, info, err := store.ReadRows[schemas.LearningCurveRow](ctx, s, r)
			if err != nil {
				t.Fatal(err)
			}
			rows = len(got)
			if rows != 30 || info.Campaign != first.Campaign || info.EngineVersion != stages.Current()[pipelines.StageTrain] {
				t.Errorf("%s: %d rows, metadata %+v; want 30 rows of campaign %s computed by %s", r.Key, rows, info.Meta, first.Campaign, stages.Current()[pipelines.StageTrain])
			}
		case schemas.Networks.ID():
			got, _, err := store.ReadRows[schemas.NetworkRow](ctx, s, r)
			if err != nil {
				t.Fatal(err)
			}
			if rows = len(got); rows != 1 || got[0].N != 10 || got[0].Trials != 30 {
				t.Errorf("%s: %d rows, want 1 network of 10 units trained 30 trials", r.Key, rows)
			}
		case schemas.MetaoptHistory.ID():
			got, _, err := store.ReadRows[schemas.MetaoptRow](ctx, s, r)
			if err != nil {
				t.Fatal(err)
			}
			if rows = len(got); rows != 5 || !math.IsNaN(got[4].J) || got[4].Iter != 4 {
				t.Errorf("%s: %d rows, want 4 iterations and the final Θ (iter 4, J null)", r.Key, rows)
			}
		}
	}
	if counts[schemas.LearningCurves.ID()] != 4 || counts[schemas.Networks.ID()] != 4 || counts[schemas.MetaoptHistory.ID()] != 1 ||
		counts[schemas.FixedPoints.ID()] != 4 {
		t.Fatalf("committed datasets by schema %v, want 4 learning_curves, 4 networks, 1 metaopt_history, 4 fixed_points", counts)
	}
	if len(first.Datasets) != 13 {
		t.Errorf("run -o json lists %d datasets, want 13", len(first.Datasets))
	}
	man, err := s.Get(ctx, "campaigns/"+first.Campaign+"/manifest.json")
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var m struct {
		Datasets []json.RawMessage `json:"datasets"`
		Engine   string            `json:"engine_version"`
	}
	if err := json.Unmarshal(man, &m); err != nil || len(m.Datasets) != 13 || m.Engine != engineVersion {
		t.Errorf("manifest: %d datasets, engine %q (%v)", len(m.Datasets), m.Engine, err)
	}

	second := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	wantStages["metaopt"] = stageJSON{Status: "completed", Units: 1, CacheHits: 1}
	wantStages["train"] = stageJSON{Status: "completed", Units: 4, CacheHits: 4}
	wantStages["fixedpoints"] = stageJSON{Status: "completed", Units: 4, CacheHits: 4}
	wantStages["report"] = stageJSON{Status: "completed", Units: 1, CacheHits: 1} // the report is a cached unit
	checkStages(t, "second run", second, wantStages)
	if second.Campaign != first.Campaign {
		t.Fatalf("campaign ID changed between runs: %s, %s", first.Campaign, second.Campaign)
	}

	code, out, errOut := runCLI(t, "status", "-o", "json", file)
	if code != 0 {
		t.Fatalf("status: exit %d: %s", code, errOut)
	}
	var stat statusJSON
	if err := json.Unmarshal([]byte(out), &stat); err != nil || stat.Status != "completed" || len(stat.Stages) != 4 || stat.Stages[1].CacheHits != 4 {
		t.Fatalf("status -o json: %s (%v)", out, err)
	}

	// Wrong S3 credentials against the running Temporal: one line, exit 1.
	t.Setenv(devstack.EnvTemporalAddr, st.TemporalAddress)
	t.Setenv(store.EnvEndpoint, st.S3Endpoint)
	t.Setenv(store.EnvAccessKey, st.S3AccessKey)
	t.Setenv(store.EnvSecretKey, "wrong")
	code, out, errOut = runCLI(t, "run", file)
	if code != 1 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "credentials") {
		t.Errorf("wrong S3 secret: exit %d, stdout %q, stderr %q; want exit 1 and one line about the credentials", code, out, errOut)
	}
	// A profile of the Temporal config file (contrib/envconfig) instead of
	// TEMPORAL_ADDRESS: status reaches the same server.
	t.Setenv(store.EnvSecretKey, st.S3SecretKey)
	t.Setenv(devstack.EnvTemporalAddr, "")
	os.Unsetenv(devstack.EnvTemporalAddr) // set-but-empty would override the profile
	toml := filepath.Join(t.TempDir(), "temporal.toml")
	if err := os.WriteFile(toml, []byte("[profile.lab]\naddress = \""+st.TemporalAddress+"\"\nnamespace = \""+st.Namespace+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_CONFIG_FILE", toml)
	t.Setenv("TEMPORAL_PROFILE", "lab")
	if code, out, errOut := runCLI(t, "status", "-o", "json", file); code != 0 || !strings.Contains(out, `"completed"`) {
		t.Errorf("status through a TEMPORAL_PROFILE: exit %d, %s %s", code, out, errOut)
	}
	t.Setenv("TEMPORAL_PROFILE", "")
	t.Setenv("TEMPORAL_CONFIG_FILE", "")

	// The shipped quickstart, with the external-services code path off.
	quick := runJSONCmd(t, "run", "-o", "json", "--progress", "never", filepath.Join("..", "..", "pipelines", "quickstart.yaml"))
	if quick.Status != "completed" || quick.Stages["train"].Units != 9 || quick.Stages["metaopt"].Units != 1 || len(quick.Datasets) != 46 ||
		quick.Stages["landscape"].Status != "completed" || quick.Stages["dsa"].Status != "completed" || quick.Stages["atlas"].Status != "completed" {
		t.Errorf("quickstart: %+v", quick)
	}
	// The quickstart's learning curves, downloaded as plain Parquet files,
	// read back by the independent reader (DuckDB's Node client).
	qdir := filepath.Join(t.TempDir(), "quick")
	if code, _, errOut := runCLI(t, "datasets", "get", filepath.Join("..", "..", "pipelines", "quickstart.yaml"), "--out", qdir); code != 0 {
		t.Fatalf("datasets get quickstart: exit %d: %s", code, errOut)
	}
	qglob := filepath.Join(qdir, "campaigns", quick.Campaign, "train", "learning_curves", "*", "*", "*", "*.parquet")
	if res, ok := duckdbcheck.Run(t, qglob, "--hive"); ok {
		rules := map[string]bool{}
		for _, p := range res.Partitions {
			rules[p["rule"]] = true
		}
		if res.Rows != 9*600 || len(res.Columns) != 9 || len(res.Partitions) != 9 || len(rules) != 3 || res.KV["rulescape.campaign"] != quick.Campaign {
			t.Errorf("DuckDB over the quickstart: %d rows, %d columns, partitions %v, metadata %v; want 5400 rows of 9 columns in 9 partitions of 3 rules",
				res.Rows, len(res.Columns), res.Partitions, res.KV)
		}
	}
	var points, landscapeRows, families, ruleFamilies int64
	for _, d := range quick.Datasets {
		// fixed_points has one row per point found (at least one per input),
		// landscape one per fixed point; rsa_pairs one per network pair and
		// measure plus the permutation tests and same-seed means (36·3 + 2·2),
		// landscape_pairs 36·3 + 2.
		// dsa_pairs: 36 pairs × (dsa, dsa_frobenius, spectral) plus the
		// tests and same-seed means of dsa and spectral; the atlas has one
		// row per network, per family and per rule × family.
		want := map[string]int64{"learning_curves": 600, "networks": 1, "metaopt_history": 13, // 12 iterations and the final Θ
			"sensitivity": 1, "rdms": 9,
			"rsa_pairs": 112, "landscape_pairs": 110, "dsa_operators": 9, "dsa_pairs": 112, "atlas_networks": 9}[d.Kind]
		switch d.Kind {
		case "atlas_families":
			families = d.Rows
			continue
		case "atlas_rules":
			ruleFamilies = d.Rows
			continue
		case "fixed_points":
			points += d.Rows
		case "landscape":
			landscapeRows += d.Rows
		}
		if d.Kind == "fixed_points" || d.Kind == "landscape" {
			if d.Rows < 1 {
				t.Errorf("quickstart %s %s: no rows", d.Kind, d.URI)
			}
			continue
		}
		if d.Rows != want {
			t.Errorf("quickstart %s %s: %d rows, want %d", d.Kind, d.URI, d.Rows, want)
		}
	}

	if points == 0 || landscapeRows != points {
		t.Errorf("quickstart: %d landscape rows for %d fixed points, want one per point", landscapeRows, points)
	}
	if families < 1 || families > 8 || ruleFamilies != 3*families {
		t.Errorf("quickstart atlas: %d families and %d rule × family rows, want 1–8 families and 3 rows per family", families, ruleFamilies)
	}

	// A campaign whose metaopt job fails: exit 1, status failed, a short
	// error naming the job, the stages as far as they got, nothing listed.
	code, out, errOut = runCLI(t, "run", "-o", "json", "--progress", "never", filepath.Join("testdata", "campaign_fail.yaml"))
	var failed runJSON
	if err := json.Unmarshal([]byte(out), &failed); err != nil {
		t.Fatalf("failing campaign printed %q: %v", out, err)
	}
	if code != 1 || failed.Status != "failed" || !strings.HasPrefix(failed.Error, "metaopt/discovered failed: ") ||
		strings.Count(failed.Error, "diverged, need at least") != 1 || failed.Stages["metaopt"].Status != "failed" ||
		failed.Stages["train"].Status != "pending" || len(failed.Datasets) != 0 {
		t.Errorf("failing campaign: exit %d, %+v", code, failed)
	}

	// Record the latest run's history from the server and replay it.
	c := temporalClient(t, ctx, st.TemporalAddress, st.Namespace)
	hist := fetchHistory(t, ctx, c, workflows.WorkflowID(first.Campaign))
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: " "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "history.json")
	if os.Getenv("RULESCAPE_UPDATE_HISTORY") == "1" {
		path = filepath.Join("..", "..", "workflows", "testdata", "campaign_tiny_report_history.json")
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := worker.NewWorkflowReplayer()
	workflows.Register(r)
	// Under the campaign's workflow ID: its children's IDs derive from it.
	opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: workflows.WorkflowID(first.Campaign)}}
	if err := r.ReplayWorkflowHistoryWithOptions(nil, hist, opts); err != nil {
		t.Fatalf("replaying the recorded history: %v", err)
	}
}

// TestRunErrors: a bad file and an unreachable server fail with one line
// and exit status 1, and nothing is written.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\ntasks:\n  - name: gonogo\nrules:\n  - name: miconi\nseeds: 1-2\ntrain:\n  trials: -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	t.Setenv(devstack.EnvHome, home)
	for _, c := range []struct {
		name, addr, file, want string
	}{
		{"bad file", "", bad, bad + ":8:11: train.trials = -5"},
		{"no such file", "", filepath.Join(dir, "missing.yaml"), "no such file"},
		{"unreachable Temporal", "127.0.0.1:1", filepath.Join("testdata", "campaign_tiny.yaml"), "cannot reach Temporal at 127.0.0.1:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(devstack.EnvTemporalAddr, c.addr)
			code, out, errOut := runCLI(t, "run", c.file)
			if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", code, out, errOut, c.want)
			}
		})
	}
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("the failed runs created %s (%v)", home, err)
	}
}

// fetchHistory returns the full history of the latest run of a workflow.
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

func checkStages(t *testing.T, what string, got runJSON, want map[string]stageJSON) {
	t.Helper()
	if len(got.Stages) != len(want) {
		t.Fatalf("%s: stages %+v, want %+v", what, got.Stages, want)
	}
	for name, w := range want {
		g := got.Stages[name]
		g.Seconds = 0
		if g != w {
			t.Errorf("%s: stage %s = %+v, want %+v", what, name, g, w)
		}
	}
}

// runJSONCmd runs a command with -o json and decodes its one JSON object.
func runJSONCmd(t *testing.T, args ...string) runJSON {
	t.Helper()
	code, out, errOut := runCLI(t, args...)
	if code != 0 {
		t.Fatalf("rulescape %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	var r runJSON
	dec := json.NewDecoder(strings.NewReader(out))
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("rulescape %s printed %q: %v", strings.Join(args, " "), out, err)
	}
	if dec.More() {
		t.Fatalf("rulescape %s printed more than one JSON object: %q", strings.Join(args, " "), out)
	}
	return r
}
