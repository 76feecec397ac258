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

// resolveInput is the ResolveUnits input of units [lo, hi) of a stage.
func (c *campaign) resolveInput(stage pipelines.StageName, lo, hi int) activities.ResolveInput {
	return activities.ResolveInput{CampaignID: c.in.CampaignID, Plan: c.in.Plan, Stage: stage, From: lo, To: hi, Force: c.force[stage], Run: c.run}
}

// resolveAheadParallel bounds the ResolveUnits activities resolveAhead
// runs at once: each verifies ResolveParallel datasets at a time.
const resolveAheadParallel = 4

// resolveAhead resolves units [0, n) of a stage, ResolveChunk at a time,
// up to resolveAheadParallel ranges at once, before its chunk children
// start: a cached campaign's chunks then resolve concurrently instead of
// one child after the other, and a chunk with nothing to compute starts no
// child at all. The outputs are in range order.
func (c *campaign) resolveAhead(ctx workflow.Context, stage pipelines.StageName, n int) ([]activities.ResolveOutput, error) {
	rctx := workflow.WithActivityOptions(ctx, resolveOptions(c.in.HeartbeatTimeout))
	var ranges [][2]int
	chunk := c.chunk()
	for from := 0; from < n; from += chunk {
		to := min(from+chunk, n)
		for lo := from; lo < to; lo += ResolveChunk {
			ranges = append(ranges, [2]int{lo, min(lo+ResolveChunk, to)})
		}
	}
	out := make([]activities.ResolveOutput, len(ranges))
	futures := make([]workflow.Future, len(ranges))
	for i, r := range ranges {
		if i >= resolveAheadParallel {
			if err := c.getResolved(ctx, stage, futures[i-resolveAheadParallel], ranges[i-resolveAheadParallel], &out[i-resolveAheadParallel]); err != nil {
				return nil, err
			}
		}
		futures[i] = workflow.ExecuteActivity(rctx, activities.ResolveName, c.resolveInput(stage, r[0], r[1]))
	}
	for i := max(len(ranges)-resolveAheadParallel, 0); i < len(ranges); i++ {
		if err := c.getResolved(ctx, stage, futures[i], ranges[i], &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// getResolved waits for one ResolveUnits activity of resolveAhead.
func (c *campaign) getResolved(ctx workflow.Context, stage pipelines.StageName, f workflow.Future, r [2]int, res *activities.ResolveOutput) error {
	if err := f.Get(ctx, res); err != nil {
		return unitError(fmt.Sprintf("resolving the cache of %s units %d–%d", stage, r[0]+1, r[1]), err)
	}
	return nil
}

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
	err := c.resolveAndDispatch(ctx, st, stage, from, to, c.resolved)
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

// resolveAndDispatch resolves units [from, to) of a stage, ResolveChunk at a
// time, and runs those that are not verified cache hits. pre, when not
// empty, holds the ResolveUnits outputs of those ranges, already obtained
// by the campaign (see resolveAhead), in order.
func (c *campaign) resolveAndDispatch(ctx workflow.Context, st *StageProgress, stage pipelines.StageName, from, to int, pre []activities.ResolveOutput) error {
	rctx := workflow.WithActivityOptions(ctx, resolveOptions(c.in.HeartbeatTimeout))
	actx := workflow.WithActivityOptions(ctx, unitOptions(stage, c.in.HeartbeatTimeout))
	for j, lo := 0, from; lo < to; j, lo = j+1, lo+ResolveChunk {
		hi := min(lo+ResolveChunk, to)
		var res activities.ResolveOutput
		if j < len(pre) && pre[j].From == lo && pre[j].To == hi {
			res = pre[j]
		} else if err := workflow.ExecuteActivity(rctx, activities.ResolveName, c.resolveInput(stage, lo, hi)).Get(ctx, &res); err != nil {
			return unitError(fmt.Sprintf("resolving the cache of %s units %d–%d", stage, lo+1, hi), err)
		}
		st.Done += res.Hits
		st.CacheHits += res.Hits
		idx := res.Indices()
		err := c.dispatch(ctx, st, stage, len(idx), func(i int) workflow.Future {
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
