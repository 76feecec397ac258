package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/store"
)

// tiny returns the test campaign: 1 metaopt job, 4 train units
// (miconi and discovered × 2 seeds), max_parallel 2, fixedpoints and report.
func tiny(t *testing.T) (CampaignInput, *pipelines.Plan) {
	t.Helper()
	data, err := os.ReadFile("../activities/testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse("tiny.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return CampaignInput{CampaignID: c.ID(), File: "tiny.yaml", YAML: data}, p
}

var discovered = [][]float64{{0.5, -1}, {2, 0.25}}

// fakes records the calls the workflow makes and answers them without
// running anything.
type fakes struct {
	mu        sync.Mutex
	calls     []string // activity names in call order
	train     []activities.TrainInput
	analysis  []activities.AnalysisInput // analysis activity inputs in call order
	failUnit  string                     // analysis unit ID whose activity always fails
	inflight  int
	maxIn     int
	release   chan struct{} // closed when a blocking Train may return
	limit     int           // Train blocks until this many are in flight (0: no blocking)
	fail      string        // unit ID whose Train always fails
	attempts  int           // Train calls for fail
	hbTimeout time.Duration // heartbeat timeout Train saw
	manifest  []activities.ManifestInput
	report    []activities.ReportInput
	failRpt   bool // Report always fails
}

func (f *fakes) register(env *testsuite.TestWorkflowEnvironment) {
	env.RegisterWorkflow(CampaignWorkflow)
	env.RegisterWorkflowWithOptions(TrainChunkWorkflow, workflow.RegisterOptions{Name: TrainChunkWorkflowName})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(activities.MetaoptName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MetaoptInput) (activities.MetaoptResult, error) {
			f.mu.Lock()
			f.calls = append(f.calls, activities.MetaoptName)
			f.mu.Unlock()
			return activities.MetaoptResult{Job: in.Job.ID, Theta: discovered, Iters: in.Job.Settings.Iters,
				Dataset: activities.Dataset{Unit: in.Job.ID, Kind: "metaopt_history", Ref: store.DatasetRef{Key: "m", SHA256: strings.Repeat("a", 64), Rows: 4}}}, nil
		})
	env.OnActivity(activities.TrainName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.TrainInput) (activities.TrainOutput, error) {
			f.mu.Lock()
			f.hbTimeout = activity.GetInfo(ctx).HeartbeatTimeout
			f.calls = append(f.calls, activities.TrainName)
			f.train = append(f.train, in)
			f.inflight++
			f.maxIn = max(f.maxIn, f.inflight)
			ch := f.release
			if f.limit > 0 && f.inflight == f.limit {
				close(ch)
				f.release = make(chan struct{})
			}
			failing := in.Unit.ID == f.fail
			if failing {
				f.attempts++
			}
			f.mu.Unlock()
			if f.limit > 0 {
				select { // wait until the limit is reached (or the last units run alone)
				case <-ch:
				case <-time.After(200 * time.Millisecond):
				}
			}
			f.mu.Lock()
			f.inflight--
			f.mu.Unlock()
			if failing {
				return activities.TrainOutput{}, errors.New("the learner diverged at trial 7")
			}
			return activities.TrainOutput{Unit: in.Unit.ID, CacheHit: in.Unit.Seed == 1,
				Datasets: []activities.Dataset{{Unit: in.Unit.ID, Kind: "networks", Ref: store.DatasetRef{Key: in.Unit.ID, Rows: 1, SHA256: digestOf(in.Unit.ID)}}}}, nil
		})
	for _, name := range []string{activities.FixedPointsName, activities.RSAName, activities.LandscapeName, activities.SensitivityName} {
		env.OnActivity(name, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in activities.AnalysisInput) (activities.AnalysisOutput, error) {
				f.mu.Lock()
				f.calls = append(f.calls, name)
				f.analysis = append(f.analysis, in)
				failing := in.Unit.ID == f.failUnit
				f.mu.Unlock()
				if failing {
					return activities.AnalysisOutput{}, temporal.NewNonRetryableApplicationError("no fixed points", "BadUnit", nil)
				}
				out := activities.AnalysisOutput{Unit: in.Unit.ID, CacheHit: in.Force == false && strings.HasSuffix(in.Unit.ID, "seed=2")}
				if name == activities.FixedPointsName {
					out.Datasets = []activities.Dataset{{Unit: in.Unit.ID, Kind: "fixed_points", Ref: store.DatasetRef{Key: in.Unit.ID, Rows: 3, SHA256: digestOf(in.Unit.ID)}}}
				}
				return out, nil
			})
	}
	env.OnActivity(activities.ManifestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ManifestInput) (activities.ManifestOutput, error) {
			f.mu.Lock()
			f.calls = append(f.calls, activities.ManifestName)
			f.manifest = append(f.manifest, in)
			f.mu.Unlock()
			return activities.ManifestOutput{Key: "campaigns/" + in.CampaignID + "/manifest.json", Datasets: 9}, nil
		})
	env.OnActivity(activities.ReportName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReportInput) (activities.ReportOutput, error) {
			f.mu.Lock()
			f.calls = append(f.calls, activities.ReportName)
			f.report = append(f.report, in)
			failing := f.failRpt
			f.mu.Unlock()
			if failing {
				return activities.ReportOutput{}, temporal.NewNonRetryableApplicationError("a figure failed", "Config", nil)
			}
			return activities.ReportOutput{Key: "campaigns/" + in.CampaignID + "/report/index.html", Figures: 2, Files: 5}, nil
		})
}

