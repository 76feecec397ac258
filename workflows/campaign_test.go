package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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

// planned parses and plans a campaign file of ../activities/testdata and
// returns the workflow's input for it as NewInput would, without a store:
// the plan's ref names the digest of its encoding.
func planned(t *testing.T, name string) (CampaignInput, *pipelines.Plan) {
	t.Helper()
	data, err := os.ReadFile("../activities/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	enc, sum, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return CampaignInput{CampaignID: p.CampaignID, Plan: activities.PlanRef{Key: "plans/" + sum + ".json", SHA256: sum, Size: int64(len(enc))},
		Outline: p.Outline()}, p
}

// tiny returns the test campaign: 1 metaopt job, 4 train units
// (miconi and discovered × 2 seeds), max_parallel 2, fixedpoints and report.
func tiny(t *testing.T) (CampaignInput, *pipelines.Plan) {
	t.Helper()
	return planned(t, "tiny.yaml")
}

var discovered = [][]float64{{0.5, -1}, {2, 0.25}}

// fakes answers the workflow's activities without running anything and
// records what it was asked: every unit's input, in call order.
type fakes struct {
	plan *pipelines.Plan
	in   CampaignInput // the campaign's input, which every unit must carry

	mu       sync.Mutex
	calls    []string               // activity names in call order
	units    []activities.UnitInput // unit inputs in call order
	hb       map[pipelines.StageName]time.Duration
	inflight int
	maxIn    int
	release  chan struct{}      // closed when blocked units may return
	limit    int                // units block until this many are in flight (0: no blocking)
	fail     string             // unit ID whose activity always fails (retryable)
	attempts int                // calls of fail
	failBad  string             // unit ID whose activity fails with a non-retryable BadUnit error
	failRpt  bool               // the report always fails
	block    string             // unit ID whose activity waits until it is cancelled
	handBack map[string]int     // unit ID → times its activity is handed back by a stopping worker
	attempt  map[string][]int32 // unit ID → the Temporal attempt of each of its calls
	manifest []activities.ManifestInput
	prune    []activities.PruneInput
	// hits are the unit IDs ResolveUnits reports as verified cache hits
	// (none: every unit runs as an activity, and reports its own hit).
	hits     map[string]bool
	resolves []activities.ResolveInput // ResolveUnits inputs in call order
}

func newFakes(in CampaignInput, plan *pipelines.Plan) *fakes {
	return &fakes{plan: plan, in: in, hb: map[pipelines.StageName]time.Duration{}}
}

// unitID is the ID of the index-th unit of a stage of the plan.
func (f *fakes) unitID(stage pipelines.StageName, i int) string {
	s := f.plan.Stage(stage)
	if s == nil || i < 0 || i >= len(s.Units) {
		return fmt.Sprintf("%s[%d] (no such unit)", stage, i)
	}
	return s.Units[i]
}

// byStage returns the unit inputs of a stage, in call order.
func (f *fakes) byStage(stage pipelines.StageName) []activities.UnitInput {
	var out []activities.UnitInput
	for _, u := range f.units {
		if u.Stage == stage {
			out = append(out, u)
		}
	}
	return out
}

