package workflows

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
)

// The histories of testdata, recorded from real runs of this workflow
// type ("Campaign", campaign IDs v2) by TestRecordHistories with
// RULESCAPE_UPDATE_HISTORY=1:
//
//	campaign_v2_history.json          tiny.yaml: metaopt, train, fixedpoints, manifest, report
//	campaign_v2_chunked_history.json  the same campaign rerun from train (Force) with
//	                                  TrainChunk 3: two TrainChunk children, manifest, prune, report
//	train_chunk_v2_history.json       the first of those children (train units [0, 3))
//
// and, since bulk cache resolution (the "bulk-cache" version marker), the
// same three runs as campaign_bulk_history.json,
// campaign_bulk_chunked_history.json (four children: train and
// fixedpoints, two each) and train_chunk_bulk_history.json; and, since
// metaopt jobs run as MetaoptJob child workflows (the "metaopt-job-child"
// marker), the same runs as campaign_job_history.json,
// campaign_job_chunked_history.json, train_chunk_job_history.json, with
// the first run's job as metaopt_job_history.json.
//
// Histories of the v1 type "CampaignWorkflow" are gone with it: this
// version does not run v1 campaigns. Recorded histories stay when the
// workflow changes: campaigns started by an older binary must keep
// replaying.
var histories = []string{
	"testdata/campaign_v2_history.json",
	"testdata/campaign_v2_chunked_history.json",
	"testdata/train_chunk_v2_history.json",
	"testdata/campaign_bulk_history.json",
	"testdata/campaign_bulk_chunked_history.json",
	"testdata/train_chunk_bulk_history.json",
	"testdata/campaign_job_history.json",
	"testdata/campaign_job_chunked_history.json",
	"testdata/train_chunk_job_history.json",
	"testdata/metaopt_job_history.json",
}

// historyFile is the history TestReplayDetectsChange replays.
const historyFile = "testdata/campaign_v2_history.json"

// TestReplay replays every recorded history on this build's workflows: a
// change to the workflows that would break running campaigns (different
// commands in a different order) fails here. A missing history fails too:
// the test cannot be passed by deleting its data.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*_history.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range histories {
		if !slices.Contains(files, h) {
			t.Errorf("%s is missing: record it with RULESCAPE_UPDATE_HISTORY=1 go test ./workflows -run TestRecordHistories", h)
		}
	}
	if len(files) == 0 {
		t.Fatal("no recorded history in testdata")
	}
	for _, f := range files {
		if err := replayFile(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestReplayDetectsChange: a workflow that skips the stages does not
// replay the history — the replay test can fail.
func TestReplayDetectsChange(t *testing.T) {
	if _, err := os.Stat(historyFile); err != nil {
		t.Fatal(err)
	}
	changed := func(ctx workflow.Context, in CampaignInput) (*CampaignResult, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		var out activities.ManifestOutput
		err := workflow.ExecuteActivity(ctx, activities.ManifestName, activities.ManifestInput{CampaignID: in.CampaignID, Plan: in.Plan}).Get(ctx, &out)
		return &CampaignResult{}, err
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(changed, workflow.RegisterOptions{Name: CampaignWorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, historyFile); err == nil {
		t.Fatal("a workflow with different commands replayed the history without error")
	}
}

// replayFile replays a history file of testdata (replayHistory).
func replayFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return err
	}
	return replayHistory(hist)
}

// replayHistory replays a history on this build's workflows under its
// original workflow ID: a campaign names its TrainChunk children after its
// own workflow ID, WorkflowID of the campaign ID its input holds, so
// replaying one that started children under the replayer's default ID
// would fail on the children's IDs. (A worker replays under the real ID.)
func replayHistory(hist *historypb.History) error {
	var opts worker.ReplayWorkflowHistoryOptions
	if len(hist.Events) > 0 {
		if a := hist.Events[0].GetWorkflowExecutionStartedEventAttributes(); a.GetWorkflowType().GetName() == CampaignWorkflowName {
			var in CampaignInput
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
				return fmt.Errorf("the history's campaign input: %w", err)
			}
			opts.OriginalExecution = workflow.Execution{ID: WorkflowID(in.CampaignID)}
		}
	}
	return newReplayer().ReplayWorkflowHistoryWithOptions(nil, hist, opts)
}

// newReplayer returns a replayer of this build's workflows (Register:
// the campaign and its TrainChunk children).
func newReplayer() worker.WorkflowReplayer {
	r := worker.NewWorkflowReplayer()
	Register(r)
	return r
}
