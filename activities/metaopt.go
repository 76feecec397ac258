package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"go.temporal.io/sdk/activity"

	"rulescape/core/meta"
	"rulescape/core/metaopt"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// checkpointVersion is the format of the checkpoint objects Metaopt writes.
const checkpointVersion = 1

// metaoptCheckpoint is what Metaopt saves after every iteration: enough to
// continue bit-exactly (the optimizer state and the search scale, which
// auto-scaling computed before the first iteration) and the records of the
// iterations so far (for the history dataset).
type metaoptCheckpoint struct {
	Version    int              `json:"version"`
	ContentKey string           `json:"content_key"`
	Scale      []float64        `json:"scale"`
	State      metaopt.State    `json:"state"`
	Records    []metaopt.Record `json:"records"`
}

// MetaoptHeartbeat is the heartbeat detail of Metaopt: the key of the last
// checkpoint and the iterations it holds.
type MetaoptHeartbeat struct {
	Checkpoint string `json:"checkpoint"`
	Iter       int    `json:"iter"`
}

// Metaopt runs one meta-optimization job and commits its metaopt_history
// dataset (one row per iteration) under
// campaigns/<id>/metaopt/metaopt_history/task=…/rule=…/. It resumes from the
// checkpoint named in the heartbeat details of a previous attempt, or from
// the unit's checkpoint object if one exists; when the history is already
// committed under the job's content key it returns the stored result with
// CacheHit.
func (a *Activities) Metaopt(ctx context.Context, in MetaoptInput) (MetaoptResult, error) {
	if err := a.check(); err != nil {
		return MetaoptResult{}, err
	}
	job := &in.Job
	out := MetaoptResult{Job: job.ID}
	ck, err := "", error(nil)
	if in.keys != nil {
		ck = in.keys[0]
	} else {
		ck, err = a.metaoptKey(job)
	}
	if err != nil {
		return out, permanent(fmt.Errorf("activities: %s: %w", job.ID, err))
	}
	if in.Force {
		a.log().Info("metaopt: forced recomputation", "job", job.ID)
	} else if ref, ok, err := a.Store.Lookup(ctx, ck); err != nil {
		return out, err
	} else if ok {
		res, found, err := a.readResult(ctx, campaignOf(ref.Key), ck)
		if err != nil {
			return out, err
		}
		if found {
			res.CacheHit = true
			return res, nil
		}
		a.log().Warn("metaopt: history committed but its result object is missing; recomputing", "job", job.ID, "key", ref.Key)
	}

	obj, settings, err := job.Problem(a.Workers)
	if err != nil {
		return out, permanent(err)
	}
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
	var cp metaoptCheckpoint
	resumed := false
	if from != "" {
		if cp, resumed, err = a.loadCheckpoint(ctx, from, ck); err != nil {
			return out, err
		}
	}
	var opt *metaopt.Optimizer
	if resumed {
		obj.Scale = cp.Scale
		st := cp.State
		st.Settings.Workers = a.Workers
		if opt, err = metaopt.Restore(obj, st); err != nil {
			return out, permanent(fmt.Errorf("activities: %s: checkpoint %s: %w", job.ID, from, err))
		}
		a.log().Info("metaopt resumed", "job", job.ID, "checkpoint", from, "iter", st.Iter)
	} else {
		if job.Settings.Scale != "none" {
			if err := pipelines.AutoScale(ctx, obj, settings); err != nil {
				return out, permanent(fmt.Errorf("activities: %s: auto scale: %w (set scale: none)", job.ID, err))
			}
		}
		if opt, err = metaopt.New(obj, obj.Params(obj.Setup.Rule), settings); err != nil {
			return out, permanent(fmt.Errorf("activities: %s: %w", job.ID, err))
		}
		cp = metaoptCheckpoint{Version: checkpointVersion, ContentKey: ck, Scale: obj.Scale}
	}

	setHB, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	save := func() error {
		cp.State = opt.State()
		if err := a.Store.Put(ctx, cpKey, marshal(cp), "application/json"); err != nil {
			return err
		}
		setHB(MetaoptHeartbeat{Checkpoint: cpKey, Iter: cp.State.Iter})
		return nil
	}
	for opt.State().Iter < settings.Iters {
		rec, err := opt.Step(ctx)
		if errors.Is(err, metaopt.ErrTooManyDiverged) {
			return out, permanent(fmt.Errorf("activities: %s: %w — lower lr or eta, or set clip_norm", job.ID, err))
		}
		if err != nil {
			return out, fmt.Errorf("activities: %s: %w", job.ID, err)
		}
		cp.Records = append(cp.Records, rec)
		if err := save(); err != nil {
			return out, err
		}
		if a.afterIteration != nil {
			a.afterIteration(rec.Iter)
		}
	}
	var held *float64
	if settings.HeldOut > 0 {
		h, err := opt.EvaluateHeldOut(ctx)
		if err != nil {
			return out, fmt.Errorf("activities: %s: held-out evaluation: %w", job.ID, err)
		}
		held = &h.J
		if err := save(); err != nil {
			return out, err
		}
	}

	rule, eta, err := obj.Rule(opt.Params())
	if err != nil {
		return out, permanent(err)
	}
	out.Theta, out.Iters, out.HeldOutJ = rule.Matrix(), opt.State().Iter, held
	if obj.LogEta {
		out.Eta = eta
	}
	rows, err := historyRows(in.CampaignID, job, obj, opt.State().Settings, cp.Records)
	if err != nil {
		return out, permanent(err)
	}
	paramsSHA, err := store.ParamsSHA256(job.Key())
	if err != nil {
		return out, permanent(err)
	}
	p := store.DatasetPath{Campaign: in.CampaignID, Stage: string(pipelines.StageMetaopt), Dataset: string(schemas.MetaoptHistory),
		Partitions: []store.Partition{{Name: "task", Value: job.Task}, {Name: "rule", Value: job.Rule}},
		ContentKey: ck, Format: schemas.Parquet}
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

// metaoptKey returns the content key of a metaopt job's history.
func (a *Activities) metaoptKey(job *pipelines.MetaoptJob) (string, error) {
	return a.contentKey(job.Key(), schemas.MetaoptHistory, nil)
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
func (a *Activities) loadCheckpoint(ctx context.Context, key, ck string) (metaoptCheckpoint, bool, error) {
	data, err := a.Store.Get(ctx, key)
	if store.IsNotFound(err) {
		return metaoptCheckpoint{}, false, nil
	}
	if err != nil {
		return metaoptCheckpoint{}, false, err
	}
	var cp metaoptCheckpoint
	if err := json.Unmarshal(data, &cp); err != nil || cp.Version != checkpointVersion || cp.ContentKey != ck {
		a.log().Warn("metaopt: ignoring unusable checkpoint", "key", key, "err", err)
		return metaoptCheckpoint{}, false, nil
	}
	return cp, true, nil
}

// historyRows converts the iteration records to metaopt_history rows, Θ and
// the gradient in rule coordinates (unscaled).
func historyRows(campaign string, job *pipelines.MetaoptJob, obj *meta.Learners, s metaopt.Settings, recs []metaopt.Record) ([]schemas.MetaoptRow, error) {
	est := obj.Estimator
	dirs := int32(est.Directions)
	if est.Kind == metaopt.EstimatorExact {
		dirs = int32(obj.Setup.Rule.P())
	}
	seed := int64(job.Settings.Seed)
	if seed < 0 {
		return nil, fmt.Errorf("activities: %s: seed %d does not fit the int64 seed column", job.ID, job.Settings.Seed)
	}
	rows := make([]schemas.MetaoptRow, len(recs))
	for i, r := range recs {
		rule, eta, err := obj.Rule(r.Params)
		if err != nil {
			return nil, err
		}
		p := rule.P()
		grad := make([]float64, p)
		for k := 0; k < p && k < len(r.Grad); k++ {
			grad[k] = r.Grad[k]
			if obj.Scale != nil {
				grad[k] /= obj.Scale[k] // ∂J/∂θ = (∂J/∂θ̃)/scale for θ = scale·θ̃
			}
		}
		logEta, held := math.NaN(), math.NaN()
		if obj.LogEta {
			logEta = math.Log(eta)
		}
		if r.HeldOut != nil {
			held = r.HeldOut.J
		}
		rows[i] = schemas.MetaoptRow{Campaign: campaign, Task: job.Task, Estimator: est.String(), Directions: dirs,
			Seed: seed, Iter: int64(r.Iter), Theta: rule.Theta, LogEta: logEta, J: r.J, Grad: grad,
			GradNorm: r.GradNorm, HeldoutJ: held, LR: s.LR, WallSeconds: r.WallSeconds}
	}
	return rows, nil
}
