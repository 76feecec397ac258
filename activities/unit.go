package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"rulescape/pipelines"
	"rulescape/report"
	"rulescape/stages"
	"rulescape/store"
)

// PlanRef names a campaign's stored plan (store.PlanRef).
type PlanRef = store.PlanRef

// UnitInput is one unit of a campaign: the index-th unit of a stage of the
// stored plan. Everything else the activity needs — the unit's resolved
// settings, the datasets it reads — it finds in the plan and the store.
type UnitInput struct {
	CampaignID string              `json:"campaign_id"`
	Plan       PlanRef             `json:"plan"`
	Stage      pipelines.StageName `json:"stage"`
	Index      int                 `json:"index"`
	// Metaopt holds the results of the campaign's metaopt jobs (Θ and η of
	// discovered rules) for the units that train or analyse networks of
	// such rules; empty for metaopt units.
	Metaopt map[string]MetaoptResult `json:"metaopt,omitempty"`
	// Force recomputes the unit even when its datasets are committed, and
	// overwrites them (`rulescape rerun`).
	Force bool `json:"force,omitempty"`
	// Stages are the run's per-stage timings, for the report unit.
	Stages []report.Stage `json:"stages,omitempty"`
}

// UnitOutput is what a unit's activity returns: refs only.
type UnitOutput struct {
	Unit     string    `json:"unit"`
	Datasets []Dataset `json:"datasets"`
	CacheHit bool      `json:"cache_hit"`
	// Metaopt is the job's result, for metaopt units.
	Metaopt *MetaoptResult `json:"metaopt,omitempty"`
}

// planCache keeps the plans a worker has read, by SHA-256 (a plan never
// changes under its digest).
type planCache struct {
	mu    sync.Mutex
	plans map[string]*pipelines.Plan
	order []string
}

// maxCachedPlans bounds the plans a worker keeps in memory.
const maxCachedPlans = 8

// versions returns the stage versions of this worker.
func (a *Activities) versions() stages.Versions {
	if a.Versions != nil {
		return a.Versions.WithLoadtest()
	}
	return stages.Current().WithLoadtest()
}

