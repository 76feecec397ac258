package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"rulescape/core/metaopt"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// MetaoptHeartbeat is the heartbeat detail of Metaopt: the key of the last
// checkpoint and the iterations it holds.
type MetaoptHeartbeat struct {
	Checkpoint string `json:"checkpoint"`
	Iter       int    `json:"iter"`
}

// computeMetaopt runs one meta-optimization job and commits its metaopt_history
// dataset (one row per iteration) under
// campaigns/<id>/metaopt/metaopt_history/task=…/rule=…/. It resumes from the
// checkpoint named in the heartbeat details of a previous attempt, or from
// the unit's checkpoint object if one exists. Unit has decided the job is to be
// computed (a committed history with its result object is Unit's cache hit).
func (a *Activities) computeMetaopt(ctx context.Context, in MetaoptInput) (MetaoptResult, error) {
	if err := a.check(); err != nil {
		return MetaoptResult{}, err
	}
	job := &in.Job
	out := MetaoptResult{Job: job.ID}
	if len(in.keys) != 1 {
		return out, permanent(fmt.Errorf("activities: %s: %d content keys given, want 1 (run units through Unit)", job.ID, len(in.keys)))
	}
	ck := in.keys[0]
	cpKey, err := store.CheckpointKey(in.CampaignID, "metaopt/"+ck+"/state.json")
	if err != nil {
		return out, permanent(err)
	}
	from := cpKey
	if in.Force {
		from = "" // the checkpoint object is the previous computation's
	}
	if activity.IsActivity(ctx) && activity.HasHeartbeatDetails(ctx) {
		var hb MetaoptHeartbeat
		if err := activity.GetHeartbeatDetails(ctx, &hb); err == nil && hb.Checkpoint != "" {
			from = hb.Checkpoint
		}
	}
	var resume *stages.MetaoptProgress
	if from != "" {
		cp, found, err := a.loadCheckpoint(ctx, from, ck)
		if err != nil {
			return out, err
		}
		if found {
			resume = &stages.MetaoptProgress{Scale: cp.Scale, State: cp.State, Records: cp.Records}
			a.log().Info("metaopt resumed", "job", job.ID, "checkpoint", from, "iter", cp.State.Iter)
		}
	}

	setHB, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	save := func(p stages.MetaoptProgress, rec *metaopt.Record) error {
		// The checkpoint format of `rulescape metaopt --checkpoint` too.
		cp := &metaopt.Checkpoint{ContentKey: ck, Scale: p.Scale, State: p.State, Records: p.Records}
		data, err := cp.Marshal()
		if err != nil {
			return err
		}
		if err := a.Store.Put(ctx, cpKey, data, "application/json"); err != nil {
			return err
		}
		setHB(MetaoptHeartbeat{Checkpoint: cpKey, Iter: cp.State.Iter})
		if rec != nil && a.afterIteration != nil {
			a.afterIteration(rec.Iter)
		}
		return nil
	}
	res, err := stages.Metaopt(ctx, in.CampaignID, job, a.Workers, resume, save)
	if err != nil {
		return out, stageError(job.ID, err)
	}
	return a.commitMetaopt(ctx, in, ck, res)
}

// commitMetaopt commits a finished job's metaopt_history dataset under
// campaigns/<id>/metaopt/metaopt_history/task=…/rule=…/ and its result
// object (checkpoints/metaopt/<ck>/result.json), which Unit's cache hits
// and the train units read.
func (a *Activities) commitMetaopt(ctx context.Context, in MetaoptInput, ck string, res stages.MetaoptResult) (MetaoptResult, error) {
	job := &in.Job
	out := MetaoptResult{Job: job.ID}
	out.Theta, out.Eta, out.Iters, out.HeldOutJ = res.Theta, res.Eta, res.Iters, res.HeldOutJ
	rows := res.History
	paramsSHA, err := store.ParamsSHA256(job.Key())
	if err != nil {
		return out, permanent(err)
	}
	p := store.DatasetPath{Campaign: in.CampaignID, Stage: string(pipelines.StageMetaopt), Dataset: string(schemas.MetaoptHistory),
		Partitions: []store.Partition{{Name: "task", Value: job.Task}, {Name: "rule", Value: job.Rule}},
		ContentKey: ck, Format: schemas.Parquet, KeyDoc: docAt(in.docs, 0)}
	dataKey, err := p.Key()
	if err != nil {
		return out, permanent(err)
	}
	// The result object is written before the commit, so a committed
	// history always has one.
	out.Dataset = Dataset{Unit: job.ID, Stage: string(pipelines.StageMetaopt), Kind: string(schemas.MetaoptHistory), ContentKey: ck}
	out.Dataset.Ref.Key = dataKey
	resKey, err := store.CheckpointKey(in.CampaignID, "metaopt/"+ck+"/result.json")
	if err != nil {
		return out, permanent(err)
	}
	if err := a.Store.Put(ctx, resKey, marshal(out), "application/json"); err != nil {
		return out, err
	}
	ref, err := store.WriteRows(ctx, a.Store, p, schemas.Meta{Campaign: in.CampaignID, ParamsSHA256: paramsSHA, EngineVersion: in.version}, rows)
	if err != nil {
		return out, err
	}
	out.Dataset.Ref = ref
	return out, a.Store.Put(ctx, resKey, marshal(out), "application/json")
}

// readResult reads the result object of a committed metaopt job.
func (a *Activities) readResult(ctx context.Context, campaign, ck string) (MetaoptResult, bool, error) {
	key, err := store.CheckpointKey(campaign, "metaopt/"+ck+"/result.json")
	if err != nil {
		return MetaoptResult{}, false, nil
	}
	data, err := a.Store.Get(ctx, key)
	if store.IsNotFound(err) {
		return MetaoptResult{}, false, nil
	}
	if err != nil {
		return MetaoptResult{}, false, err
	}
	var res MetaoptResult
	if err := json.Unmarshal(data, &res); err != nil {
		return MetaoptResult{}, false, fmt.Errorf("activities: %s: %w", key, err)
	}
	if res.Dataset.Ref.SHA256 == "" { // written before the commit of an attempt that did not finish
		return MetaoptResult{}, false, nil
	}
	return res, true, nil
}

// loadCheckpoint reads a checkpoint object; found is false when there is
// none (or it belongs to another content key, or is unreadable: then the
// job starts over, which is always correct).
func (a *Activities) loadCheckpoint(ctx context.Context, key, ck string) (*metaopt.Checkpoint, bool, error) {
	data, err := a.Store.Get(ctx, key)
	if store.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	cp, err := metaopt.UnmarshalCheckpoint(data, ck)
	if err != nil {
		a.log().Warn("metaopt: ignoring unusable checkpoint", "key", key, "err", err)
		return nil, false, nil
	}
	return cp, true, nil
}