// unit is the fake of the activity name, which runs one unit of any stage.
func (f *fakes) unit(name string) func(context.Context, activities.UnitInput) (activities.UnitOutput, error) {
	return func(ctx context.Context, in activities.UnitInput) (activities.UnitOutput, error) {
		id := f.unitID(in.Stage, in.Index)
		f.mu.Lock()
		f.calls = append(f.calls, name)
		f.units = append(f.units, in)
		f.hb[in.Stage] = activity.GetInfo(ctx).HeartbeatTimeout
		f.inflight++
		f.maxIn = max(f.maxIn, f.inflight)
		ch := f.release
		if f.limit > 0 && f.inflight == f.limit {
			close(ch)
			f.release = make(chan struct{})
		}
		failing := id == f.fail
		if failing {
			f.attempts++
		}
		bad, failRpt, block := id == f.failBad, f.failRpt, id == f.block
		handBack := f.handBack[id] > 0
		if handBack {
			f.handBack[id]--
		}
		if f.attempt != nil {
			f.attempt[id] = append(f.attempt[id], activity.GetInfo(ctx).Attempt)
		}
		f.mu.Unlock()
		if f.limit > 0 {
			select { // wait until the limit is reached (or the last units run alone)
			case <-ch:
			case <-time.After(200 * time.Millisecond):
			}
		}
		if block {
			for ctx.Err() == nil { // heartbeats carry the cancellation to the activity
				activity.RecordHeartbeat(ctx)
				time.Sleep(10 * time.Millisecond)
			}
		}
		f.mu.Lock()
		f.inflight--
		f.mu.Unlock()
		switch {
		case block:
			return activities.UnitOutput{}, ctx.Err()
		case name != activities.StageActivity(in.Stage):
			return activities.UnitOutput{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("stage %s called as activity %s", in.Stage, name), "Test", nil)
		case in.CampaignID != f.in.CampaignID || in.Plan != f.in.Plan:
			return activities.UnitOutput{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("%s: campaign %s, plan %+v; want %s, %+v", id, in.CampaignID, in.Plan, f.in.CampaignID, f.in.Plan), "Test", nil)
		case failing:
			return activities.UnitOutput{}, errors.New("the learner diverged at trial 7")
		case handBack:
			return activities.UnitOutput{}, temporal.NewApplicationErrorWithOptions(id+": its worker stopped",
				activities.WorkerShutdownType, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []interface{}{id}})
		case bad:
			return activities.UnitOutput{}, temporal.NewNonRetryableApplicationError("no fixed points", "BadUnit", nil)
		}
		switch in.Stage {
		case pipelines.StageMetaopt:
			job := f.plan.Metaopt[in.Index]
			res := activities.MetaoptResult{Job: job.ID, Theta: discovered, Iters: job.Settings.Iters,
				Dataset: activities.Dataset{Unit: job.ID, Kind: "metaopt_history", Ref: store.DatasetRef{Key: "m", SHA256: digestOf(job.ID), Rows: 4}}}
			return activities.UnitOutput{Unit: job.ID, Datasets: []activities.Dataset{res.Dataset}, Metaopt: &res}, nil
		case pipelines.StageReport:
			if failRpt {
				return activities.UnitOutput{}, temporal.NewNonRetryableApplicationError("a figure failed", "Config", nil)
			}
			return activities.UnitOutput{Unit: id, Datasets: []activities.Dataset{{Unit: id, Kind: "report",
				Ref: store.DatasetRef{Key: "campaigns/" + in.CampaignID + "/report/index.html", SHA256: digestOf(id)}}}}, nil
		}
		return activities.UnitOutput{Unit: id, CacheHit: !in.Force && strings.HasSuffix(id, "seed=1"),
			Datasets: []activities.Dataset{{Unit: id, Kind: string(in.Stage), Ref: store.DatasetRef{Key: id, Rows: 1, SHA256: digestOf(id)}}}}, nil
	}
}

// resolve is the fake of ResolveUnits: the units of f.hits are cache
// hits, every other unit is to run.
func (f *fakes) resolve(_ context.Context, in activities.ResolveInput) (activities.ResolveOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resolves = append(f.resolves, in)
	n := in.To - in.From
	out := activities.ResolveOutput{From: in.From, To: in.To, Bitmap: make([]byte, (n+7)/8)}
	for i := range n {
		if !in.Force && f.hits[f.unitID(in.Stage, in.From+i)] {
			out.Hits++
			continue
		}
		out.Bitmap[i/8] |= 1 << (i % 8)
		out.Compute++
	}
	return out, nil
}