// LoadPlan reads and checks a stored plan (memoized by digest).
func (a *Activities) LoadPlan(ctx context.Context, ref PlanRef) (*pipelines.Plan, error) {
	a.plansOnce.Do(func() { a.plans = &planCache{plans: map[string]*pipelines.Plan{}} })
	c := a.plans
	c.mu.Lock()
	p, ok := c.plans[ref.SHA256]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	data, err := a.Store.Get(ctx, ref.Key)
	if store.IsNotFound(err) {
		return nil, permanent(fmt.Errorf("activities: the campaign's plan %s is not in the store: run the campaign file again", ref.Key))
	}
	if err != nil {
		return nil, fmt.Errorf("activities: reading the plan %s: %w", ref.Key, err)
	}
	p, err = pipelines.DecodePlan(data, ref.SHA256)
	if err != nil {
		return nil, permanent(fmt.Errorf("activities: plan %s: %w", ref.Key, err))
	}
	c.mu.Lock()
	if _, ok := c.plans[ref.SHA256]; !ok {
		c.plans[ref.SHA256] = p
		c.order = append(c.order, ref.SHA256)
		if len(c.order) > maxCachedPlans {
			delete(c.plans, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	return p, nil
}

// resolver returns a resolver of the input's plan and the unit it names.
func (a *Activities) resolveUnit(ctx context.Context, in *UnitInput) (*stages.Resolver, *stages.Unit, error) {
	plan, err := a.LoadPlan(ctx, in.Plan)
	if err != nil {
		return nil, nil, err
	}
	if plan.CampaignID != in.CampaignID {
		return nil, nil, permanent(fmt.Errorf("activities: plan %s is of campaign %s, not %s", in.Plan.Key, plan.CampaignID, in.CampaignID))
	}
	r := stages.NewResolver(plan, a.versions(), a.Store.Lookup)
	id, err := r.UnitAt(in.Stage, in.Index)
	if err != nil {
		return nil, nil, permanent(err)
	}
	u, err := r.Resolve(ctx, id)
	if err != nil {
		return nil, nil, fmt.Errorf("activities: %s: %w", id, err)
	}
	return r, u, nil
}

// datasetsOf returns the manifest datasets of a resolved unit whose
// datasets are all committed.
func datasetsOf(u *stages.Unit) []Dataset {
	out := make([]Dataset, len(u.Datasets))
	for i, d := range u.Datasets {
		out[i] = Dataset{Unit: u.ID, Stage: string(u.Stage), Kind: d.Kind, ContentKey: d.ContentKey, Ref: *d.Ref}
	}
	return out
}

// Unit runs one unit of a campaign's stored plan: it resolves the unit's
// content keys (its settings, its stage's engine version and the digests
// of the datasets it reads), returns its committed datasets as a cache hit
// when they all exist, and otherwise computes and commits them, then
// records them as the unit's latest version under the campaign's name
// (store.Lineage, what `rulescape explain` compares with). The workflow
// calls it under the stage's activity name (Register).
//
// A failure is an application error whose details hold the unit's ID, so
// the workflow names the unit (retryability as the cause decided).
func (a *Activities) Unit(ctx context.Context, in UnitInput) (UnitOutput, error) {
	if err := a.check(); err != nil {
		return UnitOutput{}, err
	}
	ctx, stopping, done := watchWorkerStop(ctx)
	defer done()
	ctx = store.WithRunner(ctx, a.runnerOf(ctx))
	r, u, err := a.resolveUnit(ctx, &in)
	if err != nil {
		if stopping() {
			return UnitOutput{}, workerShutdown(fmt.Sprintf("%s unit %d", in.Stage, in.Index+1))
		}
		return UnitOutput{}, err
	}
	out, err := a.runUnit(ctx, &in, r, u)
	if err != nil {
		if stopping() {
			a.log().Info("the worker is stopping; handing the unit back", "unit", u.ID)
			return out, workerShutdown(u.ID)
		}
		return out, unitFailure(u.ID, err)
	}
	return out, nil
}

// runnerOf is the store.Runner of a unit: its worker (a.Identity, else
// "<hostname>:<pid>"), its activity's attempt (1 outside an activity) and
// now.
func (a *Activities) runnerOf(ctx context.Context) store.Runner {
	r := store.Runner{Worker: a.Identity, Attempt: 1, Started: time.Now()}
	if r.Worker == "" {
		r.Worker = store.LocalWorker()
	}
	if activity.IsActivity(ctx) {
		r.Attempt = int(activity.GetInfo(ctx).Attempt)
	}
	return r
}

// WorkerShutdownType is the application error type of a unit whose
// worker stopped (SIGINT/SIGTERM) while it ran. The error is not retryable
// at the Temporal level, so the stop uses up no attempt of the unit's
// retry policy: the campaign workflow schedules the unit again as a fresh
// activity, which another worker picks up at once.
const WorkerShutdownType = "WorkerShutdown"

// errWorkerStopping is the cause of a unit's context cancelled because
// its worker is stopping.
var errWorkerStopping = errors.New("the worker is stopping")

// watchWorkerStop returns ctx cancelled as soon as the activity's worker
// starts stopping (worker.Stop, which `rulescape worker` and run's worker
// call on SIGINT/SIGTERM), a function that reports whether that happened,
// and one that releases the watch. Outside an activity ctx is returned.
func watchWorkerStop(ctx context.Context) (context.Context, func() bool, func()) {
	if !activity.IsActivity(ctx) {
		return ctx, func() bool { return false }, func() {}
	}
	stop := activity.GetWorkerStopChannel(ctx)
	cctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-stop:
			cancel(errWorkerStopping)
		case <-cctx.Done():
		}
	}()
	stopping := func() bool { return errors.Is(context.Cause(cctx), errWorkerStopping) }
	return cctx, stopping, func() { cancel(nil) }
}

// workerShutdown is the error of unit id handed back by a stopping worker.
func workerShutdown(id string) error {
	return temporal.NewApplicationErrorWithOptions(id+": its worker stopped before the unit finished; it is scheduled again",
		WorkerShutdownType, temporal.ApplicationErrorOptions{NonRetryable: true, Details: []interface{}{id}})
}

// IsWorkerShutdown reports whether err (as a workflow sees an activity's
// failure) is a unit handed back by a stopping worker.
func IsWorkerShutdown(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.Type() == WorkerShutdownType
}

// unitFailure is err as an application error of unit id: its message
// starting with the unit's ID (once), its type and retryability kept, the
// unit's ID in its details. A cancellation is returned as it is.
func unitFailure(id string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg, typ, nonRetryable := err.Error(), "UnitError", false
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg, typ, nonRetryable = app.Message(), app.Type(), app.NonRetryable()
	}
	msg = strings.TrimPrefix(msg, "activities: ")
	msg = id + ": " + strings.TrimPrefix(msg, id+": ")
	return temporal.NewApplicationErrorWithOptions(msg, typ, temporal.ApplicationErrorOptions{NonRetryable: nonRetryable, Details: []interface{}{id}})
}

