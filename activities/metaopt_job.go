package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"rulescape/core/metaopt"
	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

// The activities of the MetaoptJob workflow, which runs one metaopt job
// with its iterations' learner-runs spread over every worker: Start
// (cache hit, or the checkpoint to start from), then per iteration Ask,
// Eval on groups of the batch's requests, Tell, and at the end Finish.
// The optimizer's state lives only in the checkpoint object
// (checkpoints/metaopt/<ck>/state.json, a core/metaopt.Checkpoint); the
// batch and the groups' outcomes are objects beside it
// (iter-<i>/batch.json, iter-<i>/eval-<from>-<to>.json), so the workflow
// passes references and small numbers only.
const (
	MetaoptStartName  = "MetaoptStart"
	MetaoptAskName    = "MetaoptAsk"
	MetaoptEvalName   = "MetaoptEval"
	MetaoptTellName   = "MetaoptTell"
	MetaoptFinishName = "MetaoptFinish"
)

// MetaoptJobRef names a metaopt job of a campaign whose checkpoint
// exists: the unit and its content key.
type MetaoptJobRef struct {
	Unit       UnitInput `json:"unit"`
	ContentKey string    `json:"content_key"`
}

// MetaoptStartOutput is what MetaoptStart returns: the unit's output when
// it is a cache hit, else the job's reference and its iterations.
type MetaoptStartOutput struct {
	CacheHit *UnitOutput   `json:"cache_hit,omitempty"`
	Job      MetaoptJobRef `json:"job"`
	ID       string        `json:"id"`    // the job's unit ID
	Iter     int           `json:"iter"`  // iterations the checkpoint holds
	Iters    int           `json:"iters"` // iterations of the job
}

// MetaoptAskOutput describes the batch MetaoptAsk stored: Done when the
// job has nothing left to evaluate.
type MetaoptAskOutput struct {
	Iter        int  `json:"iter"`
	Requests    int  `json:"requests"`
	HeldOutOnly bool `json:"held_out_only,omitempty"`
	Done        bool `json:"done,omitempty"`
}

// MetaoptEvalInput is one group of a batch: requests [From, To).
type MetaoptEvalInput struct {
	Job  MetaoptJobRef `json:"job"`
	Iter int           `json:"iter"`
	From int           `json:"from"`
	To   int           `json:"to"`
}

// MetaoptEvalOutput is what MetaoptEval returns: the group's compute time
// (s), from which the workflow sizes the next groups; 0 when the outcomes
// were already stored.
type MetaoptEvalOutput struct {
	Seconds float64 `json:"seconds"`
}

// MetaoptTellInput tells iteration Iter's batch of Requests requests,
// evaluated in groups of Group: its outcomes are the objects of the
// groups [k·Group, min((k+1)·Group, Requests)). WallSeconds is the
// iteration's wall time, recorded in the checkpoint's record only.
type MetaoptTellInput struct {
	Job         MetaoptJobRef `json:"job"`
	Iter        int           `json:"iter"`
	Requests    int           `json:"requests"`
	Group       int           `json:"group"`
	WallSeconds float64       `json:"wall_seconds"`
}

// MetaoptSummary is what MetaoptTell returns: the iterations done and the
// told batch's mean training J and held-out J (nil when not evaluated).
type MetaoptSummary struct {
	Iter     int      `json:"iter"`
	J        float64  `json:"j"`
	HeldOutJ *float64 `json:"held_out_j,omitempty"`
}

// metaoptBatch is the stored batch of an iteration, with what evaluating
// it needs besides the job: the search scale.
type metaoptBatch struct {
	ContentKey string        `json:"content_key"`
	Scale      []float64     `json:"scale"`
	Batch      metaopt.Batch `json:"batch"`
}

// metaoptOutcomes are the stored outcomes of a group.
type metaoptOutcomes struct {
	Iter     int               `json:"iter"`
	From     int               `json:"from"`
	Outcomes []metaopt.Outcome `json:"outcomes"`
}

func metaoptObject(campaign, ck, name string) (string, error) {
	return store.CheckpointKey(campaign, "metaopt/"+ck+"/"+name)
}

func batchName(iter int) string { return fmt.Sprintf("iter-%06d/batch.json", iter) }

func evalName(iter, from, to int) string {
	return fmt.Sprintf("iter-%06d/eval-%06d-%06d.json", iter, from, to)
}

