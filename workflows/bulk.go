package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
)

// bulkCacheChange is the workflow.GetVersion change ID of bulk cache
// resolution; runs recorded before it (DefaultVersion) dispatch one
// activity per unit, cache hits included, and chunk only the train stage.
const bulkCacheChange = "bulk-cache"

// bulkCacheVersion is the version of bulkCacheChange that resolves the
// cache in bulk (runStageBulk).
const bulkCacheVersion = 1

// ResolveChunk is the number of units one ResolveUnits activity resolves:
// its output is a bitmap of ResolveChunk bits (250 bytes) and three counts.
const ResolveChunk = 2000

// resolveOptions are the options of the ResolveUnits activity: it reads
// every cached dataset of up to ResolveChunk units, heartbeating, so a
// crashed worker is noticed by the heartbeat timeout.
func resolveOptions(heartbeat time.Duration) workflow.ActivityOptions {
	if heartbeat <= 0 {
		heartbeat = DefaultHeartbeatTimeout
	}
	return workflow.ActivityOptions{StartToCloseTimeout: 2 * time.Hour, HeartbeatTimeout: heartbeat,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			MaximumAttempts: 5, NonRetryableErrorTypes: []string{"BadUnit", "Config"}}}
}

// runStageBulk runs units [from, to) of a stage: for each chunk of
// ResolveChunk units one ResolveUnits activity finds the verified cache
// hits, which are counted at once, and only the other units run as
// activities (at most maxPar in flight). A second run of a finished
// campaign is thus one activity per chunk, not one per unit, and the
// history holds a few events per chunk plus three per computed unit.
func (c *campaign) runStageBulk(ctx workflow.Context, stage pipelines.StageName, from, to int) error {
	st := c.stage(stage)
	if st == nil || to <= from {
		return nil
	}
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
	err := c.resolveAndDispatch(ctx, st, stage, from, to)
	end := workflow.Now(ctx)
	st.FinishedAt = &end
	if err != nil {
		st.Status = StatusFailed
		return err
	}
	st.Status = StatusCompleted
	zero := 0.0
	st.EtaSeconds = &zero
	return nil
}

func (c *campaign) resolveAndDispatch(ctx workflow.Context, st *StageProgress, stage pipelines.StageName, from, to int) error {
	rctx := workflow.WithActivityOptions(ctx, resolveOptions(c.in.HeartbeatTimeout))
	actx := workflow.WithActivityOptions(ctx, unitOptions(stage, c.in.HeartbeatTimeout))
	for lo := from; lo < to; lo += ResolveChunk {
		hi := min(lo+ResolveChunk, to)
		var res activities.ResolveOutput
		err := workflow.ExecuteActivity(rctx, activities.ResolveName, activities.ResolveInput{
			CampaignID: c.in.CampaignID, Plan: c.in.Plan, Stage: stage, From: lo, To: hi, Force: c.force[stage], Run: c.run,
		}).Get(ctx, &res)
		if err != nil {
			return unitError(fmt.Sprintf("resolving the cache of %s units %d–%d", stage, lo+1, hi), err)
		}
		st.Done += res.Hits
		st.CacheHits += res.Hits
		idx := res.Indices()
		err = c.dispatch(ctx, st, stage, len(idx), func(i int) workflow.Future {
			return workflow.ExecuteActivity(actx, activities.StageActivity(stage), c.unitInput(stage, idx[i]))
		}, func(i int, f workflow.Future) (bool, error) {
			var r activities.UnitOutput
			if err := f.Get(ctx, &r); err != nil {
				return false, unitError(fmt.Sprintf("%s unit %d", stage, idx[i]+1), err)
			}
			if r.Metaopt != nil {
				c.metaopt[r.Unit] = *r.Metaopt
			}
			return r.CacheHit, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
