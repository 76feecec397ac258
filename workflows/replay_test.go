package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
)

// historyFile is a history of CampaignWorkflow on activities/testdata/tiny.yaml
// recorded from a real server by cmd/rulescape's TestRunCampaign
// (RULESCAPE_UPDATE_HISTORY=1 refreshes it).
const historyFile = "testdata/campaign_tiny_history.json"

// TestReplay replays the recorded history: a change to the workflow that
// would break running campaigns (different commands in a different order)
// fails here; such changes need a new workflow.GetVersion branch.
func TestReplay(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, historyFile); err != nil {
		t.Fatal(err)
	}
}

// TestReplayDetectsChange: a workflow that skips the train stage does not
// replay the history — the replay test can fail.
func TestReplayDetectsChange(t *testing.T) {
	changed := func(ctx workflow.Context, in CampaignInput) (*CampaignResult, error) {
		workflow.GetVersion(ctx, "campaign-stages", workflow.DefaultVersion, 1)
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		var out activities.ManifestOutput
		err := workflow.ExecuteActivity(ctx, activities.ManifestName, activities.ManifestInput{CampaignID: in.CampaignID}).Get(ctx, &out)
		return &CampaignResult{}, err
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: CampaignWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, historyFile); err == nil {
		t.Fatal("a workflow with different commands replayed the history without error")
	}
}
