package workflows

import (
	"context"
	"fmt"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/store"
)

// NewInput stores a campaign's plan where its workflow and activities read
// it (store.PlanKey of its digest; the same plan is the same object) and
// returns the workflow's input: the plan's ref and outline. force lists
// the stages to recompute (rerun), nil for a plain run.
func NewInput(ctx context.Context, st *store.Store, plan *pipelines.Plan, force []pipelines.StageName) (CampaignInput, error) {
	data, sum, err := plan.Encode()
	if err != nil {
		return CampaignInput{}, err
	}
	key, err := store.PlanKey(sum)
	if err != nil {
		return CampaignInput{}, err
	}
	if err := st.Put(ctx, key, data, "application/json"); err != nil {
		return CampaignInput{}, fmt.Errorf("storing the plan of campaign %s: %w", plan.CampaignID, err)
	}
	return CampaignInput{CampaignID: plan.CampaignID, Plan: activities.PlanRef{Key: key, SHA256: sum, Size: int64(len(data))},
		Outline: plan.Outline(), Force: force}, nil
}