func (f *fakes) register(env *testsuite.TestWorkflowEnvironment) {
	Register(env)
	activities.Register(env, &activities.Activities{})
	for _, s := range []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints,
		pipelines.StageRSA, pipelines.StageLandscape, pipelines.StageSensitivity, pipelines.StageDSA, pipelines.StageReport} {
		name := activities.StageActivity(s)
		env.OnActivity(name, mock.Anything, mock.Anything).Return(f.unit(name))
	}
	// A metaopt job's child workflow (MetaoptJob, tested against real
	// activities in activities' TestMetaoptJobWorkflowIsExact) is replaced
	// by one call of the fake metaopt unit, as in histories of before it.
	env.OnWorkflow(MetaoptJobWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in MetaoptJobInput) (*activities.UnitOutput, error) {
			actx := workflow.WithActivityOptions(ctx, unitOptions(pipelines.StageMetaopt, in.HeartbeatTimeout))
			var out activities.UnitOutput
			if err := workflow.ExecuteActivity(actx, activities.StageActivity(pipelines.StageMetaopt), in.Unit).Get(ctx, &out); err != nil {
				return nil, err
			}
			return &out, nil
		})
	env.OnActivity(activities.ResolveName, mock.Anything, mock.Anything).Return(f.resolve)
	env.OnActivity(activities.ManifestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ManifestInput) (activities.ManifestOutput, error) {
			f.mu.Lock()
			f.calls = append(f.calls, activities.ManifestName)
			f.manifest = append(f.manifest, in)
			f.mu.Unlock()
			return activities.ManifestOutput{Key: "campaigns/" + in.CampaignID + "/manifest.json", Datasets: 9}, nil
		})
	env.OnActivity(activities.PruneName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PruneInput) (int, error) {
			f.mu.Lock()
			f.calls = append(f.calls, activities.PruneName)
			f.prune = append(f.prune, in)
			f.mu.Unlock()
			return 0, nil
		})
}

