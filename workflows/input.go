package workflows

import (
	"context"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/store"
)

// NewInput stores a campaign's plan where its workflow and activities read
// it (store.PlanKey of its digest; the same plan is the same object) and
// returns the workflow's input: the plan's ref and outline. force lists
// the stages to recompute (rerun), nil for a plain run.
func NewInput(ctx context.Context, st *store.Store, plan *pipelines.Plan, force []pipelines.StageName) (CampaignInput, error) {
	ref, err := activities.StorePlan(ctx, st, plan)
	if err != nil {
		return CampaignInput{}, err
	}
	return CampaignInput{CampaignID: plan.CampaignID, Plan: ref,
		Outline: plan.Outline(), Force: force}, nil
}
