package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	data, err := os.ReadFile("testdata/tiny.yaml")
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
	return p
}

// TestTrain trains one unit through the Temporal activity environment,
// reads both datasets back and checks them against a direct train.Run, then
// runs it again: a cache hit with the same refs.
func TestTrain(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	a := &Activities{Store: st, EngineVersion: "test"}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	unit := plan.Train[0]
	in := TrainInput{CampaignID: plan.CampaignID, Unit: unit}

	val, err := env.ExecuteActivity(TrainName, in)
	if err != nil {
		t.Fatal(err)
	}
	var out TrainOutput
	if err := val.Get(&out); err != nil {
		t.Fatal(err)
	}
	if out.CacheHit || len(out.Datasets) != 2 {
		t.Fatalf("first run: cache hit %v, %d datasets; want a miss with 2", out.CacheHit, len(out.Datasets))
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
	if info.Campaign != plan.CampaignID || info.EngineVersion != "test" || info.ParamsSHA256 == "" {
		t.Errorf("learning_curves metadata %+v: want campaign %s, engine test and a params digest", info.Meta, plan.CampaignID)
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

	val, err = env.ExecuteActivity(TrainName, in)
	if err != nil {
		t.Fatal(err)
	}
	var again TrainOutput
	if err := val.Get(&again); err != nil {
		t.Fatal(err)
	}
	if !again.CacheHit || !slices.Equal(again.Datasets, out.Datasets) {
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
	val, err = env.ExecuteActivity(TrainName, in)
	if err != nil {
		t.Fatal(err)
	}
	var forced TrainOutput
	if err := val.Get(&forced); err != nil {
		t.Fatal(err)
	}
	if forced.CacheHit || !slices.Equal(forced.Datasets, out.Datasets) {
		t.Fatalf("forced run: cache hit %v, datasets %+v; want a recomputation giving %+v", forced.CacheHit, forced.Datasets, out.Datasets)
	}
	if after := marker(); after == before {
		t.Errorf("forced run left the commit marker as it was (committed %s)", before)
	}
}

// TestTrainNeedsTheta: a unit with a discovered rule and no metaopt result
// fails without retries, naming the unit.
func TestTrainNeedsTheta(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	a := &Activities{Store: st, EngineVersion: "test"}
	_, err := a.computeTrain(t.Context(), TrainInput{CampaignID: plan.CampaignID, Unit: plan.Train[2]})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() || !strings.Contains(app.Message(), errNoTheta.Error()) || !strings.Contains(app.Message(), plan.Train[2].ID) {
		t.Fatalf("err = %v, want a non-retryable error naming the unit: %v", err, errNoTheta)
	}
}

// TestMetaoptResume interrupts a job after its second iteration, runs it
// again (it must resume from the checkpoint, not start over), and checks
// the result is bit-identical to an uninterrupted run in another campaign;
// a third run is a cache hit.
func TestMetaoptResume(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	job := plan.Metaopt[0]
	ctx := t.Context()

	cctx, cancel := context.WithCancel(ctx)
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	a.afterIteration = func(iter int) {
		if iter == 1 {
			cancel()
		}
	}
	if _, err := a.computeMetaopt(cctx, MetaoptInput{CampaignID: "interrupted", Job: job}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err = %v, want context.Canceled", err)
	}
	var ran []int
	a.afterIteration = func(iter int) { ran = append(ran, iter) }
	resumed, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: "interrupted", Job: job})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []int{2, 3}) {
		t.Fatalf("resumed run computed iterations %v, want [2 3] (0 and 1 come from the checkpoint)", ran)
	}

	if err := st.Invalidate(ctx, resumed.Dataset.ContentKey); err != nil {
		t.Fatal(err)
	}
	ran = nil
	fresh, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: "fresh", Job: job})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []int{0, 1, 2, 3}) {
		t.Fatalf("fresh run computed iterations %v, want [0 1 2 3]", ran)
	}
	if fmt.Sprint(resumed.Theta) != fmt.Sprint(fresh.Theta) || *resumed.HeldOutJ != *fresh.HeldOutJ {
		t.Fatalf("resumed Θ %v (held-out J %v) differs from the uninterrupted %v (%v)", resumed.Theta, *resumed.HeldOutJ, fresh.Theta, *fresh.HeldOutJ)
	}
	r1, _, err := store.ReadRows[schemas.MetaoptRow](ctx, st, resumed.Dataset.Ref)
	if err != nil {
		t.Fatal(err)
	}
	r2, _, err := store.ReadRows[schemas.MetaoptRow](ctx, st, fresh.Dataset.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(r1) != 4 || len(r2) != 4 {
		t.Fatalf("history rows %d and %d, want 4", len(r1), len(r2))
	}
	for i := range r1 {
		if !slices.Equal(r1[i].Theta, r2[i].Theta) || r1[i].J != r2[i].J || !slices.Equal(r1[i].Grad, r2[i].Grad) || r1[i].Iter != int64(i) {
			t.Fatalf("iteration %d: resumed row %+v, fresh row %+v", i, r1[i], r2[i])
		}
	}

	ran = nil
	hit, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: "third", Job: job})
	if err != nil {
		t.Fatal(err)
	}
	if !hit.CacheHit || len(ran) != 0 || hit.Dataset.Ref != fresh.Dataset.Ref || fmt.Sprint(hit.Theta) != fmt.Sprint(fresh.Theta) {
		t.Fatalf("third run: cache hit %v, ran %v, ref %+v; want a hit on %+v", hit.CacheHit, ran, hit.Dataset.Ref, fresh.Dataset.Ref)
	}

	// Forced: every iteration again, although the history is committed and
	// the campaign's checkpoint holds all four iterations.
	ran = nil
	forced, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: "fresh", Job: job, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if forced.CacheHit || !slices.Equal(ran, []int{0, 1, 2, 3}) || fmt.Sprint(forced.Theta) != fmt.Sprint(fresh.Theta) {
		t.Fatalf("forced run: cache hit %v, computed iterations %v, Θ %v; want a miss computing [0 1 2 3] to Θ %v", forced.CacheHit, ran, forced.Theta, fresh.Theta)
	}

	// A unit trained with the discovered rule runs with it.
	tr, err := a.computeTrain(ctx, TrainInput{CampaignID: "fresh", Unit: plan.Train[2], Metaopt: &fresh})
	if err != nil {
		t.Fatal(err)
	}
	if tr.CacheHit || len(tr.Datasets) != 2 {
		t.Fatalf("train with Θ: %+v", tr)
	}
}

