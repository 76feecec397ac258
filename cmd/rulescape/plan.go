package main

import (
	"context"
	"errors"
	"fmt"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/workflows"
)

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

// planRefOf finds the stored plan of a campaign: in its manifest or, for a
// campaign without one yet, in its workflow's input.
func planRefOf(ctx context.Context, s *services, id string) (activities.PlanRef, error) {
	m, _, merr := campaignManifest(ctx, s.store, id)
	if merr == nil && m.Plan == nil {
		file := m.File
		if file == "" {
			file = "FILE"
		}
		return activities.PlanRef{}, fmt.Errorf("%w: campaign %s was run by a version of rulescape before stored plans (campaign ID v1): "+
			"its datasets and report stay readable; to rerun or explain it, run its campaign file again (`rulescape run %s`), which plans it as a new campaign",
			workflows.ErrLegacy, id, file)
	}
	if merr == nil {
		return *m.Plan, nil
	}
	in, err := workflows.StartedInput(ctx, s.client, id)
	if errors.Is(err, workflows.ErrNoWorkflow) {
		return activities.PlanRef{}, merr
	}
	return in.Plan, err
}