// runUnit is Unit once the unit is resolved.
func (a *Activities) runUnit(ctx context.Context, in *UnitInput, r *stages.Resolver, u *stages.Unit) (UnitOutput, error) {
	out := UnitOutput{Unit: u.ID}
	if u.Pending != "" {
		return out, fmt.Errorf("activities: %s: its input %s is not committed: run its stage first", u.ID, u.Pending)
	}
	force := in.Force
	if u.Done() && !force {
		// A cache hit is verified: every byte of its datasets against the
		// SHA-256 its commit marker recorded, so an object corrupted in
		// place (same size, same ETag) is recomputed, not reused.
		bad, err := a.verifyDatasets(ctx, u)
		if err != nil {
			return out, err
		}
		if bad != nil {
			a.log().Warn("cached dataset is corrupt; recomputing the unit", "unit", u.ID, "key", bad.Key, "err", bad)
			force = true
		}
	}
	if force {
		a.log().Info("recomputing the unit", "unit", u.ID, "forced", in.Force)
	}
	if u.Done() && !force {
		out.Datasets, out.CacheHit = datasetsOf(u), true
		if u.Stage == pipelines.StageMetaopt {
			res, found, err := a.readResult(ctx, campaignOf(u.Datasets[0].Ref.Key), u.Datasets[0].ContentKey)
			if err != nil {
				return out, err
			}
			if found {
				res.CacheHit = true
				out.Metaopt = &res
				return out, nil
			}
			a.log().Warn("metaopt: history committed but its result object is missing; recomputing", "job", u.ID)
		} else {
			return out, nil
		}
	}
	if force {
		// A forced computation replaces the unit's datasets: their markers
		// go first, or the commit would keep them (store.Commit keeps the
		// intact marker it finds, as it does a concurrent campaign's).
		for _, d := range u.Datasets {
			if err := a.Store.Invalidate(ctx, d.ContentKey); err != nil {
				return out, err
			}
		}
	}
	keys := make([]string, len(u.Datasets))
	docs := make([]store.KeyDoc, len(u.Datasets))
	for i, d := range u.Datasets {
		keys[i], docs[i] = d.ContentKey, d.Doc
	}
	version, err := r.UnitVersion(u.ID, u.Stage)
	if err != nil {
		return out, permanent(err)
	}
	out.CacheHit = false
	switch u.Stage {
	case pipelines.StageMetaopt:
		res, err := a.computeMetaopt(ctx, MetaoptInput{CampaignID: in.CampaignID, Job: *r.MetaoptJob(u.ID), Force: force, keys: keys, docs: docs, version: version})
		if err != nil {
			return out, err
		}
		out.Metaopt, out.Datasets = &res, []Dataset{res.Dataset}
	case pipelines.StageTrain:
		tu := r.TrainUnit(u.ID)
		tin := TrainInput{CampaignID: in.CampaignID, Unit: *tu, Force: force, keys: keys, docs: docs, version: version}
		if tu.Metaopt != "" {
			res, err := a.metaoptResult(ctx, r, in, u.ID, tu.Metaopt)
			if err != nil {
				return out, err
			}
			tin.Metaopt = &res
		}
		res, err := a.computeTrain(ctx, tin)
		if err != nil {
			return out, err
		}
		out.Datasets = res.Datasets
	case pipelines.StageReport:
		res, err := a.reportUnit(ctx, r, u, keys[0], version, in.Stages)
		if err != nil {
			return out, err
		}
		out.Datasets = res
	case stages.StageLoadtest, stages.StageLoadtestAnalysis:
		res, err := a.computeLoadtest(ctx, in.CampaignID, r, u, keys, docs, version)
		if err != nil {
			return out, err
		}
		out.Datasets = res
	default:
		ain, err := a.analysisInput(ctx, r, u, in)
		if err != nil {
			return out, err
		}
		ain.keys, ain.docs, ain.version, ain.Force = keys, docs, version, force
		var res AnalysisOutput
		switch u.Stage {
		case pipelines.StageFixedPoints:
			res, err = a.computeFixedPoints(ctx, ain)
		case pipelines.StageSensitivity:
			res, err = a.computeSensitivity(ctx, ain)
		case pipelines.StageRSA:
			res, err = a.computeRSA(ctx, ain)
		case pipelines.StageLandscape:
			res, err = a.computeLandscape(ctx, ain)
		case pipelines.StageDSA:
			res, err = a.computeDSA(ctx, ain)
		case pipelines.StageAtlas:
			res, err = a.computeAtlas(ctx, ain)
		default:
			return out, permanent(fmt.Errorf("activities: %s: stage %s has no activity", u.ID, u.Stage))
		}
		if err != nil {
			return out, err
		}
		out.Datasets = res.Datasets
	}
	if !out.CacheHit {
		a.recordLineage(ctx, r.Plan(), u)
	}
	return out, nil
}