// metaoptJob resolves the job of ref's unit and checks its content key.
func (a *Activities) metaoptJob(ctx context.Context, in UnitInput, ck string) (*stages.Resolver, *stages.Unit, *pipelines.MetaoptJob, error) {
	r, u, err := a.resolveUnit(ctx, &in)
	if err != nil {
		return nil, nil, nil, err
	}
	if u.Stage != pipelines.StageMetaopt || len(u.Datasets) != 1 {
		return nil, nil, nil, permanent(fmt.Errorf("activities: %s is not a metaopt job", u.ID))
	}
	if ck != "" && u.Datasets[0].ContentKey != ck {
		return nil, nil, nil, permanent(fmt.Errorf("activities: %s: content key %s, the workflow started %s", u.ID, u.Datasets[0].ContentKey, ck))
	}
	return r, u, r.MetaoptJob(u.ID), nil
}

// MetaoptStart begins a metaopt job of the MetaoptJob workflow: a cache
// hit (as Unit's) returns the unit's output; otherwise it makes sure the
// job's checkpoint exists — the one of an earlier run of the job, unless
// the unit is forced, or a fresh one at iteration 0 (after auto-scaling).
func (a *Activities) MetaoptStart(ctx context.Context, in UnitInput) (MetaoptStartOutput, error) {
	if err := a.check(); err != nil {
		return MetaoptStartOutput{}, err
	}
	ctx, stopping, done := watchWorkerStop(ctx)
	defer done()
	out, id, err := a.metaoptStart(ctx, in)
	if err != nil && stopping() {
		return out, workerShutdown(id)
	}
	if err != nil && id != "" {
		return out, unitFailure(id, err)
	}
	return out, err
}

