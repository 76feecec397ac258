package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"rulescape/internal/duckdbcheck"
	"rulescape/manifest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/internal/devstack"
	"rulescape/pipelines"
	"rulescape/store"
	"rulescape/workflows"
)

// TestRerunDatasetsShare runs testdata/campaign_tiny.yaml on the embedded
// stack and then exercises what works on a finished campaign: `datasets
// ls` and `get` (read back by DuckDB), `share` (the URLs return the exact
// bytes and are refused after expiry) and `rerun --stage` (recomputes that
// stage and its downstream, nothing upstream, as the run summary and the
// commit markers show).
func TestRerunDatasetsShare(t *testing.T) {
	ctx, home, st, s := embeddedStack(t, 3*time.Minute)
	file := filepath.Join("testdata", "campaign_tiny.yaml")

	// Before any run: no manifest, one line, exit 1.
	for _, args := range [][]string{{"datasets", "ls", file}, {"share", file}, {"rerun", "0123456789abcdef", "--stage", "train"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "has no manifest") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v before a run: exit %d, stdout %q, stderr %q; want exit 1 and one line about the missing manifest", args, code, out, errOut)
		}
	}

	first := runJSONCmd(t, "run", "-o", "json", "--progress", "never", file)
	if first.Status != "completed" {
		t.Fatalf("run: %+v", first)
	}
	id := first.Campaign

	// datasets ls
	code, out, errOut := runCLI(t, "datasets", "ls", "-o", "json", id)
	if code != 0 {
		t.Fatalf("datasets ls: exit %d: %s", code, errOut)
	}
	var ls manifest.Listing
	if err := json.Unmarshal([]byte(out), &ls); err != nil {
		t.Fatal(err)
	}
	var wantParts []map[string]string
	for _, rule := range []string{"discovered", "miconi"} {
		for _, seed := range []string{"1", "2"} {
			wantParts = append(wantParts, map[string]string{"task": "gonogo", "rule": rule, "seed": seed})
		}
	}
	var lcParts []map[string]string
	kinds := map[string]int{}
	for _, d := range ls.Datasets {
		kinds[d.Stage+"/"+d.Kind]++
		ref, ok, err := s.Lookup(ctx, d.Key[strings.LastIndex(d.Key, "part-")+5:strings.LastIndex(d.Key, ".")])
		if err != nil || !ok || ref.SHA256 != d.SHA256 || ref.Rows != d.Rows || ref.Size != d.Size {
			t.Errorf("ls entry %+v does not match its commit marker %+v (%v, %v)", d, ref, ok, err)
		}
		if d.Kind == "learning_curves" {
			lcParts = append(lcParts, d.Partitions)
			if d.Rows != 30 {
				t.Errorf("%s: %d rows, want 30", d.Key, d.Rows)
			}
		}
		if d.Kind == "metaopt_history" && !reflect.DeepEqual(d.Partitions, map[string]string{"task": "gonogo", "rule": "discovered"}) {
			t.Errorf("metaopt_history partitions %v", d.Partitions)
		}
	}
	slices.SortFunc(lcParts, func(a, b map[string]string) int { return strings.Compare(a["rule"]+a["seed"], b["rule"]+b["seed"]) })
	if !reflect.DeepEqual(kinds, map[string]int{"metaopt/metaopt_history": 1, "train/learning_curves": 4, "train/networks": 4, "fixedpoints/fixed_points": 4}) || !reflect.DeepEqual(lcParts, wantParts) {
		t.Errorf("datasets ls: kinds %v, learning_curves partitions %v; want 1+4+4+4 and %v", kinds, lcParts, wantParts)
	}
	code, out, _ = runCLI(t, "datasets", "ls", file)
	if code != 0 || strings.Count(out, "\n") != 15 || !strings.Contains(out, "task=gonogo rule=miconi seed=2") {
		t.Errorf("datasets ls (text): exit %d\n%s", code, out)
	}

	// datasets get, read back by DuckDB.
	dir := filepath.Join(t.TempDir(), "dl")
	code, out, errOut = runCLI(t, "datasets", "get", "-o", "json", file, "--out", dir)
	if code != 0 {
		t.Fatalf("datasets get: exit %d: %s", code, errOut)
	}
	var got manifest.Downloaded
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Files) != 13 {
		t.Fatalf("datasets get printed %s (%v)", out, err)
	}
	for _, d := range ls.Datasets {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d.Key)))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != d.SHA256 {
			t.Errorf("downloaded %s differs from its commit marker's SHA-256", d.Key)
		}
		// A plain Parquet file: the magic at both ends, nothing wrapped.
		if len(data) < 12 || string(data[:4]) != "PAR1" || string(data[len(data)-4:]) != "PAR1" || !strings.HasSuffix(d.Key, ".parquet") {
			t.Errorf("downloaded %s is not a plain Parquet file", d.Key)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "campaigns", id, "manifest.json")); err != nil {
		t.Error(err)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, "campaigns", id, "*", "*", "*", "*", "*", ".*tmp*")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
	glob := filepath.Join(dir, "campaigns", id, "train", "learning_curves", "*", "*", "*", "*.parquet")
	if res, ok := duckdbcheck.Run(t, glob, "--hive"); ok {
		wantCols := []string{"campaign", "task", "rule", "seed", "trial", "condition", "error", "reward", "correct"}
		var cols []string
		for _, c := range res.Columns {
			cols = append(cols, c.Name)
		}
		if res.Rows != 4*30 || !slices.Equal(cols, wantCols) || !reflect.DeepEqual(res.Partitions, wantParts) || res.KV["rulescape.campaign"] != id {
			t.Errorf("DuckDB over the download: %d rows, columns %v, partitions %v, metadata %v; want 120 rows, %v, %v, campaign %s",
				res.Rows, cols, res.Partitions, res.KV, wantCols, wantParts, id)
		}
	}

	// share: curl gets the exact bytes; the snippets read them; expiry.
	t.Run("share", func(t *testing.T) { checkShare(t, ctx, s, id, file, ls.Datasets) })
	code, out, errOut = runCLI(t, "share", id, "--expires", "200h")
	if code != 1 || out != "" || !strings.Contains(errOut, "7 days") {
		t.Errorf("share --expires 200h: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	// rerun --dry-run, by ID (the file comes from the manifest).
	code, out, errOut = runCLI(t, "rerun", "-o", "json", id, "--stage", "train", "--dry-run")
	if code != 0 {
		t.Fatalf("rerun --dry-run: exit %d: %s", code, errOut)
	}
	var dry rerunPlanJSON
	if err := json.Unmarshal([]byte(out), &dry); err != nil {
		t.Fatal(err)
	}
	want := rerunPlanJSON{Campaign: id, Stage: "train", DryRun: true,
		Recompute: []stageUnits{{"train", 4}, {"fixedpoints", 4}, {"report", 1}},
		Cached:    []stageUnits{{"metaopt", 1}}}
	if !reflect.DeepEqual(dry, want) {
		t.Errorf("rerun --dry-run: %+v, want %+v", dry, want)
	}
	code, _, errOut = runCLI(t, "rerun", id, "--stage", "rsa")
	if code != 1 || !strings.Contains(errOut, "no such stage — its stages are metaopt, train, fixedpoints, report") {
		t.Errorf("rerun --stage rsa: exit %d, %q", code, errOut)
	}

	// rerun --stage train: train recomputed, metaopt cached.
	before := committedTimes(t, ctx, s, id)
	re := runJSONCmd(t, "rerun", "-o", "json", "--progress", "never", file, "--stage", "train")
	checkStages(t, "rerun --stage train", re, map[string]stageJSON{
		"metaopt":     {Status: "completed", Units: 1, CacheHits: 1},
		"train":       {Status: "completed", Units: 4, CacheHits: 0},
		"fixedpoints": {Status: "completed", Units: 4, CacheHits: 0},
		"report":      {Status: "completed", Units: 1},
	})
	after := committedTimes(t, ctx, s, id)
	for ck, b := range before {
		a, ok := after[ck]
		switch {
		case !ok:
			t.Errorf("dataset %s (%s) is gone from the manifest after rerun --stage train", ck, b.stage)
		case b.stage == "train" && !a.at.After(b.at):
			t.Errorf("train dataset %s: committed %v before and %v after the rerun; want it rewritten", ck, b.at, a.at)
		case b.stage == "metaopt" && !a.at.Equal(b.at):
			t.Errorf("metaopt dataset %s: committed %v, then %v; want it untouched", ck, b.at, a.at)
		}
	}
	// Its history replays.
	c := temporalClient(t, ctx, st.TemporalAddress, st.Namespace)
	replay(t, ctx, c, workflows.WorkflowID(id))

	// rerun --stage metaopt: both recomputed (train depends on metaopt).
	re = runJSONCmd(t, "rerun", "-o", "json", "--progress", "never", id, "--stage", "metaopt")
	checkStages(t, "rerun --stage metaopt", re, map[string]stageJSON{
		"metaopt":     {Status: "completed", Units: 1, CacheHits: 0},
		"train":       {Status: "completed", Units: 4, CacheHits: 0},
		"fixedpoints": {Status: "completed", Units: 4, CacheHits: 0},
		"report":      {Status: "completed", Units: 1},
	})
	third := committedTimes(t, ctx, s, id)
	stages := map[string]int{}
	for ck, a := range third {
		stages[a.stage]++
		if b, ok := after[ck]; ok && !a.at.After(b.at) {
			t.Errorf("%s dataset %s: committed %v before and %v after rerun --stage metaopt; want it rewritten", a.stage, ck, b.at, a.at)
		}
	}
	if stages["metaopt"] != 1 || stages["train"] != 8 {
		t.Errorf("manifest after rerun --stage metaopt: datasets by stage %v, want 1 metaopt and 8 train", stages)
	}
	// Train datasets whose content keys changed with the new history are
	// no longer committed; the listing shows exactly the manifest's.
	refs, err := s.List(ctx, id, "train")
	if err != nil || len(refs) != 8 {
		t.Errorf("store.List of train after the reruns: %d datasets (%v), want 8", len(refs), err)
	}
	// Nor are their objects: a glob over the stage matches the manifest.
	onDisk, err := filepath.Glob(filepath.Join(home, "objects", s.Bucket(), "campaigns", id, "train", "*", "*", "*", "*", "*.parquet"))
	if err != nil || len(onDisk) != 8 {
		t.Errorf("files under the train stage after the reruns: %d (%v), want 8", len(onDisk), err)
	}

	// A rerun of a running campaign fails instead of attaching.
	running, _, err := readCampaign(file)
	if err != nil {
		t.Fatal(err)
	}
	runningPlan, err := running.Plan()
	if err != nil {
		t.Fatal(err)
	}
	in, err := workflows.NewInput(ctx, s, runningPlan, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.WorkflowID(id), TaskQueue: "nobody-polls-this"},
		workflows.CampaignWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	defer c.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "test over")
	code, out, errOut = runCLI(t, "rerun", file, "--stage", "train")
	if code != 1 || out != "" || !strings.Contains(errOut, "is running") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("rerun of a running campaign: exit %d, stdout %q, stderr %q; want one line saying it is running", code, out, errOut)
	}
}

