package workflows

import (
	"os"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"rulescape/pipelines"
)

// analysisCampaign is activities/testdata/analysis.yaml: gonogo, miconi and
// zero × seeds 1–2, with fixedpoints, rsa, landscape and sensitivity.
func analysisCampaign(t *testing.T) (CampaignInput, *pipelines.Plan) {
	t.Helper()
	data, err := os.ReadFile("../activities/testdata/analysis.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse("analysis.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return CampaignInput{CampaignID: c.ID(), File: "analysis.yaml", YAML: data}, p
}

// TestAnalysisDispatch: after train, the analysis stages run in plan order
// (fixedpoints, rsa, landscape, sensitivity), each unit getting the refs of
// exactly the networks datasets of its input train units — and the
// landscape unit those of the fixed_points datasets its fixedpoints units
// returned; progress counts units and cache hits.
func TestAnalysisDispatch(t *testing.T) {
	in, plan := analysisCampaign(t)
	f := &fakes{}
	_, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints",
		"RSA", "Landscape", "Sensitivity", "Sensitivity", "Sensitivity", "Sensitivity", "Manifest"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	var units []string
	for _, a := range f.analysis {
		units = append(units, a.Unit.ID)
		if a.CampaignID != in.CampaignID || a.Force {
			t.Errorf("%s: campaign %q, force %v", a.Unit.ID, a.CampaignID, a.Force)
		}
		if len(a.Networks) != len(a.Unit.Inputs) {
			t.Fatalf("%s: %d networks for inputs %v", a.Unit.ID, len(a.Networks), a.Unit.Inputs)
		}
		if (a.Unit.Stage == pipelines.StageLandscape) != (len(a.FixedPoints) > 0) {
			t.Errorf("%s: %d fixed_points datasets", a.Unit.ID, len(a.FixedPoints))
		}
		for i, d := range a.FixedPoints {
			fp := "fixedpoints/" + strings.TrimPrefix(a.Unit.Inputs[i], "train/")
			if d.Ref.SHA256 != digestOf(fp) || d.Kind != "fixed_points" {
				t.Errorf("%s: fixed points %d are %+v, want those %s returned", a.Unit.ID, i, d, fp)
			}
		}
		for i, n := range a.Networks {
			if n.Unit.ID != a.Unit.Inputs[i] || n.Networks.Ref.SHA256 != digestOf(n.Unit.ID) || n.Theta != nil {
				t.Errorf("%s: network %d is %s with digest %s, want input %s with the digest its train returned",
					a.Unit.ID, i, n.Unit.ID, n.Networks.Ref.SHA256, a.Unit.Inputs[i])
			}
		}
	}
	var wantUnits []string
	for _, s := range plan.Stages {
		if s.Name != pipelines.StageTrain {
			wantUnits = append(wantUnits, s.Units...)
		}
	}
	// Units of one stage run concurrently (max_parallel 2): compare as
	// sets; the calls above fix the stage order.
	slices.Sort(units)
	slices.Sort(wantUnits)
	if !slices.Equal(units, wantUnits) {
		t.Errorf("analysis units %v, want %v", units, wantUnits)
	}
	if rsa := f.analysis[4]; rsa.Unit.Stage != pipelines.StageRSA || len(rsa.Networks) != 4 {
		t.Errorf("call 5 is %s with %d networks, want rsa with all 4 of the task", rsa.Unit.ID, len(rsa.Networks))
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
		{"train", StatusCompleted, 4, 4, 2},
		{"fixedpoints", StatusCompleted, 4, 4, 2},
		{"rsa", StatusCompleted, 1, 1, 0},
		{"landscape", StatusCompleted, 1, 1, 0},
		{"sensitivity", StatusCompleted, 4, 4, 2},
	}
	if !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
}

// TestAnalysisTheta: the fixedpoints unit of a network trained with a
// discovered rule gets its job's Θ; the others get none.
func TestAnalysisTheta(t *testing.T) {
	in, _ := tiny(t)
	f := &fakes{}
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	if len(f.analysis) != 4 {
		t.Fatalf("%d analysis calls, want 4", len(f.analysis))
	}
	for _, a := range f.analysis {
		n := a.Networks[0]
		if disc := n.Unit.Rule == "discovered"; disc != (n.Theta != nil) || (disc && !slices.EqualFunc(n.Theta, discovered, slices.Equal)) {
			t.Errorf("%s: Θ %v", a.Unit.ID, n.Theta)
		}
	}
}

// TestAnalysisForce: forcing rsa forces exactly the rsa unit; forcing
// landscape (`rerun --stage landscape`) forces exactly the landscape unit,
// which still gets the fixed points of the cached fixedpoints units.
func TestAnalysisForce(t *testing.T) {
	in, _ := analysisCampaign(t)
	in.Force = []pipelines.StageName{pipelines.StageRSA}
	f := &fakes{}
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	for _, a := range f.analysis {
		if a.Force != (a.Unit.Stage == pipelines.StageRSA) {
			t.Errorf("%s: force %v", a.Unit.ID, a.Force)
		}
	}
	for _, tr := range f.train {
		if tr.Force {
			t.Errorf("%s forced, want only rsa", tr.Unit.ID)
		}
	}

	in.Force = []pipelines.StageName{pipelines.StageLandscape}
	f = &fakes{}
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	forced := 0
	for _, a := range f.analysis {
		if a.Force != (a.Unit.Stage == pipelines.StageLandscape) {
			t.Errorf("%s: force %v", a.Unit.ID, a.Force)
		}
		if a.Force {
			forced++
			if len(a.FixedPoints) != 4 {
				t.Errorf("forced landscape got %d fixed_points datasets, want 4", len(a.FixedPoints))
			}
		}
	}
	if forced != 1 {
		t.Errorf("%d forced units, want the landscape unit", forced)
	}
}

// TestLandscapeNeedsVersion: a history recorded before the landscape
// activity (GetVersion "campaign-landscape" at DefaultVersion) leaves the
// stage skipped; the current version runs it.
func TestLandscapeNeedsVersion(t *testing.T) {
	in, _ := analysisCampaign(t)
	f := &fakes{}
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	f.register(env)
	env.OnGetVersion("campaign-landscape", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.ExecuteWorkflow(CampaignWorkflow, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow: completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var res CampaignResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(f.calls, "Landscape") {
		t.Errorf("calls %v: landscape ran at DefaultVersion", f.calls)
	}
	for _, s := range res.Stages {
		if s.Name == "landscape" && s.Status != SkippedNotImplemented {
			t.Errorf("landscape stage %+v, want skipped", s)
		}
	}
}

// TestAnalysisFailure: a failing analysis unit fails the campaign with an
// error naming it, after the stage's other units finished, and no later
// stage or manifest runs.
func TestAnalysisFailure(t *testing.T) {
	in, _ := analysisCampaign(t)
	f := &fakes{failUnit: "fixedpoints/gonogo/zero/seed=1"}
	_, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), f.failUnit+" failed") || !strings.Contains(err.Error(), "no fixed points") {
		t.Fatalf("err = %v, want the failing unit named with its cause", err)
	}
	if slices.Contains(f.calls, "RSA") || slices.Contains(f.calls, "Manifest") {
		t.Errorf("calls %v: nothing should run after the failed stage", f.calls)
	}
}