// TestTrainDiverged: a network that diverges is committed as data — its
// finished trials, a NaN row for the trial where it diverged, and its
// weights — not reported as a failure.
func TestTrainDiverged(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	unit := plan.Train[0]
	unit.Params.Eta, unit.Params.Clip, unit.Params.MaxWeight = 1e3, 0, 5
	setup, err := unit.Setup(nil)
	if err != nil {
		t.Fatal(err)
	}
	direct, derr := train.Run(t.Context(), setup, unit.Seed, nil)
	if !errors.Is(derr, plasticity.ErrDiverged) {
		t.Fatalf("the test setup does not diverge (err %v): make it stronger", derr)
	}
	a := &Activities{Store: st, EngineVersion: "test"}
	out, err := a.computeTrain(t.Context(), TrainInput{CampaignID: plan.CampaignID, Unit: unit})
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

// TestManifest: before the units ran the manifest fails naming a missing
// dataset; after they ran it lists every dataset with its URI, the
// parameters of its unit and their digest, in plan order.
func TestManifest(t *testing.T) {
	st := newStore(t)
	plan := tinyPlan(t)
	data, err := os.ReadFile("testdata/tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	a := &Activities{Store: st, EngineVersion: "manifest-test"}
	in := ManifestInput{CampaignID: plan.CampaignID, File: "tiny.yaml", YAML: data, Stages: map[string]string{"train": "completed"}}
	if _, err := a.Manifest(ctx, in); err == nil || !strings.Contains(err.Error(), "metaopt/discovered") || !strings.Contains(err.Error(), "not committed") {
		t.Fatalf("manifest before the units ran: err = %v, want the missing metaopt history named", err)
	}

	res, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: plan.CampaignID, Job: plan.Metaopt[0]})
	if err != nil {
		t.Fatal(err)
	}
	var want []Dataset
	want = append(want, res.Dataset)
	for _, u := range plan.Train {
		in := TrainInput{CampaignID: plan.CampaignID, Unit: u}
		if u.Metaopt != "" {
			in.Metaopt = &res
		}
		out, err := a.computeTrain(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, out.Datasets...)
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
	if m.Name != "tiny" || m.EngineVersion != "manifest-test" || m.Spec != string(data) || m.Stages["train"] != "completed" || len(m.Datasets) != len(want) {
		t.Fatalf("manifest: name %q, engine %q, %d datasets, stages %v", m.Name, m.EngineVersion, len(m.Datasets), m.Stages)
	}
	for i, e := range m.Datasets {
		if e.Dataset != want[i] || e.URI != "s3://"+st.Bucket()+"/"+want[i].Ref.Key {
			t.Errorf("entry %d: %+v, want %+v", i, e.Dataset, want[i])
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
}
