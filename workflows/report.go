package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
	"rulescape/report"
)

// reportOptions are the options of the report activity: it reads every
// dataset of the campaign once and draws a few figures.
var reportOptions = workflow.ActivityOptions{
	StartToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: time.Minute, MaximumAttempts: 3, NonRetryableErrorTypes: []string{"BadUnit", "Config"}},
}

// wantReport reports whether this run writes the report: the plan has a
// report stage and the run is of version 1 or later of change
// "campaign-report" (runs recorded before it replay with DefaultVersion
// and record the report as SkippedNotImplemented). Campaigns without a
// report stage do not ask, so their histories are unchanged.
func (c *campaign) wantReport(ctx workflow.Context) bool {
	return c.stage(pipelines.StageReport) != nil &&
		workflow.GetVersion(ctx, "campaign-report", workflow.DefaultVersion, 1) >= 1
}

// startReport marks the report stage running: it starts before the
// manifest, which therefore records it as running.
func (c *campaign) startReport(ctx workflow.Context) {
	st := c.stage(pipelines.StageReport)
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
}

// runReport runs the report activity with the run's stage timings and
// returns the key of the report's index.html.
func (c *campaign) runReport(ctx workflow.Context) (string, error) {
	st := c.stage(pipelines.StageReport)
	now := workflow.Now(ctx)
	stages := make([]report.Stage, len(c.progress.Stages))
	for i, s := range c.progress.Stages {
		stages[i] = report.Stage{Name: s.Name, Status: s.Status, Done: s.Done, Total: s.Total, CacheHits: s.CacheHits, Seconds: s.Seconds(now)}
		if s.Name == string(pipelines.StageReport) {
			stages[i].Status = "writing this report"
		}
	}
	var out activities.ReportOutput
	rctx := workflow.WithActivityOptions(ctx, reportOptions)
	err := workflow.ExecuteActivity(rctx, activities.ReportName, activities.ReportInput{CampaignID: c.in.CampaignID, Stages: stages}).Get(ctx, &out)
	end := workflow.Now(ctx)
	st.FinishedAt = &end
	if err != nil {
		st.Status = StatusFailed
		return "", unitError(string(pipelines.StageReport), err)
	}
	st.Status, st.Done = StatusCompleted, 1
	zero := 0.0
	st.EtaSeconds = &zero
	return out.Key, nil
}