func run(t *testing.T, f *fakes, in CampaignInput) (*testsuite.TestWorkflowEnvironment, *CampaignResult, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	env.ExecuteWorkflow(CampaignWorkflowName, in)
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

// query returns the workflow's progress.
func query(t *testing.T, env *testsuite.TestWorkflowEnvironment) Progress {
	t.Helper()
	v, err := env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkIndexes checks that every unit of every stage of the plan ran
// exactly once (units of one stage run concurrently, in any order).
func checkIndexes(t *testing.T, f *fakes) {
	t.Helper()
	for _, s := range f.plan.Stages {
		var got []int
		for _, u := range f.byStage(s.Name) {
			got = append(got, u.Index)
		}
		slices.Sort(got)
		want := make([]int, len(s.Units))
		for i := range want {
			want[i] = i
		}
		if !slices.Equal(got, want) {
			t.Errorf("stage %s ran units %v, want %v", s.Name, got, want)
		}
	}
}

// checkThetaOutsideChildren is checkTheta for a campaign whose train and
// fixedpoints stages ran in child workflows: their units get no metaopt results (they
// read them from the store, so the children's inputs stay small).
func checkThetaOutsideChildren(t *testing.T, f *fakes) {
	t.Helper()
	inChild := func(s pipelines.StageName) bool { return s == pipelines.StageTrain || s == pipelines.StageFixedPoints }
	for _, u := range f.units {
		if inChild(u.Stage) && len(u.Metaopt) != 0 {
			t.Errorf("%s unit %d of a child workflow got metaopt results %v, want none", u.Stage, u.Index, u.Metaopt)
		}
	}
	var rest fakes
	rest.plan = f.plan
	for _, u := range f.units {
		if !inChild(u.Stage) {
			rest.units = append(rest.units, u)
		}
	}
	checkTheta(t, &rest)
}

// checkTheta checks that no metaopt unit and every other unit got the
// results of the campaign's metaopt jobs (Θ of the discovered rule).
func checkTheta(t *testing.T, f *fakes) {
	t.Helper()
	for _, u := range f.units {
		id := f.unitID(u.Stage, u.Index)
		if u.Stage == pipelines.StageMetaopt {
			if u.Metaopt != nil {
				t.Errorf("%s got metaopt results %v, want none", id, u.Metaopt)
			}
			continue
		}
		res, ok := u.Metaopt["metaopt/discovered"]
		if len(u.Metaopt) != 1 || !ok || res.Job != "metaopt/discovered" || !slices.EqualFunc(res.Theta, discovered, slices.Equal) {
			t.Errorf("%s got metaopt results %+v, want metaopt/discovered with Θ %v", id, u.Metaopt, discovered)
		}
	}
}

type stageCounts struct {
	name, status      string
	done, total, hits int
}

func counts(stages []StageProgress) []stageCounts {
	var out []stageCounts
	for _, s := range stages {
		out = append(out, stageCounts{s.Name, s.Status, s.Done, s.Total, s.CacheHits})
	}
	return out
}

// TestCampaign checks the stage order, that every unit runs once with the
// campaign's plan and the metaopt results, the heartbeat timeout, cache
// hits, the fixedpoints stage after train, the report after the manifest
// (with the run's timings), no prune without Force, and the result.
func TestCampaign(t *testing.T) {
	in, plan := tiny(t)
	in.HeartbeatTimeout = 7 * time.Second
	f := newFakes(in, plan)
	env, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	// (Metaopt jobs run as MetaoptJob children, replaced by a mock here;
	// their activities' options are metaoptActivityOptions.)
	for _, s := range []pipelines.StageName{pipelines.StageTrain, pipelines.StageFixedPoints} {
		if f.hb[s] != in.HeartbeatTimeout {
			t.Errorf("%s units ran with heartbeat timeout %v, want the input's %v", s, f.hb[s], in.HeartbeatTimeout)
		}
	}
	want := []string{"Metaopt", "Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints", "Manifest", "Report"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	checkIndexes(t, f)
	checkTheta(t, f)
	for _, u := range f.units {
		if u.Force || (u.Stage != pipelines.StageReport && u.Stages != nil) {
			t.Errorf("%s: force %v, stages %v", f.unitID(u.Stage, u.Index), u.Force, u.Stages)
		}
	}
	wantStages := []stageCounts{
		{"metaopt", StatusCompleted, 1, 1, 0},
		{"train", StatusCompleted, 4, 4, 2},
		{"fixedpoints", StatusCompleted, 4, 4, 2},
		{"report", StatusCompleted, 1, 1, 0},
	}
	if got := counts(res.Stages); !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
	if res.Status != StatusCompleted || res.Campaign != in.CampaignID || res.Name != "tiny" || res.Datasets != 9 ||
		res.Manifest != "campaigns/"+in.CampaignID+"/manifest.json" || res.Report != "campaigns/"+in.CampaignID+"/report/index.html" {
		t.Fatalf("result %s %s %s, %d datasets, manifest %q, report %q", res.Status, res.Campaign, res.Name, res.Datasets, res.Manifest, res.Report)
	}
	// The manifest is written while the report stage runs, with the plan.
	if len(f.manifest) != 1 || f.manifest[0].CampaignID != in.CampaignID || f.manifest[0].Plan != in.Plan ||
		f.manifest[0].Stages["report"] != StatusRunning || f.manifest[0].Stages["fixedpoints"] != StatusCompleted {
		t.Errorf("manifest inputs %+v: want one, with the plan and report running", f.manifest)
	}
	if len(f.prune) != 0 {
		t.Errorf("prune ran without Force: %+v", f.prune)
	}
	// The report unit gets every stage's counts and times.
	rep := f.byStage(pipelines.StageReport)
	if len(rep) != 1 || rep[0].Index != 0 || len(rep[0].Stages) != 4 {
		t.Fatalf("report inputs %+v: want one with 4 stages", rep)
	}
	if rs := rep[0].Stages; rs[1].Name != "train" || rs[1].Done != 4 || rs[1].CacheHits != 2 || rs[1].Status != StatusCompleted ||
		rs[3].Name != "report" || rs[3].Status != "writing this report" {
		t.Errorf("report input stages %+v", rs)
	}
	p := query(t, env)
	if p.Status != StatusCompleted || len(p.Stages) != 4 || p.Stages[1].Done != 4 || *p.Stages[1].EtaSeconds != 0 {
		t.Fatalf("progress after the end: %+v", p)
	}
}

// TestTrainChildWorkflows: a train (or any other) stage larger than
// TrainChunk runs as child workflows over consecutive index ranges of TrainChunk units, with
// the campaign's plan, concurrency and heartbeat timeout and no metaopt
// results (the input stays small: the units read them from the store);
// every unit runs once and the counts are those of the direct fan-out.
func TestTrainChildWorkflows(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 3 // 4 units: chunks [0, 3) and [3, 4)
	in.HeartbeatTimeout = 9 * time.Second
	f := newFakes(in, plan)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	type child struct {
		typ, id string
		in      TrainChunkInput
	}
	var children []child
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		var ci TrainChunkInput
		if err := args.Get(&ci); err != nil {
			t.Error(err)
		}
		if info.WorkflowType.Name != MetaoptJobWorkflowName {
			children = append(children, child{info.WorkflowType.Name, info.WorkflowExecution.ID, ci})
		}
	})
	env.ExecuteWorkflow(CampaignWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: %v", env.GetWorkflowError())
	}
	if len(children) != 4 {
		t.Fatalf("child workflows %+v, want 4 (train and fixedpoints, 2 each)", children)
	}
	for j, c := range children {
		k, stage, wantStage := j%2, pipelines.StageTrain, pipelines.StageName("")
		if j >= 2 {
			stage, wantStage = pipelines.StageFixedPoints, pipelines.StageFixedPoints
		}
		from, to := 3*k, min(3*k+3, 4)
		if c.typ != TrainChunkWorkflowName || !strings.HasSuffix(c.id, fmt.Sprintf("-%s-%d", stage, k)) || c.in.Stage != wantStage ||
			c.in.From != from || c.in.To != to || c.in.CampaignID != in.CampaignID || c.in.Plan != in.Plan ||
			c.in.MaxParallel != 2 || c.in.HeartbeatTimeout != in.HeartbeatTimeout || c.in.Force ||
			len(c.in.Metaopt) != 0 {
			t.Errorf("child %d: %s %s %+v, want %s over [%d, %d)", k, c.typ, c.id, c.in, TrainChunkWorkflowName, from, to)
		}
	}
	want := []string{"Metaopt", "Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints", "Manifest", "Report"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	checkIndexes(t, f)
	checkThetaOutsideChildren(t, f)
	// The children's units get the heartbeat timeout through
	// TrainChunkInput (checked above). The SDK's test environment caps an
	// activity's heartbeat timeout of a child without a run timeout at 0,
	// unlike the server (TestRecordHistories checks it on a real one).
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if st := res.Stages[1]; st.Name != "train" || st.Status != StatusCompleted || st.Done != 4 || st.CacheHits != 2 ||
		st.EtaSeconds == nil || *st.EtaSeconds != 0 || st.StartedAt == nil || st.FinishedAt == nil {
		t.Fatalf("train stage %+v, want completed, 4 done, 2 cache hits", st)
	}
}

// TestBoundedConcurrency: with max_parallel 2, two units run at once and
// never more.
func TestBoundedConcurrency(t *testing.T) {
	in, plan := tiny(t)
	if plan.MaxParallel != 2 || in.Outline.MaxParallel != 2 {
		t.Fatalf("tiny.yaml max_parallel = %d, the test needs 2", plan.MaxParallel)
	}
	f := newFakes(in, plan)
	f.limit, f.release = 2, make(chan struct{})
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	if f.maxIn != 2 {
		t.Fatalf("at most %d units ran at once, want exactly 2", f.maxIn)
	}
}

// TestProgressQuery queries the workflow while train units are running
// (mocked activities that take 10 minutes of test time).
func TestProgressQuery(t *testing.T) {
	in, plan := tiny(t)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	Register(env)
	activities.Register(env, &activities.Activities{})
	env.OnWorkflow(MetaoptJobWorkflowName, mock.Anything, mock.Anything).Return(&activities.UnitOutput{Unit: "metaopt/discovered",
		CacheHit: true, Metaopt: &activities.MetaoptResult{Job: "metaopt/discovered", Theta: discovered, CacheHit: true}}, nil)
	env.OnActivity(activities.TrainName, mock.Anything, mock.Anything).Return(activities.UnitOutput{Datasets: []activities.Dataset{
		{Kind: "networks", Ref: store.DatasetRef{SHA256: digestOf("n")}}}}, nil).After(10 * time.Minute)
	env.OnActivity(activities.FixedPointsName, mock.Anything, mock.Anything).Return(activities.UnitOutput{}, nil)
	env.OnActivity(activities.ResolveName, mock.Anything, mock.Anything).Return(newFakes(in, plan).resolve)
	env.OnActivity(activities.ManifestName, mock.Anything, mock.Anything).Return(activities.ManifestOutput{}, nil)
	env.OnActivity(activities.ReportName, mock.Anything, mock.Anything).Return(activities.UnitOutput{}, nil)
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
	env.ExecuteWorkflow(CampaignWorkflowName, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if mid.Status != StatusRunning || mid.Campaign != in.CampaignID || len(mid.Stages) != 4 {
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
	if mid.Stages[2].Status != StatusPending || mid.Stages[2].Total != 4 || mid.Stages[3].Status != StatusPending {
		t.Errorf("fixedpoints and report at 15 min: %+v, want pending", mid.Stages[2:])
	}
	// A report unit that returns no datasets leaves the result's report empty.
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusCompleted || res.Report != "" {
		t.Errorf("result %s, report %q", res.Status, res.Report)
	}
}

// TestFailingUnit: a unit that keeps failing is retried, then fails the
// campaign with an error naming it; the other units finish and the manifest
// is not written.
func TestFailingUnit(t *testing.T) {
	in, plan := tiny(t)
	f := newFakes(in, plan)
	f.fail = plan.Train[0].ID
	env, _, err := run(t, f, in)
	if err == nil {
		t.Fatal("the campaign succeeded with a failing unit")
	}
	if !strings.Contains(err.Error(), "train unit 1 failed: the learner diverged at trial 7") {
		t.Errorf("error %q does not name the unit and the cause", err)
	}
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || !appErr.NonRetryable() {
		t.Errorf("error %v does not unwrap to a non-retryable application error", err)
	}
	if want := int(unitOptions(pipelines.StageTrain, 0).RetryPolicy.MaximumAttempts); f.attempts != want || want < 2 {
		t.Errorf("the failing unit ran %d times, want %d", f.attempts, want)
	}
	if slices.Contains(f.calls, activities.ManifestName) || slices.Contains(f.calls, activities.FixedPointsName) {
		t.Errorf("calls %v after a failed train stage", f.calls)
	}
	p := query(t, env)
	tr := p.Stages[1]
	if p.Status != StatusFailed || tr.Status != StatusFailed || tr.Done < 1 || tr.Done > 3 ||
		!strings.Contains(p.Error, "train unit 1 failed: the learner diverged at trial 7") ||
		p.Stages[2].Status != StatusPending {
		t.Fatalf("progress after the failure: %+v, train %+v", p, tr)
	}
}

// TestCancelledCampaign: a campaign cancelled while a unit runs ends as
// canceled — the execution, the progress and its running stage — not as
// failed, and runs nothing after the cancellation.
func TestCancelledCampaign(t *testing.T) {
	in, plan := tiny(t)
	f := newFakes(in, plan)
	f.block = plan.Train[0].ID
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)
	env.ExecuteWorkflow(CampaignWorkflowName, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	var canceled *temporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("error %v, want a cancellation", err)
	}
	p := query(t, env)
	if p.Status != StatusCanceled || p.Stages[1].Status != StatusCanceled || p.Stages[2].Status != StatusPending {
		t.Fatalf("progress after the cancellation: %+v", p)
	}
	if slices.Contains(f.calls, activities.ManifestName) {
		t.Errorf("calls %v after the cancellation", f.calls)
	}
}

// TestBadInput: an input that names no stored plan (a client of the old
// workflow, or a hand-made start) fails at once with a non-retryable
// error, before any activity.
func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*CampaignInput)
	}{
		{"no plan", func(in *CampaignInput) { in.Plan = activities.PlanRef{} }},
		{"no plan digest", func(in *CampaignInput) { in.Plan.SHA256 = "" }},
		{"no campaign", func(in *CampaignInput) { in.CampaignID = "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			in, plan := tiny(t)
			c.edit(&in)
			f := newFakes(in, plan)
			env, _, err := run(t, f, in)
			var appErr *temporal.ApplicationError
			if err == nil || !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != "BadInput" ||
				!strings.Contains(err.Error(), "names no stored plan") {
				t.Fatalf("err = %v, want a non-retryable BadInput error", err)
			}
			if len(f.calls) != 0 {
				t.Errorf("calls %v for a bad input", f.calls)
			}
			if p := query(t, env); p.Status != StatusFailed || p.Error == "" {
				t.Errorf("progress %+v, want failed", p)
			}
		})
	}
}