// verifyDatasets reads every committed dataset of u and checks its size
// and SHA-256 against its commit marker; it returns the first mismatch,
// or an error when an object cannot be read.
func (a *Activities) verifyDatasets(ctx context.Context, u *stages.Unit) (*store.CorruptError, error) {
	for _, d := range u.Datasets {
		if d.Ref == nil {
			continue
		}
		err := a.Store.Verify(ctx, *d.Ref)
		var bad *store.CorruptError
		switch {
		case errors.As(err, &bad):
			return bad, nil
		case err != nil:
			return nil, err
		}
	}
	return nil, nil
}

// metaoptResult returns the result of the metaopt job named job, whose Θ
// unit id reads: from the unit's input when the workflow passed it (units
// run by the campaign workflow itself, and chunks of runs recorded before
// bulkCacheVersion), else from the store — the result object of the job's
// committed history, as a metaopt cache hit reads it.
func (a *Activities) metaoptResult(ctx context.Context, r *stages.Resolver, in *UnitInput, id, job string) (MetaoptResult, error) {
	if res, ok := in.Metaopt[job]; ok {
		return res, nil
	}
	mu, err := r.Resolve(ctx, job)
	if err != nil {
		return MetaoptResult{}, fmt.Errorf("activities: %s: %w", id, err)
	}
	if !mu.Done() {
		return MetaoptResult{}, permanent(fmt.Errorf("activities: %s: %w %s", id, errNoTheta, job))
	}
	d := mu.Datasets[0]
	res, found, err := a.readResult(ctx, campaignOf(d.Ref.Key), d.ContentKey)
	if err != nil {
		return MetaoptResult{}, err
	}
	if !found {
		return MetaoptResult{}, permanent(fmt.Errorf("activities: %s: %w %s (its result object is missing)", id, errNoTheta, job))
	}
	return res, nil
}

// recordLineage records the unit's datasets as its latest version under
// the campaign's name, with where and how they were computed (the Runner
// of ctx). A failure is logged, not returned: the lineage only serves
// explanations.
func (a *Activities) recordLineage(ctx context.Context, plan *pipelines.Plan, u *stages.Unit) {
	var prov *store.Provenance
	if rn, ok := store.RunnerOf(ctx); ok {
		now := time.Now().UTC()
		prov = &store.Provenance{Worker: rn.Worker, Attempt: rn.Attempt, WallSeconds: now.Sub(rn.Started).Seconds(), ComputedAt: now}
	}
	for _, d := range u.Datasets {
		l := store.Lineage{Name: plan.Name, Unit: u.ID, Kind: d.Kind, Campaign: plan.CampaignID, ContentKey: d.ContentKey, Doc: d.Doc, Provenance: prov}
		if err := a.Store.PutLineage(ctx, l); err != nil {
			a.log().Warn("recording the unit's lineage failed", "unit", u.ID, "err", err)
		}
	}
}

