package main

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/converter"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/workflows"
)

// errLegacyCampaign says that a campaign ID is of format v1, which stored
// no plan.
var errLegacyCampaign = errors.New("campaign of ID v1")

// storedPlan returns the plan a campaign ran: the one its manifest names
// or, for a campaign without a manifest yet, the one its workflow's input
// names. A campaign of ID v1 (no stored plan) is an error that says to run
// its file again.
func storedPlan(ctx context.Context, s *services, id string) (*pipelines.Plan, error) {
	ref, err := planRefOf(ctx, s, id)
	if err != nil {
		return nil, err
	}
	data, err := s.store.Get(ctx, ref.Key)
	if err != nil {
		return nil, fmt.Errorf("reading the plan of campaign %s (%s): %w", id, ref.Key, err)
	}
	return pipelines.DecodePlan(data, ref.SHA256)
}

// planRefOf finds the stored plan of a campaign.
func planRefOf(ctx context.Context, s *services, id string) (activities.PlanRef, error) {
	m, _, merr := campaignManifest(ctx, s.store, id)
	if merr == nil {
		if m.Plan == nil {
			return activities.PlanRef{}, fmt.Errorf("%w: campaign %s was run by a version of rulescape before stored plans (campaign ID v1): "+
				"its datasets and report stay readable; to rerun or explain it, run its campaign file again (`rulescape run %s`), which plans it as a new campaign",
				errLegacyCampaign, id, orDefault(m.File, "FILE"))
		}
		return *m.Plan, nil
	}
	// No manifest yet: the workflow's input names the plan.
	iter := s.client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, 0)
	if iter.HasNext() {
		ev, err := iter.Next()
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			return activities.PlanRef{}, merr
		case err != nil:
			return activities.PlanRef{}, fmt.Errorf("reading the history of campaign %s: %w", id, err)
		}
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			if a.GetWorkflowType().GetName() != workflows.CampaignWorkflowName {
				return activities.PlanRef{}, fmt.Errorf("%w: campaign %s runs workflow %s, from a version of rulescape before stored plans: run its campaign file again",
					errLegacyCampaign, id, a.GetWorkflowType().GetName())
			}
			var in workflows.CampaignInput
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
				return activities.PlanRef{}, fmt.Errorf("decoding the input of campaign %s: %w", id, err)
			}
			return in.Plan, nil
		}
	}
	return activities.PlanRef{}, merr
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