func run(t *testing.T, f *fakes, in CampaignInput) (*testsuite.TestWorkflowEnvironment, *CampaignResult, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	env.ExecuteWorkflow(CampaignWorkflow, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		return env, nil, err
	}
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return env, &res, nil
}

// TestCampaign checks the stage order, that discovered Θ reaches exactly
// the units of the discovered rule, cache hits, the fixedpoints stage
// after train, the report after the manifest and the result.
func TestCampaign(t *testing.T) {
	in, plan := tiny(t)
	in.HeartbeatTimeout = 7 * time.Second
	f := &fakes{}
	env, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	if f.hbTimeout != in.HeartbeatTimeout {
		t.Errorf("train activities ran with heartbeat timeout %v, want the input's %v", f.hbTimeout, in.HeartbeatTimeout)
	}
	want := []string{"Metaopt", "Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints", "Manifest", "Report"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	if len(f.train) != len(plan.Train) {
		t.Fatalf("%d train calls, want %d", len(f.train), len(plan.Train))
	}
	for _, tr := range f.train {
		switch {
		case tr.Unit.Rule == "discovered" && (tr.Metaopt == nil || !slices.EqualFunc(tr.Metaopt.Theta, discovered, slices.Equal)):
			t.Errorf("%s got metaopt result %+v, want Θ %v", tr.Unit.ID, tr.Metaopt, discovered)
		case tr.Unit.Rule != "discovered" && tr.Metaopt != nil:
			t.Errorf("%s got a metaopt result, want none", tr.Unit.ID)
		}
		if tr.CampaignID != in.CampaignID {
			t.Errorf("%s: campaign %q, want %q", tr.Unit.ID, tr.CampaignID, in.CampaignID)
		}
	}
	type st struct {
		name, status      string
		done, total, hits int
	}
	var got []st
	for _, s := range res.Stages {
		got = append(got, st{s.Name, s.Status, s.Done, s.Total, s.CacheHits})
	}
	wantStages := []st{
		{"metaopt", StatusCompleted, 1, 1, 0},
		{"train", StatusCompleted, 4, 4, 2},
		{"fixedpoints", StatusCompleted, 4, 4, 2},
		{"report", StatusCompleted, 1, 1, 0},
	}
	if !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
	if res.Status != StatusCompleted || res.Datasets != 9 || res.Manifest != "campaigns/"+in.CampaignID+"/manifest.json" ||
		res.Report != "campaigns/"+in.CampaignID+"/report/index.html" {
		t.Fatalf("result status %s, %d datasets, manifest %q, report %q", res.Status, res.Datasets, res.Manifest, res.Report)
	}
	// The manifest is written while the report stage runs; the report gets
	// every stage's counts and times.
	if len(f.manifest) != 1 || f.manifest[0].Stages["report"] != StatusRunning || f.manifest[0].Stages["fixedpoints"] != StatusCompleted {
		t.Errorf("manifest inputs %+v: want one, with report running", f.manifest)
	}
	if len(f.report) != 1 || f.report[0].CampaignID != in.CampaignID || len(f.report[0].Stages) != 4 {
		t.Fatalf("report inputs %+v: want one with 4 stages", f.report)
	}
	if rs := f.report[0].Stages; rs[1].Name != "train" || rs[1].Done != 4 || rs[1].CacheHits != 2 || rs[1].Status != StatusCompleted ||
		rs[3].Name != "report" || rs[3].Status != "writing this report" {
		t.Errorf("report input stages %+v", rs)
	}
	v, err := env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.Status != StatusCompleted || len(p.Stages) != 4 || p.Stages[1].Done != 4 || *p.Stages[1].EtaSeconds != 0 {
		t.Fatalf("progress after the end: %+v", p)
	}
}

// TestTrainChildWorkflows: a train stage larger than TrainChunk runs as
// child workflows of TrainChunk units, with the same calls, Θ, counts and
// networks refs as the direct fan-out.
func TestTrainChildWorkflows(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 3 // 4 units: chunks of 3 and 1
	f := &fakes{}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	var children []string
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		children = append(children, info.WorkflowType.Name+" "+info.WorkflowExecution.ID)
	})
	env.ExecuteWorkflow(CampaignWorkflow, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: %v", env.GetWorkflowError())
	}
	if len(children) != 2 || !strings.HasPrefix(children[0], TrainChunkWorkflowName+" ") || !strings.HasSuffix(children[1], "-train-1") {
		t.Fatalf("child workflows %v, want 2 %s children", children, TrainChunkWorkflowName)
	}
	if len(f.train) != len(plan.Train) {
		t.Fatalf("%d train calls, want %d", len(f.train), len(plan.Train))
	}
	for _, tr := range f.train {
		if tr.Unit.Rule == "discovered" && (tr.Metaopt == nil || !slices.EqualFunc(tr.Metaopt.Theta, discovered, slices.Equal)) {
			t.Errorf("%s got metaopt result %+v, want Θ %v", tr.Unit.ID, tr.Metaopt, discovered)
		}
	}
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if st := res.Stages[1]; st.Name != "train" || st.Status != StatusCompleted || st.Done != 4 || st.CacheHits != 2 {
		t.Fatalf("train stage %+v, want completed, 4 done, 2 cache hits", st)
	}
	// Every fixedpoints unit received its network's ref from the children.
	if len(f.analysis) != 4 {
		t.Fatalf("%d analysis calls, want 4", len(f.analysis))
	}
	for _, a := range f.analysis {
		if len(a.Networks) != 1 || a.Networks[0].Networks.Ref.Key == "" {
			t.Fatalf("analysis unit %s got networks %+v", a.Unit.ID, a.Networks)
		}
	}
}

