package activities

import (
	"context"
	"math"
	"os"
	"testing"

	"rulescape/core/train"
	"rulescape/pipelines"
	"rulescape/store"
)

func runDirect(t *testing.T, s *train.Setup, seed uint64) *train.Result {
	t.Helper()
	res, err := train.Run(t.Context(), s, seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// frobenius is the Frobenius norm of a, written out.
func frobenius(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

// parsePlan plans a campaign file of testdata; edit, if set, changes its
// text first (another name is another campaign with the same units).
func parsePlan(t *testing.T, file string, edit func(string) string) *pipelines.Plan {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	if edit != nil {
		text = edit(text)
	}
	c, err := pipelines.Parse(file, []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// storePlan stores a plan as the CLI does and returns its ref.
func storePlan(t *testing.T, st *store.Store, plan *pipelines.Plan) PlanRef {
	t.Helper()
	ref, err := StorePlan(t.Context(), st, plan)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// unitInput is the input of unit id of a stored plan: its stage and its
// index in the stage, as the workflow passes them.
func unitInput(t *testing.T, plan *pipelines.Plan, ref PlanRef, id string) UnitInput {
	t.Helper()
	for _, s := range plan.Stages {
		for i, u := range s.Units {
			if u == id {
				return UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s.Name, Index: i}
			}
		}
	}
	t.Fatalf("no unit %s in the plan of %s", id, plan.CampaignID)
	return UnitInput{}
}

// mustUnit runs a unit through Unit and fails the test on an error.
func mustUnit(t *testing.T, ctx context.Context, a *Activities, in UnitInput) UnitOutput {
	t.Helper()
	out, err := a.Unit(ctx, in)
	if err != nil {
		t.Fatalf("unit %s #%d: %v", in.Stage, in.Index, err)
	}
	return out
}

// runStages runs every unit of every stage of a stored plan but the
// report through Unit, in stage order as the workflow does, and returns
// the outputs by unit ID and the metaopt results.
func runStages(t *testing.T, a *Activities, plan *pipelines.Plan, ref PlanRef) (map[string]UnitOutput, map[string]MetaoptResult) {
	t.Helper()
	outs := map[string]UnitOutput{}
	results := map[string]MetaoptResult{}
	for _, s := range plan.Stages {
		if s.Name == pipelines.StageReport {
			continue
		}
		for i := range s.Units {
			in := UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s.Name, Index: i}
			if s.Name != pipelines.StageMetaopt {
				in.Metaopt = results
			}
			out := mustUnit(t, t.Context(), a, in)
			outs[out.Unit] = out
			if out.Metaopt != nil {
				results[out.Unit] = *out.Metaopt
			}
		}
	}
	return outs, results
}

// runPlan runs a plan as RunLocal does — every unit, the manifest, the
// report unit — and returns every unit's output by ID, so a test can see
// which were cache hits.
func runPlan(t *testing.T, a *Activities, plan *pipelines.Plan) map[string]UnitOutput {
	t.Helper()
	ref := storePlan(t, a.Store, plan)
	outs, results := runStages(t, a, plan, ref)
	statuses := map[string]string{}
	for _, s := range plan.Stages {
		statuses[string(s.Name)] = "completed"
	}
	if _, err := a.Manifest(t.Context(), ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: statuses}); err != nil {
		t.Fatal(err)
	}
	if plan.Stage(pipelines.StageReport) != nil {
		out := mustUnit(t, t.Context(), a, UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: pipelines.StageReport, Metaopt: results})
		outs[out.Unit] = out
	}
	return outs
}
