package workflows

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"rulescape/pipelines"
)

// analysisCampaign is activities/testdata/analysis.yaml: gonogo, miconi and
// zero × seeds 1–2, with fixedpoints, rsa, landscape and sensitivity.
func analysisCampaign(t *testing.T) (CampaignInput, *pipelines.Plan) {
	t.Helper()
	return planned(t, "analysis.yaml")
}

// TestAnalysisDispatch: after train, the analysis stages run in plan order
// (fixedpoints, rsa, landscape, sensitivity), each unit once under its
// stage's activity with the campaign's plan — the activity finds its
// inputs there and in the store — and no metaopt results (the campaign has
// no metaopt job); progress counts units and cache hits; without a report
// stage the result names no report.
func TestAnalysisDispatch(t *testing.T) {
	in, plan := analysisCampaign(t)
	f := newFakes(in, plan)
	_, res, err := run(t, f, in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Train", "Train", "Train", "Train", "FixedPoints", "FixedPoints", "FixedPoints", "FixedPoints",
		"RSA", "Landscape", "Sensitivity", "Sensitivity", "Sensitivity", "Sensitivity", "Manifest"}
	if !slices.Equal(f.calls, want) {
		t.Fatalf("calls %v, want %v", f.calls, want)
	}
	checkIndexes(t, f)
	for _, u := range f.units {
		if u.Force || u.Metaopt != nil || u.Stages != nil {
			t.Errorf("%s: force %v, metaopt %v, stages %v", f.unitID(u.Stage, u.Index), u.Force, u.Metaopt, u.Stages)
		}
	}
	// The stages' order in the outline is the plan's.
	var names []string
	for _, s := range in.Outline.Stages {
		names = append(names, string(s.Name))
	}
	if !slices.Equal(names, []string{"train", "fixedpoints", "rsa", "landscape", "sensitivity"}) {
		t.Fatalf("outline stages %v", names)
	}
	wantStages := []stageCounts{
		{"train", StatusCompleted, 4, 4, 2},
		{"fixedpoints", StatusCompleted, 4, 4, 2},
		{"rsa", StatusCompleted, 1, 1, 0},
		{"landscape", StatusCompleted, 1, 1, 0},
		{"sensitivity", StatusCompleted, 4, 4, 2},
	}
	if got := counts(res.Stages); !slices.Equal(got, wantStages) {
		t.Fatalf("stages %+v, want %+v", got, wantStages)
	}
	if res.Report != "" || len(f.prune) != 0 {
		t.Errorf("report %q, prune %+v: want neither", res.Report, f.prune)
	}
	if len(f.manifest) != 1 || len(f.manifest[0].Stages) != 5 || f.manifest[0].Stages["sensitivity"] != StatusCompleted {
		t.Errorf("manifest inputs %+v", f.manifest)
	}
}

// TestAnalysisTheta: the analysis units of a campaign with a discovered
// rule get the results of its metaopt job (the activity passes Θ on to the
// networks of that rule).
func TestAnalysisTheta(t *testing.T) {
	in, plan := tiny(t)
	f := newFakes(in, plan)
	if _, _, err := run(t, f, in); err != nil {
		t.Fatal(err)
	}
	if n := len(f.byStage(pipelines.StageFixedPoints)); n != 4 {
		t.Fatalf("%d fixedpoints calls, want 4", n)
	}
	checkTheta(t, f)
}

// TestAnalysisForce: `rerun --stage rsa` forces exactly the rsa unit;
// forcing landscape and sensitivity forces exactly their units. Each time
// Prune runs once, after the manifest, with the forced stages; the units
// not forced are cache hits as usual.
func TestAnalysisForce(t *testing.T) {
	for _, force := range [][]pipelines.StageName{
		{pipelines.StageRSA},
		{pipelines.StageLandscape, pipelines.StageSensitivity},
	} {
		in, plan := analysisCampaign(t)
		in.Force = force
		f := newFakes(in, plan)
		_, res, err := run(t, f, in)
		if err != nil {
			t.Fatal(err)
		}
		forced := 0
		for _, u := range f.units {
			if u.Force != slices.Contains(force, u.Stage) {
				t.Errorf("force %v: %s forced %v", force, f.unitID(u.Stage, u.Index), u.Force)
			}
			if u.Force {
				forced++
			}
		}
		want := 0
		for _, s := range force {
			want += len(plan.Stage(s).Units)
		}
		if forced != want {
			t.Errorf("force %v: %d forced units, want %d", force, forced, want)
		}
		if n := len(f.calls); n < 2 || f.calls[n-2] != "Manifest" || f.calls[n-1] != "Prune" {
			t.Errorf("force %v: calls %v, want the manifest then prune last", force, f.calls)
		}
		if len(f.prune) != 1 || f.prune[0].CampaignID != in.CampaignID || !slices.Equal(f.prune[0].Stages, force) {
			t.Errorf("force %v: prune inputs %+v", force, f.prune)
		}
		for _, s := range res.Stages {
			if slices.Contains(force, pipelines.StageName(s.Name)) && s.CacheHits != 0 {
				t.Errorf("force %v: forced stage %+v has cache hits", force, s)
			}
		}
		if res.Stages[0].CacheHits != 2 {
			t.Errorf("force %v: train %+v, want its cache hits", force, res.Stages[0])
		}
	}
}

// TestAnalysisFailure: a failing analysis unit fails the campaign with an
// error naming it, and no later stage or manifest runs.
func TestAnalysisFailure(t *testing.T) {
	in, plan := analysisCampaign(t)
	f := newFakes(in, plan)
	f.failBad = "fixedpoints/gonogo/zero/seed=1"
	i := slices.Index(plan.Stage(pipelines.StageFixedPoints).Units, f.failBad)
	if i < 0 {
		t.Fatalf("no unit %s in the plan", f.failBad)
	}
	env, _, err := run(t, f, in)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("fixedpoints unit %d failed: no fixed points", i+1)) {
		t.Fatalf("err = %v, want the failing unit named with its cause", err)
	}
	if slices.Contains(f.calls, "RSA") || slices.Contains(f.calls, "Manifest") {
		t.Errorf("calls %v: nothing should run after the failed stage", f.calls)
	}
	if n := len(f.byStage(pipelines.StageFixedPoints)); n < i+1 {
		t.Errorf("%d fixedpoints units ran", n)
	}
	p := query(t, env)
	if p.Status != StatusFailed || p.Stages[1].Status != StatusFailed || p.Stages[2].Status != StatusPending {
		t.Errorf("progress %+v", p)
	}
}