// digestOf is a fake dataset digest naming s.
func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestInlineUnitBudget: stages that each fit in a chunk but together
// would not run in the campaign's own history only up to the budget; the
// next one runs as a child workflow, so no history grows with the number
// of stages.
func TestInlineUnitBudget(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 5 // train (4 units) fits; fixedpoints (4 more) would make 8
	f := newFakes(in, plan)
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	var children []TrainChunkInput
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		var ci TrainChunkInput
		if err := args.Get(&ci); err != nil {
			t.Error(err)
		}
		if info.WorkflowType.Name == TrainChunkWorkflowName {
			children = append(children, ci)
		}
	})
	env.ExecuteWorkflow(CampaignWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: %v", env.GetWorkflowError())
	}
	if len(children) != 1 || children[0].Stage != pipelines.StageFixedPoints || children[0].From != 0 || children[0].To != 4 {
		t.Fatalf("children %+v, want one fixedpoints child over [0, 4) (train runs inline)", children)
	}
	want := []string{"Metaopt", "Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints", "Manifest", "Report"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
}

// TestTrainChildFailure: a unit failing inside a child workflow fails the
// campaign with an error naming the chunk and the unit, and no manifest.
func TestTrainChildFailure(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 3
	f := newFakes(in, plan)
	f.fail = plan.Train[3].ID
	env, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), "train chunk 1 (units 4–4) failed") ||
		!strings.Contains(err.Error(), "train unit 4 failed: the learner diverged at trial 7") {
		t.Fatalf("error %v, want one naming train chunk 1 and unit 4", err)
	}
	if slices.Contains(f.calls, activities.ManifestName) {
		t.Fatal("manifest written after a failed train chunk")
	}
	p := query(t, env)
	if tr := p.Stages[1]; p.Status != StatusFailed || tr.Status != StatusFailed || tr.Done != 3 {
		t.Fatalf("progress %+v, train %+v: want failed with the first chunk's 3 units done", p, tr)
	}
}