// TestRerunStages: the downstream closure over a plan's After lists.
func TestRerunStages(t *testing.T) {
	plan := &pipelines.Plan{Name: "x", Stages: []pipelines.Stage{
		{Name: "metaopt"}, {Name: "train", After: []pipelines.StageName{"metaopt"}},
		{Name: "fixedpoints", After: []pipelines.StageName{"train"}}, {Name: "rsa", After: []pipelines.StageName{"train"}},
		{Name: "report", After: []pipelines.StageName{"fixedpoints", "rsa"}},
	}}
	names := func(ss []pipelines.Stage) string {
		var out []string
		for _, s := range ss {
			out = append(out, string(s.Name))
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ stage, force, cached string }{
		{"metaopt", "metaopt,train,fixedpoints,rsa,report", ""},
		{"train", "train,fixedpoints,rsa,report", "metaopt"},
		{"rsa", "rsa,report", "metaopt,train,fixedpoints"},
		{"report", "report", "metaopt,train,fixedpoints,rsa"},
	} {
		force, cached, err := workflows.RerunStages(plan, pipelines.StageName(c.stage))
		if err != nil || names(force) != c.force || names(cached) != c.cached {
			t.Errorf("--stage %s: force %s, cached %s (%v); want %s and %s", c.stage, names(force), names(cached), err, c.force, c.cached)
		}
	}
	if _, _, err := workflows.RerunStages(plan, "landscape"); err == nil || !strings.Contains(err.Error(), "metaopt, train, fixedpoints, rsa, report") {
		t.Errorf("unknown stage: %v", err)
	}
}

// TestRerunStagesLandscape: in a plan with landscape (the quickstart),
// rerunning fixedpoints also reruns landscape, which reads its fixed
// points, and rerunning landscape reruns it alone (and the report).
func TestRerunStagesLandscape(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "pipelines", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse("quickstart.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	names := func(ss []pipelines.Stage) string {
		var out []string
		for _, s := range ss {
			out = append(out, string(s.Name))
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ stage, force string }{
		{"fixedpoints", "fixedpoints,landscape,atlas,report"},
		{"landscape", "landscape,atlas,report"},
		{"rsa", "rsa,report"},
		{"dsa", "dsa,atlas,report"},
		{"atlas", "atlas,report"},
	} {
		force, _, err := workflows.RerunStages(plan, pipelines.StageName(c.stage))
		if err != nil || names(force) != c.force {
			t.Errorf("--stage %s: force %s (%v), want %s", c.stage, names(force), err, c.force)
		}
	}
}

// TestCampaignArg: a file is parsed, an ID accepted, anything else refused
// without contacting a service.
func TestCampaignArg(t *testing.T) {
	ca, err := parseCampaignArg(filepath.Join("testdata", "campaign_tiny.yaml"))
	if err != nil || ca.spec == nil || ca.id != ca.spec.ID() {
		t.Fatalf("file: %+v, %v", ca, err)
	}
	if ca, err := parseCampaignArg("0123456789abcdef"); err != nil || ca.id != "0123456789abcdef" || ca.spec != nil {
		t.Errorf("ID: %+v, %v", ca, err)
	}
	for _, bad := range []string{"nope.yaml", "0123456789ABCDEF", "0123"} {
		if _, err := parseCampaignArg(bad); err == nil || !strings.Contains(err.Error(), "neither a pipeline file nor a campaign ID") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

type committed struct {
	stage string
	at    time.Time
}

// committedTimes returns the commit time of every dataset the campaign's
// manifest lists, by content key, read from the commit markers.
func committedTimes(t *testing.T, ctx context.Context, s *store.Store, id string) map[string]committed {
	t.Helper()
	data, err := s.Get(ctx, "campaigns/"+id+"/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m activities.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]committed{}
	for _, d := range m.Datasets {
		data, err := s.Get(ctx, "commits/"+d.ContentKey+".json")
		if err != nil {
			t.Fatal(err)
		}
		var mk struct {
			Committed time.Time `json:"committed"`
		}
		if err := json.Unmarshal(data, &mk); err != nil {
			t.Fatal(err)
		}
		out[d.ContentKey] = committed{d.Stage, mk.Committed}
	}
	return out
}

// replay replays the latest run of a workflow from the server's history.
func replay(t *testing.T, ctx context.Context, c client.Client, workflowID string) {
	t.Helper()
	r := worker.NewWorkflowReplayer()
	workflows.Register(r)
	// Under the campaign's workflow ID: its children's IDs derive from it.
	opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: workflowID}}
	if err := r.ReplayWorkflowHistoryWithOptions(nil, fetchHistory(t, ctx, c, workflowID), opts); err != nil {
		t.Fatalf("replaying %s: %v", workflowID, err)
	}
}

// TestCampaignCommandErrors: bad arguments and unreachable services are one
// line and exit status 1, for every command of this file's set.
func TestCampaignCommandErrors(t *testing.T) {
	t.Setenv(devstack.EnvHome, filepath.Join(t.TempDir(), "home"))
	file := filepath.Join("testdata", "campaign_tiny.yaml")
	for _, c := range []struct {
		name, addr string
		args       []string
		want       string
	}{
		{"rerun without --stage", "", []string{"rerun", file}, "--stage is required"},
		{"get without --out", "", []string{"datasets", "get", file}, "--out DIR is required"},
		{"not a campaign", "", []string{"datasets", "ls", "nope"}, `CAMPAIGN "nope" is neither a pipeline file nor a campaign ID`},
		{"expiry too long", "", []string{"share", file, "--expires", "169h"}, "7 days, the S3 limit"},
		{"expiry too short", "", []string{"share", file, "--expires", "500ms"}, "between 1s and 168h"},
		{"rerun, unreachable Temporal", "127.0.0.1:1", []string{"rerun", file, "--stage", "train"}, "cannot reach Temporal at 127.0.0.1:1"},
		{"ls, unreachable Temporal", "127.0.0.1:1", []string{"datasets", "ls", file}, "cannot reach Temporal at 127.0.0.1:1"},
		{"get, unreachable Temporal", "127.0.0.1:1", []string{"datasets", "get", file, "--out", t.TempDir()}, "cannot reach Temporal at 127.0.0.1:1"},
		{"share, unreachable Temporal", "127.0.0.1:1", []string{"share", "0123456789abcdef"}, "cannot reach Temporal at 127.0.0.1:1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(devstack.EnvTemporalAddr, c.addr)
			code, out, errOut := runCLI(t, c.args...)
			if code != 1 || out != "" || !strings.Contains(errOut, c.want) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line containing %q", code, out, errOut, c.want)
			}
		})
	}
}