// TestBoundedConcurrency: with max_parallel 2, two units run at once and
// never more.
func TestBoundedConcurrency(t *testing.T) {
	in, plan := tiny(t)
	if plan.MaxParallel != 2 {
		t.Fatalf("tiny.yaml max_parallel = %d, the test needs 2", plan.MaxParallel)
	}
	f := &fakes{limit: 2, release: make(chan struct{})}
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	if f.maxIn != 2 {
		t.Fatalf("at most %d train units ran at once, want exactly 2", f.maxIn)
	}
}

// TestProgressQuery queries the workflow while train units are running
// (mocked activities that take 10 minutes of test time).
func TestProgressQuery(t *testing.T) {
	in, _ := tiny(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(CampaignWorkflow)
	env.RegisterWorkflowWithOptions(TrainChunkWorkflow, workflow.RegisterOptions{Name: TrainChunkWorkflowName})
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity(activities.MetaoptName, mock.Anything, mock.Anything).Return(activities.MetaoptResult{Theta: discovered, CacheHit: true}, nil)
	env.OnActivity(activities.TrainName, mock.Anything, mock.Anything).Return(activities.TrainOutput{Datasets: []activities.Dataset{
		{Kind: "networks", Ref: store.DatasetRef{SHA256: digestOf("n")}}}}, nil).After(10 * time.Minute)
	env.OnActivity(activities.FixedPointsName, mock.Anything, mock.Anything).Return(activities.AnalysisOutput{}, nil)
	env.OnActivity(activities.ManifestName, mock.Anything, mock.Anything).Return(activities.ManifestOutput{}, nil)
	env.OnActivity(activities.ReportName, mock.Anything, mock.Anything).Return(activities.ReportOutput{}, nil)
	var mid Progress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(ProgressQuery)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&mid); err != nil {
			t.Error(err)
		}
	}, 15*time.Minute)
	env.ExecuteWorkflow(CampaignWorkflow, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if mid.Status != StatusRunning || len(mid.Stages) != 4 {
		t.Fatalf("progress at 15 min: %+v", mid)
	}
	m, tr := mid.Stages[0], mid.Stages[1]
	if m.Status != StatusCompleted || m.Done != 1 || m.CacheHits != 1 {
		t.Errorf("metaopt at 15 min: %+v, want completed, 1 done, 1 cache hit", m)
	}
	// Two units finished at 10 min, two are running: 5 min per unit, 2 left.
	if tr.Status != StatusRunning || tr.Done != 2 || tr.Total != 4 || tr.StartedAt == nil || tr.EtaSeconds == nil || *tr.EtaSeconds != 600 {
		t.Errorf("train at 15 min: %+v (eta %v), want running, 2 of 4 done, eta 600 s", tr, tr.EtaSeconds)
	}
	if mid.Stages[2].Status != StatusPending {
		t.Errorf("fixedpoints at 15 min: %s, want pending", mid.Stages[2].Status)
	}
}