// TestBulkCacheHits: the units ResolveUnits reports as verified cache hits
// run no activity and count as done cache hits; the others run. Each
// stage is resolved once per chunk, with the campaign's plan.
func TestBulkCacheHits(t *testing.T) {
	in, plan := tiny(t)
	f := newFakes(in, plan)
	f.hits = map[string]bool{}
	for _, st := range []pipelines.StageName{pipelines.StageTrain, pipelines.StageFixedPoints} {
		for _, id := range plan.Stage(st).Units {
			if !strings.HasSuffix(id, "seed=2") {
				f.hits[id] = true
			}
		}
	}
	_, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Metaopt", "Train", "Train", "FixedPoints", "FixedPoints", "Manifest", "Report"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v (only the seed=2 units run)", f.calls, want)
	}
	for _, u := range f.units {
		if id := f.unitID(u.Stage, u.Index); f.hits[id] {
			t.Errorf("cache hit %s ran as an activity", id)
		}
	}
	if len(f.resolves) != 2 || f.resolves[0].Stage != pipelines.StageTrain || f.resolves[0].From != 0 || f.resolves[0].To != 4 ||
		f.resolves[1].Stage != pipelines.StageFixedPoints || f.resolves[0].Plan != in.Plan || f.resolves[0].CampaignID != in.CampaignID {
		t.Fatalf("resolves %+v, want train [0, 4) then fixedpoints", f.resolves)
	}
	// 2 hits resolved in bulk + the fake's own hits among the units run
	// (seed=1 only, none here).
	wantStages := []stageCounts{
		{"metaopt", StatusCompleted, 1, 1, 0},
		{"train", StatusCompleted, 4, 4, 2},
		{"fixedpoints", StatusCompleted, 4, 4, 2},
		{"report", StatusCompleted, 1, 1, 0},
	}
	if got := counts(res.Stages); !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
}

