package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"rulescape/core/plasticity"
	"rulescape/core/train"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

var (
	gateway    *s3test.Server
	gatewayErr error
	bucketSeq  atomic.Int64
)

func TestMain(m *testing.M) {
	gateway, gatewayErr = s3test.New("")
	code := m.Run()
	if gateway != nil {
		gateway.Stop()
	}
	os.Exit(code)
}

// newStore connects to the test gateway with a fresh bucket, or skips
// (fails with RULESCAPE_REQUIRE_S3=1) without one.
func newStore(t *testing.T) *store.Store {
	t.Helper()
	if gatewayErr != nil {
		s3test.SkipOrFail(t, gatewayErr)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	s, err := store.New(ctx, store.Config{Endpoint: gateway.Endpoint, AccessKey: gateway.AccessKey,
		SecretKey: gateway.SecretKey, Region: gateway.Region, Bucket: fmt.Sprintf("act-%d", bucketSeq.Add(1))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func tinyPlan(t *testing.T) *pipelines.Plan {
	t.Helper()
	return parsePlan(t, "tiny.yaml", nil)
}

// TestTrain trains one unit of a stored plan through Unit in the Temporal
// activity environment (registered as Register registers it on a worker),
// reads both datasets back and checks them against a direct train.Run,
// then runs it again: a cache hit with the same refs; a forced run
// recomputes and re-commits the same bytes.
func TestTrain(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	a := &Activities{Store: st, EngineVersion: "test"}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	Register(env, a)
	unit := plan.Train[0]
	in := unitInput(t, plan, storePlan(t, st, plan), unit.ID)
	if in.Stage != pipelines.StageTrain {
		t.Fatalf("unit %s is in stage %s", unit.ID, in.Stage)
	}
	run := func(in UnitInput) UnitOutput {
		t.Helper()
		val, err := env.ExecuteActivity(TrainName, in)
		if err != nil {
			t.Fatal(err)
		}
		var out UnitOutput
		if err := val.Get(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	out := run(in)
	if out.Unit != unit.ID || out.CacheHit || len(out.Datasets) != 2 || out.Metaopt != nil {
		t.Fatalf("first run: %+v; want a miss of %s with 2 datasets", out, unit.ID)
	}
	setup, err := unit.Setup(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := runDirect(t, setup, unit.Seed)

	ctx := t.Context()
	curves, info, err := store.ReadRows[schemas.LearningCurveRow](ctx, st, out.Datasets[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	wantVersion := stages.Current()[pipelines.StageTrain]
	if info.Campaign != plan.CampaignID || info.EngineVersion != wantVersion || info.ParamsSHA256 == "" {
		t.Errorf("learning_curves metadata %+v: want campaign %s, engine %s (the train stage's version) and a params digest", info.Meta, plan.CampaignID, wantVersion)
	}
	if len(curves) != setup.Trials {
		t.Fatalf("learning_curves has %d rows, want %d", len(curves), setup.Trials)
	}
	for h, r := range curves {
		if r.Trial != int64(h) || r.Error != want.Errors[h] || r.Reward != -want.Errors[h] || r.Correct != want.Correct[h] || int(r.Condition) != want.Conditions[h] {
			t.Fatalf("trial %d: row %+v, direct run error %v correct %v condition %d", h, r, want.Errors[h], want.Correct[h], want.Conditions[h])
		}
	}
	nets, _, err := store.ReadRows[schemas.NetworkRow](ctx, st, out.Datasets[1].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 1 || !slices.Equal(nets[0].WFinal, want.Final.W) || !slices.Equal(nets[0].W0, want.Initial.W) ||
		!slices.Equal(nets[0].WIn, want.Final.Win) || !slices.Equal(nets[0].WOut, want.Final.Wout) || !slices.Equal(nets[0].B, want.Final.B) {
		t.Fatalf("networks row differs from the direct run's weights")
	}
	wantKey := fmt.Sprintf("campaigns/%s/train/networks/task=gonogo/rule=miconi/seed=%d/part-%s.parquet", plan.CampaignID, unit.Seed, out.Datasets[1].ContentKey)
	if out.Datasets[1].Ref.Key != wantKey {
		t.Errorf("networks key %s, want %s", out.Datasets[1].Ref.Key, wantKey)
	}

	if again := run(in); !again.CacheHit || !slices.Equal(again.Datasets, out.Datasets) {
		t.Fatalf("second run: cache hit %v, datasets %+v; want a hit with %+v", again.CacheHit, again.Datasets, out.Datasets)
	}

	// Forced: recomputed (not a hit) and recommitted, to the same bytes.
	marker := func() string {
		data, err := st.Get(ctx, "commits/"+out.Datasets[1].ContentKey+".json")
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Committed string }
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m.Committed
	}
	before := marker()
	in.Force = true
	if forced := run(in); forced.CacheHit || !slices.Equal(forced.Datasets, out.Datasets) {
		t.Fatalf("forced run: cache hit %v, datasets %+v; want a recomputation giving %+v", forced.CacheHit, forced.Datasets, out.Datasets)
	}
	if after := marker(); after == before {
		t.Errorf("forced run left the commit marker as it was (committed %s)", before)
	}
}

// TestTrainNeedsTheta: a train unit of a discovered rule cannot run
// before its metaopt job is committed (its content keys depend on the
// history); once it is, a unit input without the job's result (what the
// chunk children pass, to keep their inputs small) reads the result from
// the store, and when that result object is unusable the unit fails
// without retries, naming the unit.
func TestTrainNeedsTheta(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref := storePlan(t, st, plan)
	unit := plan.Train[2]
	if unit.Metaopt == "" {
		t.Fatalf("unit %s trains no discovered rule", unit.ID)
	}
	in := unitInput(t, plan, ref, unit.ID)
	if _, err := a.Unit(ctx, in); err == nil || !strings.Contains(err.Error(), unit.ID) || !strings.Contains(err.Error(), unit.Metaopt+" is not committed") {
		t.Fatalf("before its metaopt job: err = %v, want one naming %s and its uncommitted input %s", err, unit.ID, unit.Metaopt)
	}
	job := mustUnit(t, ctx, a, unitInput(t, plan, ref, unit.Metaopt))
	out := mustUnit(t, ctx, a, in)
	if out.CacheHit || len(out.Datasets) != 2 {
		t.Fatalf("without the result in its input: %+v, want the unit computed from the stored result", out)
	}
	// The same unit given the result in its input: the same datasets.
	in.Metaopt, in.Force = map[string]MetaoptResult{unit.Metaopt: *job.Metaopt}, true
	if again := mustUnit(t, ctx, a, in); again.Datasets[1].Ref.SHA256 != out.Datasets[1].Ref.SHA256 {
		t.Fatalf("networks from the input's result %s, from the stored result %s: they differ", again.Datasets[1].Ref.SHA256, out.Datasets[1].Ref.SHA256)
	}
	// A result object without a committed dataset is no result.
	resKey, err := store.CheckpointKey(plan.CampaignID, "metaopt/"+job.Datasets[0].ContentKey+"/result.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, resKey, []byte(`{"job":"`+unit.Metaopt+`"}`), "application/json"); err != nil {
		t.Fatal(err)
	}
	in.Metaopt = nil
	_, err = a.Unit(ctx, in)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(app.Message(), errNoTheta.Error()) || !strings.Contains(app.Message(), unit.ID) {
		t.Fatalf("err = %v, want a non-retryable error naming the unit: %v", err, errNoTheta)
	}
}

// TestMetaoptResume interrupts a job after its second iteration, runs it
// again (it must resume from the checkpoint, not start over), and checks
// the result is bit-identical to an uninterrupted run in another store;
// the job is then a cache hit, also for another campaign with the same
// units (content keys do not contain the campaign), and a forced run
// computes every iteration again.
func TestMetaoptResume(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	job := plan.Metaopt[0]
	ctx := t.Context()
	ref := storePlan(t, st, plan)
	in := unitInput(t, plan, ref, job.ID)

	cctx, cancel := context.WithCancel(ctx)
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	a.afterIteration = func(iter int) {
		if iter == 1 {
			cancel()
		}
	}
	if _, err := a.Unit(cctx, in); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	var ran []int
	a.afterIteration = func(iter int) { ran = append(ran, iter) }
	out := mustUnit(t, ctx, a, in)
	if !slices.Equal(ran, []int{2, 3}) {
		t.Fatalf("resumed run computed iterations %v, want [2 3] (0 and 1 come from the checkpoint)", ran)
	}
	if out.CacheHit || out.Metaopt == nil || len(out.Datasets) != 1 || out.Datasets[0] != out.Metaopt.Dataset {
		t.Fatalf("resumed run: %+v; want a miss with the job's result and its history", out)
	}
	resumed := *out.Metaopt

	// Uninterrupted, in a store that has neither the history nor a
	// checkpoint.
	fst := newStore(t)
	b := &Activities{Store: fst, EngineVersion: "test", Workers: 1}
	var franc []int
	b.afterIteration = func(iter int) { franc = append(franc, iter) }
	fout := mustUnit(t, ctx, b, unitInput(t, plan, storePlan(t, fst, plan), job.ID))
	if !slices.Equal(franc, []int{0, 1, 2, 3}) || fout.CacheHit {
		t.Fatalf("fresh run computed iterations %v (cache hit %v), want [0 1 2 3]", franc, fout.CacheHit)
	}
	fresh := *fout.Metaopt
	if fmt.Sprint(resumed.Theta) != fmt.Sprint(fresh.Theta) || *resumed.HeldOutJ != *fresh.HeldOutJ {
		t.Fatalf("resumed Θ %v (held-out J %v) differs from the uninterrupted %v (%v)", resumed.Theta, *resumed.HeldOutJ, fresh.Theta, *fresh.HeldOutJ)
	}
	// The same content key (the bytes differ: rows record wall times).
	if resumed.Dataset.ContentKey != fresh.Dataset.ContentKey || resumed.Dataset.Ref.Key != fresh.Dataset.Ref.Key {
		t.Errorf("resumed history %+v, uninterrupted %+v: want the same content key", resumed.Dataset, fresh.Dataset)
	}
	r1, info, err := store.ReadRows[schemas.MetaoptRow](ctx, st, resumed.Dataset.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if v := stages.Current()[pipelines.StageMetaopt]; info.EngineVersion != v {
		t.Errorf("history engine version %q, want the metaopt stage's %q", info.EngineVersion, v)
	}
	r2, _, err := store.ReadRows[schemas.MetaoptRow](ctx, fst, fresh.Dataset.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != 5 || len(r2) != 5 {
		t.Fatalf("history rows %d and %d, want 4 iterations and the final Θ", len(r1), len(r2))
	}
	if f := r1[4]; !math.IsNaN(f.J) || f.Grad != nil || f.HeldoutJ != *resumed.HeldOutJ || fmt.Sprint(f.Theta) != fmt.Sprint(slices.Concat(resumed.Theta...)) {
		t.Errorf("final row %+v: want J and the gradient null, held-out J %v and Θ %v", f, *resumed.HeldOutJ, resumed.Theta)
	}
	for i := range r1 {
		if !slices.Equal(r1[i].Theta, r2[i].Theta) || !sameFloat(r1[i].J, r2[i].J) || !slices.Equal(r1[i].Grad, r2[i].Grad) || r1[i].Iter != int64(i) {
			t.Fatalf("iteration %d: resumed row %+v, fresh row %+v", i, r1[i], r2[i])
		}
	}

	// Again, and in another campaign with the same units: cache hits on
	// the committed history, whose result is read from the campaign that
	// computed it.
	other := parsePlan(t, "tiny.yaml", func(s string) string { return strings.Replace(s, "name: tiny", "name: tiny-copy", 1) })
	if other.CampaignID == plan.CampaignID {
		t.Fatal("renaming the campaign kept its ID")
	}
	for _, p := range []*pipelines.Plan{plan, other} {
		ran = nil
		hit := mustUnit(t, ctx, a, unitInput(t, p, storePlan(t, st, p), job.ID))
		if !hit.CacheHit || len(ran) != 0 || hit.Metaopt == nil || !hit.Metaopt.CacheHit || hit.Metaopt.Dataset.Ref != resumed.Dataset.Ref ||
			fmt.Sprint(hit.Metaopt.Theta) != fmt.Sprint(resumed.Theta) || !slices.Equal(hit.Datasets, out.Datasets) {
			t.Fatalf("campaign %s: %+v, ran %v; want a hit on %+v", p.CampaignID, hit, ran, resumed.Dataset.Ref)
		}
	}

	// Forced: every iteration again, although the history is committed and
	// the campaign's checkpoint holds all four iterations.
	ran = nil
	fin := in
	fin.Force = true
	forced := mustUnit(t, ctx, a, fin)
	if forced.CacheHit || !slices.Equal(ran, []int{0, 1, 2, 3}) || fmt.Sprint(forced.Metaopt.Theta) != fmt.Sprint(fresh.Theta) {
		t.Fatalf("forced run: cache hit %v, computed iterations %v, Θ %v; want a miss computing [0 1 2 3] to Θ %v", forced.CacheHit, ran, forced.Metaopt.Theta, fresh.Theta)
	}

	// A unit trained with the discovered rule runs with it.
	tin := unitInput(t, plan, ref, plan.Train[2].ID)
	tin.Metaopt = map[string]MetaoptResult{job.ID: *forced.Metaopt}
	if tr := mustUnit(t, ctx, a, tin); tr.CacheHit || len(tr.Datasets) != 2 {
		t.Fatalf("train with Θ: %+v", tr)
	}
}

// TestTrainDiverged: a network that diverges is committed as data — its
// finished trials, a NaN row for the trial where it diverged, and its
// weights — not reported as a failure.
func TestTrainDiverged(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	unit := &plan.Train[0]
	unit.Params.Eta, unit.Params.Clip, unit.Params.MaxWeight = 1e3, 0, 5
	id, err := plan.ID()
	if err != nil {
		t.Fatal(err)
	}
	plan.CampaignID = id
	setup, err := unit.Setup(nil)
	if err != nil {
		t.Fatal(err)
	}
	direct, derr := train.Run(t.Context(), setup, unit.Seed, nil)
	if !errors.Is(derr, plasticity.ErrDiverged) {
		t.Fatalf("the test setup does not diverge (err %v): make it stronger", derr)
	}
	a := &Activities{Store: st, EngineVersion: "test"}
	out, err := a.Unit(t.Context(), unitInput(t, plan, storePlan(t, st, plan), unit.ID))
	if err != nil {
		t.Fatalf("a diverged network failed the unit: %v", err)
	}
	curves, _, err := store.ReadRows[schemas.LearningCurveRow](t.Context(), st, out.Datasets[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(curves) != direct.Trials+1 {
		t.Fatalf("%d curve rows, want the %d finished trials + 1", len(curves), direct.Trials)
	}
	last := curves[len(curves)-1]
	if !math.IsNaN(last.Error) || last.Condition != -1 || last.Trial != int64(direct.Trials) {
		t.Errorf("divergence row %+v, want error NaN, condition -1, trial %d", last, direct.Trials)
	}
	nets, _, err := store.ReadRows[schemas.NetworkRow](t.Context(), st, out.Datasets[1].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if nets[0].Trials != int64(direct.Trials) || nets[0].TrialsToCriterion != -1 {
		t.Errorf("networks row: trials %d, to criterion %d; want %d, -1", nets[0].Trials, nets[0].TrialsToCriterion, direct.Trials)
	}
}

// TestManifest: before the units ran the manifest fails naming the first
// unit whose datasets are missing; after they ran it lists every dataset
// but the report's, in plan order, with its URI, the parameters of its
// unit and their digest, and records the stored plan and the stages'
// versions; written again with nothing changed, it is not rewritten.
func TestManifest(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	data, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "manifest-test", Workers: 1}
	ref := storePlan(t, st, plan)
	statuses := map[string]string{}
	for _, s := range plan.Stages {
		statuses[string(s.Name)] = "completed"
	}
	in := ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: statuses}
	if _, err := a.Manifest(ctx, in); err == nil || !strings.Contains(err.Error(), "metaopt/discovered") || !strings.Contains(err.Error(), "not committed") {
		t.Fatalf("manifest before the units ran: err = %v, want the missing metaopt history named", err)
	}
	mo := mustUnit(t, ctx, a, unitInput(t, plan, ref, plan.Metaopt[0].ID))
	if _, err := a.Manifest(ctx, in); err == nil || !strings.Contains(err.Error(), plan.Train[0].ID) || !strings.Contains(err.Error(), "not committed") {
		t.Fatalf("manifest before the train units ran: err = %v, want %s named", err, plan.Train[0].ID)
	}

	outs, _ := runStages(t, a, plan, ref)
	var want []Dataset
	want = append(want, mo.Datasets...)
	for _, s := range plan.Stages {
		if s.Name == pipelines.StageMetaopt {
			continue
		}
		for _, id := range s.Units {
			want = append(want, outs[id].Datasets...)
		}
	}

	out, err := a.Manifest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if wantKey := "campaigns/" + plan.CampaignID + "/manifest.json"; out.Key != wantKey || out.Datasets != len(want) {
		t.Fatalf("manifest %+v, want key %s and %d datasets", out, wantKey, len(want))
	}
	raw, err := st.Get(ctx, out.Key)
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Campaign != plan.CampaignID || m.Name != "tiny" || m.File != "tiny.yaml" || m.EngineVersion != "manifest-test" || m.Spec != string(data) ||
		m.Stages["train"] != "completed" || len(m.Datasets) != len(want) {
		t.Fatalf("manifest: campaign %s, name %q, file %q, engine %q, %d datasets, stages %v", m.Campaign, m.Name, m.File, m.EngineVersion, len(m.Datasets), m.Stages)
	}
	if m.Plan == nil || *m.Plan != ref {
		t.Errorf("manifest plan %+v, want %+v", m.Plan, ref)
	}
	wantVersions := map[string]string{}
	for _, s := range plan.Stages {
		wantVersions[string(s.Name)] = stages.Current()[s.Name]
	}
	if !maps.Equal(m.StageVersions, wantVersions) {
		t.Errorf("stage versions %v, want %v", m.StageVersions, wantVersions)
	}
	for i, e := range m.Datasets {
		if e.Dataset != want[i] || e.URI != "s3://"+st.Bucket()+"/"+want[i].Ref.Key {
			t.Errorf("entry %d: %+v, want %+v", i, e.Dataset, want[i])
		}
		if e.Stage == string(pipelines.StageReport) {
			t.Errorf("entry %d is the report's: the manifest is written before it", i)
		}
	}
	unit := plan.Train[1]
	wantSHA, err := store.ParamsSHA256(unit.Key())
	if err != nil {
		t.Fatal(err)
	}
	e := m.Datasets[1+2*1] // metaopt history, then two datasets per train unit
	var params struct {
		Seed uint64 `json:"seed"`
	}
	if err := json.Unmarshal(e.Params, &params); err != nil {
		t.Fatal(err)
	}
	if e.Unit != unit.ID || e.ParamsSHA256 != wantSHA || params.Seed != unit.Seed {
		t.Errorf("entry of %s: unit %s, params digest %s, seed %d; want %s and seed %d", unit.ID, e.Unit, e.ParamsSHA256, params.Seed, wantSHA, unit.Seed)
	}

	// Nothing changed: the stored manifest stays as it is.
	if _, err := a.Manifest(ctx, in); err != nil {
		t.Fatal(err)
	}
	if again, err := st.Get(ctx, out.Key); err != nil || string(again) != string(raw) {
		t.Errorf("a manifest listing the same datasets was rewritten (%v)", err)
	}
}

// sameFloat reports whether a and b are equal or both NaN (null in a
// dataset).
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