// TestFailingUnit: a unit that keeps failing is retried, then fails the
// campaign with an error naming it; the other units finish and the manifest
// is not written.
func TestFailingUnit(t *testing.T) {
	in, plan := tiny(t)
	bad := plan.Train[0].ID
	f := &fakes{fail: bad}
	env, _, err := run(t, f, in)
	if err == nil {
		t.Fatal("the campaign succeeded with a failing unit")
	}
	if !strings.Contains(err.Error(), bad+" failed") || !strings.Contains(err.Error(), "diverged at trial 7") {
		t.Errorf("error %q does not name the unit and the cause", err)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Errorf("error %v does not unwrap to the activity's application error", err)
	}
	if f.attempts != int(trainOptions.RetryPolicy.MaximumAttempts) {
		t.Errorf("the failing unit ran %d times, want %d", f.attempts, trainOptions.RetryPolicy.MaximumAttempts)
	}
	if slices.Contains(f.calls, activities.ManifestName) {
		t.Error("the manifest was written for a failed campaign")
	}
	v, err := env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	tr := p.Stages[1]
	if p.Status != StatusFailed || tr.Status != StatusFailed || tr.Done < 1 || tr.Done > 3 || p.Error == "" {
		t.Fatalf("progress after the failure: %+v, train %+v", p, tr)
	}
}

// TestBadInput: a campaign ID that is not the file's fails at once.
func TestBadInput(t *testing.T) {
	in, _ := tiny(t)
	in.CampaignID = "0000000000000000"
	_, _, err := run(t, &fakes{}, in)
	if err == nil || !strings.Contains(err.Error(), "has ID") {
		t.Fatalf("err = %v, want a campaign ID mismatch", err)
	}
}

// digestOf is a fake dataset digest naming s.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestTrainChildFailure: a unit failing inside a child workflow fails the
// campaign with an error naming the chunk and the unit, and no manifest.
func TestTrainChildFailure(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 3
	f := &fakes{fail: plan.Train[3].ID}
	_, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), "train chunk 1") || !strings.Contains(err.Error(), plan.Train[3].ID) {
		t.Fatalf("error %v, want one naming train chunk 1 and %s", err, plan.Train[3].ID)
	}
	if slices.Contains(f.calls, activities.ManifestName) {
		t.Fatal("manifest written after a failed train chunk")
	}
}