// TestResolveOutputBitmap: Indices lists exactly the set bits, offset by
// From.
func TestResolveOutputBitmap(t *testing.T) {
	for _, tc := range []struct {
		from, to int
		bitmap   []byte
		want     []int
	}{
		{0, 0, nil, nil},
		{0, 3, []byte{0b101}, []int{0, 2}},
		{2000, 2010, []byte{0b1000_0000, 0b10}, []int{2007, 2009}},
		{5, 9, []byte{0xff}, []int{5, 6, 7, 8}}, // bits past To are ignored
	} {
		o := activities.ResolveOutput{From: tc.from, To: tc.to, Bitmap: tc.bitmap}
		if got := o.Indices(); !slices.Equal(got, tc.want) {
			t.Errorf("[%d, %d) %08b: indices %v, want %v", tc.from, tc.to, tc.bitmap, got, tc.want)
		}
	}
}

// TestResolveAhead: a chunked stage's cache is resolved, range by range,
// before its children start; a chunk whose units are all verified cache
// hits starts no child, and a child that has units to run is given its
// ranges' outputs and resolves nothing itself.
func TestResolveAhead(t *testing.T) {
	in, plan := tiny(t)
	in.TrainChunk = 3 // 4 units: chunks [0, 3) and [3, 4)
	f := newFakes(in, plan)
	f.hits = map[string]bool{}
	for _, st := range []pipelines.StageName{pipelines.StageTrain, pipelines.StageFixedPoints} {
		for i, id := range plan.Stage(st).Units {
			if st != pipelines.StageTrain || i != 3 {
				f.hits[id] = true
			}
		}
	}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	var children []TrainChunkInput
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		if info.WorkflowType.Name != TrainChunkWorkflowName {
			return
		}
		var ci TrainChunkInput
		if err := args.Get(&ci); err != nil {
			t.Error(err)
		}
		children = append(children, ci)
	})
	env.ExecuteWorkflow(CampaignWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: %v", env.GetWorkflowError())
	}
	if len(children) != 1 || children[0].From != 3 || children[0].To != 4 || len(children[0].Resolved) != 1 ||
		children[0].Resolved[0].From != 3 || children[0].Resolved[0].Compute != 1 {
		t.Fatalf("children %+v, want one train chunk [3, 4) given its resolved range", children)
	}
	var ranges [][3]any
	for _, r := range f.resolves {
		ranges = append(ranges, [3]any{r.Stage, r.From, r.To})
	}
	// The ranges of a stage resolve concurrently: compare them sorted.
	slices.SortFunc(ranges, func(a, b [3]any) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	want := [][3]any{{pipelines.StageFixedPoints, 0, 3}, {pipelines.StageFixedPoints, 3, 4}, {pipelines.StageTrain, 0, 3}, {pipelines.StageTrain, 3, 4}}
	if !slices.Equal(ranges, want) {
		t.Fatalf("resolves %v, want %v (each range once, by the campaign)", ranges, want)
	}
	if want := []string{"Metaopt", "Train", "Manifest", "Report"}; !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	wantStages := []stageCounts{
		{"metaopt", StatusCompleted, 1, 1, 0},
		{"train", StatusCompleted, 4, 4, 3},
		{"fixedpoints", StatusCompleted, 4, 4, 4},
		{"report", StatusCompleted, 1, 1, 0},
	}
	if got := counts(res.Stages); !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
}