func (a *Activities) metaoptStart(ctx context.Context, in UnitInput) (MetaoptStartOutput, string, error) {
	var out MetaoptStartOutput
	_, u, job, err := a.metaoptJob(ctx, in, "")
	if err != nil {
		return out, "", err
	}
	out.ID = u.ID
	ck := u.Datasets[0].ContentKey
	out.Job = MetaoptJobRef{Unit: in, ContentKey: ck}
	if u.Done() && !in.Force {
		bad, err := a.verifyDatasets(ctx, u)
		if err != nil {
			return out, u.ID, err
		}
		if bad == nil {
			// The result lives beside the history, under the campaign
			// that computed it (this one, or another that shares the job).
			res, found, err := a.readResult(ctx, campaignOf(u.Datasets[0].Ref.Key), ck)
			if err != nil {
				return out, u.ID, err
			}
			if found {
				res.CacheHit = true
				out.CacheHit = &UnitOutput{Unit: u.ID, Datasets: datasetsOf(u), CacheHit: true, Metaopt: &res}
				return out, u.ID, nil
			}
		}
		a.log().Warn("metaopt: the committed history is unusable; recomputing", "job", u.ID)
	}
	if in.Force {
		// A forced job replaces its history: the marker goes first, or the
		// final commit would keep it (store.Commit keeps an intact marker).
		for _, d := range u.Datasets {
			if err := a.Store.Invalidate(ctx, d.ContentKey); err != nil {
				return out, u.ID, err
			}
		}
	}
	cpKey, err := metaoptObject(in.CampaignID, ck, "state.json")
	if err != nil {
		return out, u.ID, permanent(err)
	}
	if !in.Force {
		cp, found, err := a.loadCheckpoint(ctx, cpKey, ck)
		if err != nil {
			return out, u.ID, err
		}
		if found && len(cp.Records) == cp.State.Iter {
			a.log().Info("metaopt resumed", "job", u.ID, "checkpoint", cpKey, "iter", cp.State.Iter)
			out.Iter, out.Iters = cp.State.Iter, cp.State.Settings.Iters
			_, settings, err := job.Problem(a.Workers)
			if err != nil {
				return out, u.ID, stageError(u.ID, err)
			}
			out.Iters = max(out.Iters, settings.Iters)
			return out, u.ID, nil
		}
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	run, err := stages.StartMetaopt(ctx, job, a.Workers, nil) // auto-scales
	if err != nil {
		return out, u.ID, stageError(u.ID, err)
	}
	if err := a.saveProgress(ctx, cpKey, ck, run.Progress()); err != nil {
		return out, u.ID, err
	}
	out.Iters = run.Opt.State().Settings.Iters
	return out, u.ID, nil
}

// saveProgress writes a checkpoint object.
func (a *Activities) saveProgress(ctx context.Context, key, ck string, p stages.MetaoptProgress) error {
	cp := &metaopt.Checkpoint{ContentKey: ck, Scale: p.Scale, State: p.State, Records: p.Records}
	data, err := cp.Marshal()
	if err != nil {
		return err
	}
	return a.Store.Put(ctx, key, data, "application/json")
}

// loadRun restores a job's run from its checkpoint, which must exist.
func (a *Activities) loadRun(ctx context.Context, ref MetaoptJobRef) (*stages.Unit, *stages.MetaoptRun, string, error) {
	_, u, job, err := a.metaoptJob(ctx, ref.Unit, ref.ContentKey)
	if err != nil {
		return nil, nil, "", err
	}
	cpKey, err := metaoptObject(ref.Unit.CampaignID, ref.ContentKey, "state.json")
	if err != nil {
		return nil, nil, "", permanent(err)
	}
	cp, found, err := a.loadCheckpoint(ctx, cpKey, ref.ContentKey)
	if err != nil {
		return nil, nil, "", err
	}
	if !found {
		return nil, nil, "", fmt.Errorf("activities: %s: its checkpoint %s is missing or unreadable", u.ID, cpKey)
	}
	run, err := stages.StartMetaopt(ctx, job, a.Workers, &stages.MetaoptProgress{Scale: cp.Scale, State: cp.State, Records: cp.Records})
	if err != nil {
		return nil, nil, "", stageError(u.ID, err)
	}
	return u, run, cpKey, nil
}

// MetaoptAsk stores the job's next batch (Ask of its checkpoint's state)
// and describes it; asking again stores the same batch.
func (a *Activities) MetaoptAsk(ctx context.Context, ref MetaoptJobRef) (MetaoptAskOutput, error) {
	if err := a.check(); err != nil {
		return MetaoptAskOutput{}, err
	}
	u, run, _, err := a.loadRun(ctx, ref)
	if err != nil {
		return MetaoptAskOutput{}, err
	}
	b, ok, err := run.Ask()
	if err != nil {
		return MetaoptAskOutput{}, unitFailure(u.ID, stageError(u.ID, err))
	}
	if !ok {
		return MetaoptAskOutput{Iter: run.Opt.State().Iter, Done: true}, nil
	}
	key, err := metaoptObject(ref.Unit.CampaignID, ref.ContentKey, batchName(b.Iter))
	if err != nil {
		return MetaoptAskOutput{}, permanent(err)
	}
	data, err := json.Marshal(metaoptBatch{ContentKey: ref.ContentKey, Scale: run.Progress().Scale, Batch: b})
	if err != nil {
		return MetaoptAskOutput{}, err
	}
	if err := a.Store.Put(ctx, key, data, "application/json"); err != nil {
		return MetaoptAskOutput{}, err
	}
	return MetaoptAskOutput{Iter: b.Iter, Requests: len(b.Requests), HeldOutOnly: b.HeldOutOnly}, nil
}

// readBatch reads the stored batch of an iteration.
func (a *Activities) readBatch(ctx context.Context, ref MetaoptJobRef, iter int) (*metaoptBatch, error) {
	key, err := metaoptObject(ref.Unit.CampaignID, ref.ContentKey, batchName(iter))
	if err != nil {
		return nil, permanent(err)
	}
	data, err := a.Store.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("activities: metaopt batch %s: %w", key, err)
	}
	var b metaoptBatch
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("activities: metaopt batch %s: %w", key, err)
	}
	if b.ContentKey != ref.ContentKey || b.Batch.Iter != iter {
		return nil, fmt.Errorf("activities: metaopt batch %s is of %s iteration %d", key, b.ContentKey, b.Batch.Iter)
	}
	return &b, nil
}

// MetaoptEval evaluates requests [From, To) of an iteration's stored
// batch with up to Workers learners at once and stores their outcomes.
// The outcomes depend on the requests only, so a retry (or a second
// attempt racing a first) stores the same bytes; outcomes already stored
// are not evaluated again.
func (a *Activities) MetaoptEval(ctx context.Context, in MetaoptEvalInput) (MetaoptEvalOutput, error) {
	if err := a.check(); err != nil {
		return MetaoptEvalOutput{}, err
	}
	ctx, stopping, done := watchWorkerStop(ctx)
	defer done()
	id := fmt.Sprintf("%s iteration %d learners %d–%d", in.Job.ContentKey, in.Iter, in.From, in.To)
	out, err := a.metaoptEval(ctx, in)
	if err != nil && stopping() {
		return out, workerShutdown(id)
	}
	return out, err
}

