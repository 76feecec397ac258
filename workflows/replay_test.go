package workflows

import (
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
)

// historyFile is a history of CampaignWorkflow on cmd/rulescape's
// testdata/campaign_tiny.yaml recorded from a real server before the
// analysis stages existed (they were recorded as skipped). The other
// testdata/*_history.json files are later recordings:
// campaign_tiny_analysis_history.json with the analysis stages (the report
// skipped), campaign_tiny_report_history.json with the report stage;
// cmd/rulescape's TestRunCampaign with RULESCAPE_UPDATE_HISTORY=1 writes
// the newest. Old histories stay: campaigns started by an older binary
// must keep replaying.
const historyFile = "testdata/campaign_tiny_history.json"

// TestReplay replays every recorded history: a change to the workflow that
// would break running campaigns (different commands in a different order)
// fails here; such changes need a new workflow.GetVersion branch.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*_history.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("want the recorded histories in testdata, found %v (%v)", files, err)
	}
	for _, f := range files {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
		if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
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
