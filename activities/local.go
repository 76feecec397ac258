package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/store"
)

// StorePlan stores a plan at store.PlanKey of its digest (the same plan is
// the same object) and returns its ref.
func StorePlan(ctx context.Context, st *store.Store, plan *pipelines.Plan) (PlanRef, error) {
	data, sum, err := plan.Encode()
	if err != nil {
		return PlanRef{}, err
	}
	key, err := store.PlanKey(sum)
	if err != nil {
		return PlanRef{}, err
	}
	if err := st.Put(ctx, key, data, "application/json"); err != nil {
		return PlanRef{}, fmt.Errorf("activities: storing the plan of campaign %s: %w", plan.CampaignID, err)
	}
	return PlanRef{Key: key, SHA256: sum, Size: int64(len(data))}, nil
}

// RunLocal runs a plan in this process without Temporal: every unit of
// every stage in order, one at a time, each exactly as the campaign
// workflow's activity runs it (Unit), then the manifest and the report
// unit. It is for tests, scripts and notebooks that want a campaign's
// datasets without services beyond the store; results and content keys
// are those of a campaign run.
func (a *Activities) RunLocal(ctx context.Context, plan *pipelines.Plan) (ManifestOutput, error) {
	ref, err := StorePlan(ctx, a.Store, plan)
	if err != nil {
		return ManifestOutput{}, err
	}
	results := map[string]MetaoptResult{}
	statuses := map[string]string{}
	for _, s := range plan.Stages {
		if s.Name == pipelines.StageReport {
			statuses[string(s.Name)] = "running"
			continue
		}
		for i := range s.Units {
			in := UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: s.Name, Index: i}
			if s.Name != pipelines.StageMetaopt {
				in.Metaopt = results
			}
			out, err := a.Unit(ctx, in)
			if err != nil {
				return ManifestOutput{}, err
			}
			if out.Metaopt != nil {
				results[out.Unit] = *out.Metaopt
			}
		}
		statuses[string(s.Name)] = "completed"
	}
	man, err := a.Manifest(ctx, ManifestInput{CampaignID: plan.CampaignID, Plan: ref, Stages: statuses})
	if err != nil {
		return man, err
	}
	if plan.Stage(pipelines.StageReport) != nil {
		if _, err := a.Unit(ctx, UnitInput{CampaignID: plan.CampaignID, Plan: ref, Stage: pipelines.StageReport, Metaopt: results}); err != nil {
			return man, err
		}
	}
	return man, nil
}