func (a *Activities) metaoptEval(ctx context.Context, in MetaoptEvalInput) (MetaoptEvalOutput, error) {
	key, err := metaoptObject(in.Job.Unit.CampaignID, in.Job.ContentKey, evalName(in.Iter, in.From, in.To))
	if err != nil {
		return MetaoptEvalOutput{}, permanent(err)
	}
	if _, err := a.Store.Get(ctx, key); err == nil {
		return MetaoptEvalOutput{}, nil
	} else if !store.IsNotFound(err) {
		return MetaoptEvalOutput{}, err
	}
	_, _, job, err := a.metaoptJob(ctx, in.Job.Unit, in.Job.ContentKey)
	if err != nil {
		return MetaoptEvalOutput{}, err
	}
	b, err := a.readBatch(ctx, in.Job, in.Iter)
	if err != nil {
		return MetaoptEvalOutput{}, err
	}
	if in.From < 0 || in.To > len(b.Batch.Requests) || in.From >= in.To {
		return MetaoptEvalOutput{}, permanent(fmt.Errorf("activities: %s: learners %d–%d of a batch of %d", job.ID, in.From, in.To, len(b.Batch.Requests)))
	}
	obj, err := stages.MetaoptObjective(job, a.Workers, b.Scale)
	if err != nil {
		return MetaoptEvalOutput{}, stageError(job.ID, err)
	}
	if a.beforeEval != nil {
		if err := a.beforeEval(ctx, in); err != nil {
			return MetaoptEvalOutput{}, err
		}
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	start := time.Now()
	res, err := metaopt.Evaluate(ctx, obj, obj.Dim(), a.Workers, b.Batch.Requests[in.From:in.To])
	if err != nil {
		return MetaoptEvalOutput{}, stageError(job.ID, err)
	}
	secs := time.Since(start).Seconds()
	data, err := json.Marshal(metaoptOutcomes{Iter: in.Iter, From: in.From, Outcomes: res})
	if err != nil {
		return MetaoptEvalOutput{}, err
	}
	if err := a.Store.Put(ctx, key, data, "application/json"); err != nil {
		return MetaoptEvalOutput{}, err
	}
	return MetaoptEvalOutput{Seconds: secs}, nil
}

// MetaoptTell applies an iteration's outcomes to the job's checkpoint and
// writes the checkpoint of the next iteration. The iteration number never
// goes back: a Tell of an iteration the checkpoint is already past (a
// retry after a success) changes nothing and returns the iteration's
// summary. The batch and outcome objects are removed once told.
func (a *Activities) MetaoptTell(ctx context.Context, in MetaoptTellInput) (MetaoptSummary, error) {
	if err := a.check(); err != nil {
		return MetaoptSummary{}, err
	}
	u, run, cpKey, err := a.loadRun(ctx, in.Job)
	if err != nil {
		return MetaoptSummary{}, err
	}
	st := run.Opt.State()
	if sum, told := toldSummary(run.Progress(), in.Iter); told {
		return sum, nil
	}
	if st.Iter != in.Iter {
		return MetaoptSummary{}, permanent(fmt.Errorf("activities: %s: told iteration %d, the checkpoint is at iteration %d", u.ID, in.Iter, st.Iter))
	}
	b, err := a.readBatch(ctx, in.Job, in.Iter)
	if err != nil {
		return MetaoptSummary{}, err
	}
	n := len(b.Batch.Requests)
	if in.Requests != n || in.Group <= 0 {
		return MetaoptSummary{}, permanent(fmt.Errorf("activities: %s: told %d requests in groups of %d, the batch has %d", u.ID, in.Requests, in.Group, n))
	}
	res := make([]metaopt.Outcome, 0, n)
	var objects []string
	for from := 0; from < n; from += in.Group {
		to := min(from+in.Group, n)
		key, err := metaoptObject(in.Job.Unit.CampaignID, in.Job.ContentKey, evalName(in.Iter, from, to))
		if err != nil {
			return MetaoptSummary{}, permanent(err)
		}
		data, err := a.Store.Get(ctx, key)
		if err != nil {
			return MetaoptSummary{}, fmt.Errorf("activities: %s: outcomes %s: %w", u.ID, key, err)
		}
		var g metaoptOutcomes
		if err := json.Unmarshal(data, &g); err != nil {
			return MetaoptSummary{}, fmt.Errorf("activities: %s: outcomes %s: %w", u.ID, key, err)
		}
		if g.Iter != in.Iter || g.From != from || len(g.Outcomes) != to-from {
			return MetaoptSummary{}, fmt.Errorf("activities: %s: outcomes %s hold %d outcomes from %d of iteration %d", u.ID, key, len(g.Outcomes), g.From, g.Iter)
		}
		res = append(res, g.Outcomes...)
		objects = append(objects, key)
	}
	rec, err := run.Tell(b.Batch, res, in.WallSeconds)
	if err != nil {
		return MetaoptSummary{}, unitFailure(u.ID, stageError(u.ID, err))
	}
	if err := a.saveProgress(ctx, cpKey, in.Job.ContentKey, run.Progress()); err != nil {
		return MetaoptSummary{}, err
	}
	a.log().Info("metaopt iteration", "job", u.ID, "iter", rec.Iter, "j", rec.J, "wall_seconds", in.WallSeconds)
	if !b.Batch.HeldOutOnly && a.afterIteration != nil {
		a.afterIteration(rec.Iter)
	}
	batchKey, _ := metaoptObject(in.Job.Unit.CampaignID, in.Job.ContentKey, batchName(in.Iter))
	for _, key := range append(objects, batchKey) {
		if err := a.Store.RemoveCheckpoint(ctx, key); err != nil {
			a.log().Warn("metaopt: removing a told object failed", "key", key, "err", err)
		}
	}
	sum, _ := toldSummary(run.Progress(), in.Iter)
	return sum, nil
}

// toldSummary returns the summary of iteration iter when the progress is
// past it: its record's, or that of the final held-out evaluation when
// iter is the last iteration and it is done.
func toldSummary(p stages.MetaoptProgress, iter int) (MetaoptSummary, bool) {
	st := p.State
	switch {
	case iter < st.Iter && iter < len(p.Records):
		r := p.Records[iter]
		s := MetaoptSummary{Iter: iter + 1, J: r.J}
		if r.HeldOut != nil {
			s.HeldOutJ = &r.HeldOut.J
		}
		return s, true
	case iter == st.Iter && st.Iter >= st.Settings.Iters && st.LastHeldOut != nil && st.LastHeldOut.Iter == iter:
		s := MetaoptSummary{Iter: iter, HeldOutJ: &st.LastHeldOut.J}
		if iter > 0 && iter <= len(p.Records) {
			s.J = p.Records[iter-1].J
		}
		return s, true
	}
	return MetaoptSummary{}, false
}

// MetaoptFinish commits the history dataset and the result object of a
// job whose iterations are all told, exactly as the Metaopt unit does,
// records the unit's lineage and returns the unit's output.
func (a *Activities) MetaoptFinish(ctx context.Context, ref MetaoptJobRef) (UnitOutput, error) {
	if err := a.check(); err != nil {
		return UnitOutput{}, err
	}
	r, u, job, err := a.metaoptJob(ctx, ref.Unit, ref.ContentKey)
	if err != nil {
		return UnitOutput{}, err
	}
	_, run, _, err := a.loadRun(ctx, ref)
	if err != nil {
		return UnitOutput{}, unitFailure(u.ID, err)
	}
	if _, more, err := run.Ask(); err != nil || more {
		return UnitOutput{}, unitFailure(u.ID, fmt.Errorf("activities: the job is not done (iteration %d of %d): %v", run.Opt.State().Iter, run.Opt.State().Settings.Iters, err))
	}
	p := run.Progress()
	if len(p.Records) != p.State.Iter {
		return UnitOutput{}, unitFailure(u.ID, fmt.Errorf("activities: the checkpoint holds %d records for %d iterations", len(p.Records), p.State.Iter))
	}
	res, err := run.Result(ref.Unit.CampaignID)
	if err != nil {
		return UnitOutput{}, unitFailure(u.ID, stageError(u.ID, err))
	}
	version, err := r.Versions().Of(pipelines.StageMetaopt)
	if err != nil {
		return UnitOutput{}, permanent(err)
	}
	docs := []store.KeyDoc{u.Datasets[0].Doc}
	mres, err := a.commitMetaopt(ctx, MetaoptInput{CampaignID: ref.Unit.CampaignID, Job: *job, keys: []string{ref.ContentKey}, docs: docs, version: version}, ref.ContentKey, res)
	if err != nil {
		return UnitOutput{}, unitFailure(u.ID, err)
	}
	a.recordLineage(ctx, r.Plan(), u)
	return UnitOutput{Unit: u.ID, Datasets: []Dataset{mres.Dataset}, Metaopt: &mres}, nil
}

// registerMetaoptJob registers the MetaoptJob workflow's activities.
func registerMetaoptJob(w Registry, a *Activities) {
	w.RegisterActivityWithOptions(a.MetaoptStart, activity.RegisterOptions{Name: MetaoptStartName})
	w.RegisterActivityWithOptions(a.MetaoptAsk, activity.RegisterOptions{Name: MetaoptAskName})
	w.RegisterActivityWithOptions(a.MetaoptEval, activity.RegisterOptions{Name: MetaoptEvalName})
	w.RegisterActivityWithOptions(a.MetaoptTell, activity.RegisterOptions{Name: MetaoptTellName})
	w.RegisterActivityWithOptions(a.MetaoptFinish, activity.RegisterOptions{Name: MetaoptFinishName})
}