// analysisInput builds the input of an analysis activity from the plan:
// the networks datasets of its train units (and the Θ of their metaopt
// jobs) and, for landscape units, the fixed_points datasets of the same
// networks, as the resolver found them.
func (a *Activities) analysisInput(ctx context.Context, r *stages.Resolver, u *stages.Unit, in *UnitInput) (AnalysisInput, error) {
	au := r.AnalysisUnit(u.ID)
	out := AnalysisInput{CampaignID: in.CampaignID, Unit: *au, Force: in.Force}
	refs, err := r.InputRefs(ctx, u)
	if err != nil {
		return out, err
	}
	thetas := map[string][][]float64{} // job → Θ, read once per unit
	for i, ip := range u.Inputs {
		up, err := r.Resolve(ctx, ip.Unit)
		if err != nil {
			return out, err
		}
		d := Dataset{Unit: ip.Unit, Stage: string(up.Stage), Kind: ip.Kind, ContentKey: up.Dataset(ip.Kind).ContentKey, Ref: refs[i]}
		if up.Stage == pipelines.StageFixedPoints {
			out.FixedPoints = append(out.FixedPoints, d)
			continue
		}
		if up.Stage == pipelines.StageDSA || up.Stage == pipelines.StageLandscape {
			out.Pairs = append(out.Pairs, d)
			continue
		}
		tu := r.TrainUnit(ip.Unit)
		n := AnalysisNetwork{Unit: *tu, Networks: d}
		if tu.Metaopt != "" {
			theta, ok := thetas[tu.Metaopt]
			if !ok {
				res, err := a.metaoptResult(ctx, r, in, u.ID, tu.Metaopt)
				if err != nil {
					return out, err
				}
				theta, thetas[tu.Metaopt] = res.Theta, res.Theta
			}
			n.Theta = theta
		}
		out.Networks = append(out.Networks, n)
	}
	return out, nil
}

// Registry is what Register needs: a worker.
type Registry interface {
	RegisterActivityWithOptions(a interface{}, options activity.RegisterOptions)
}

// StageActivity returns the activity name of a stage's units.
func StageActivity(stage pipelines.StageName) string {
	switch stage {
	case pipelines.StageMetaopt:
		return MetaoptName
	case pipelines.StageTrain:
		return TrainName
	case pipelines.StageFixedPoints:
		return FixedPointsName
	case pipelines.StageSensitivity:
		return SensitivityName
	case pipelines.StageRSA:
		return RSAName
	case pipelines.StageLandscape:
		return LandscapeName
	case pipelines.StageDSA:
		return DSAName
	case pipelines.StageAtlas:
		return AtlasName
	case pipelines.StageReport:
		return ReportName
	case stages.StageLoadtest:
		return LoadtestName
	case stages.StageLoadtestAnalysis:
		return LoadtestAnalysisName
	}
	return ""
}

// Register registers a's activities with a worker: Unit under the name of
// every stage's activity (so the Temporal UI shows "Train", "RSA", …),
// the synthetic stages of `rulescape loadtest` included (so that workers
// of other processes run them too), ResolveUnits, Manifest and Prune.
func Register(w Registry, a *Activities) {
	for _, s := range []pipelines.StageName{pipelines.StageMetaopt, pipelines.StageTrain, pipelines.StageFixedPoints,
		pipelines.StageSensitivity, pipelines.StageRSA, pipelines.StageLandscape, pipelines.StageDSA, pipelines.StageAtlas, pipelines.StageReport,
		stages.StageLoadtest, stages.StageLoadtestAnalysis} {
		w.RegisterActivityWithOptions(a.Unit, activity.RegisterOptions{Name: StageActivity(s)})
	}
	w.RegisterActivityWithOptions(a.Manifest, activity.RegisterOptions{Name: ManifestName})
	w.RegisterActivityWithOptions(a.Prune, activity.RegisterOptions{Name: PruneName})
	registerMetaoptJob(w, a)
	w.RegisterActivityWithOptions(a.ResolveUnits, activity.RegisterOptions{Name: ResolveName})
}
