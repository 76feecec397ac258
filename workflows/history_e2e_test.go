package workflows

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"

	"rulescape/activities"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
)

// TestRecordHistories runs ../activities/testdata/tiny.yaml on the
// embedded stack — once plainly, then again from train (forced, as
// `rulescape rerun --stage train` does, under the same workflow ID) with
// TrainChunk 3 so that the
// train stage runs as two TrainChunk children and Prune runs — and
// replays the three histories (the two campaigns and the first child)
// through the replayer's JSON reader. With RULESCAPE_UPDATE_HISTORY=1 it
// writes them to testdata, where TestReplay replays them on every build.
func TestRecordHistories(t *testing.T) {
	if _, err := s3test.Binary(); err != nil {
		s3test.SkipOrFail(t, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c, st := startStack(t, ctx)
	plan := planFile(t, "../activities/testdata/tiny.yaml")

	in, err := NewInput(ctx, st, plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain := WorkflowID(in.CampaignID)
	first := runCampaign(t, ctx, c, plain, in)
	for _, s := range first.Stages {
		if s.Status != StatusCompleted || s.Done != s.Total || s.CacheHits != 0 {
			t.Errorf("first run: stage %+v", s)
		}
	}
	if first.Report != "campaigns/"+in.CampaignID+"/report/index.html" {
		t.Errorf("first run: report %q", first.Report)
	}

	force := []pipelines.StageName{pipelines.StageTrain, pipelines.StageFixedPoints, pipelines.StageReport}
	rerun, err := NewInput(ctx, st, plan, force)
	if err != nil {
		t.Fatal(err)
	}
	rerun.TrainChunk = 3 // 4 train units: children over [0, 3) and [3, 4)
	rerun.HeartbeatTimeout = 17 * time.Second
	// Under the campaign's workflow ID again, as `rulescape rerun` does: the
	// children are named after it.
	plainHist := fetchHistory(t, ctx, c, plain)
	jobHist := fetchHistory(t, ctx, c, MetaoptJobWorkflowID(plain, 0))
	second := runCampaign(t, ctx, c, plain, rerun)
	for _, s := range second.Stages {
		hits := 0
		if s.Name == string(pipelines.StageMetaopt) {
			hits = s.Total
		}
		if s.Status != StatusCompleted || s.Done != s.Total || s.CacheHits != hits {
			t.Errorf("rerun from train: stage %+v, want %d cache hits", s, hits)
		}
	}
	if second.Datasets != first.Datasets {
		t.Errorf("rerun from train: %d datasets, first run %d", second.Datasets, first.Datasets)
	}

	dir := t.TempDir()
	if os.Getenv("RULESCAPE_UPDATE_HISTORY") == "1" {
		dir = "testdata"
	}
	for _, h := range []struct {
		file, workflowID string
		hist             *historypb.History // nil: the workflow's latest run
		children         int                // child workflows the history starts
	}{
		// Recorded since metaopt jobs run as MetaoptJob children (with bulk
		// cache resolution); the *_v2_* and *_bulk_* histories recorded
		// before stay in testdata and keep replaying. The rerun chunks
		// train and fixedpoints (4 units > 3) and finds the metaopt job
		// cached (its child again).
		{"campaign_job_history.json", plain, plainHist, 1},
		{"campaign_job_chunked_history.json", plain, nil, 5},
		{"train_chunk_job_history.json", plain + "-train-0", nil, 0},
		{"metaopt_job_history.json", MetaoptJobWorkflowID(plain, 0), jobHist, 0},
	} {
		hist := h.hist
		if hist == nil {
			hist = fetchHistory(t, ctx, c, h.workflowID)
		}
		if n := countEvents(hist, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED); n != h.children {
			t.Errorf("%s: %d child workflows, want %d", h.workflowID, n, h.children)
		}
		if h.hist == nil {
			// The rerun's heartbeat timeout reaches every unit that
			// heartbeats, in the children too.
			for _, e := range hist.Events {
				a := e.GetActivityTaskScheduledEventAttributes()
				if a == nil || a.GetActivityType().GetName() == activities.ReportName || a.GetActivityType().GetName() == activities.ManifestName ||
					a.GetActivityType().GetName() == activities.PruneName {
					continue
				}
				if hb := a.GetHeartbeatTimeout().AsDuration(); hb != rerun.HeartbeatTimeout {
					t.Errorf("%s: %s scheduled with heartbeat timeout %v, want %v", h.workflowID, a.GetActivityType().GetName(), hb, rerun.HeartbeatTimeout)
				}
			}
		}
		data, err := temporalproto.CustomJSONMarshalOptions{Indent: " "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, h.file)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := replayFile(path); err != nil {
			t.Errorf("replaying %s from %s: %v", h.workflowID, path, err)
		}
		t.Logf("%s: %d events → %s", h.workflowID, len(hist.Events), path)
	}
}

func countEvents(h *historypb.History, typ enumspb.EventType) int {
	n := 0
	for _, e := range h.Events {
		if e.EventType == typ {
			n++
		}
	}
	return n
}
