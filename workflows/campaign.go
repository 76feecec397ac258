package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
)

// TaskQueue is the task queue campaign workflows and activities use.
const TaskQueue = "rulescape"

// CampaignWorkflowName is the registered name of CampaignWorkflow.
const CampaignWorkflowName = "CampaignWorkflow"

// ProgressQuery is the name of the query that returns a Progress.
const ProgressQuery = "progress"

// WorkflowID returns the workflow ID of a campaign: "campaign-<id>".
func WorkflowID(campaignID string) string { return "campaign-" + campaignID }

// SkippedNotImplemented is the status of a stage this version of the
// workflow does not run: every analysis stage in campaigns started before
// the analysis activities, landscape in those started before the landscape
// activity, the report in those started before the report activity.
const SkippedNotImplemented = "skipped: not implemented yet (analysis issue)"

// Stage statuses besides SkippedNotImplemented.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// defaultMaxParallel bounds the units in flight when the plan leaves it to
// the workers (max_parallel: 0); each worker still runs at most as many
// activities as its MaxConcurrentActivityExecutionSize.
const defaultMaxParallel = 64

// CampaignInput starts a campaign. The workflow parses YAML itself
// (pipelines.Parse and Plan are pure and deterministic), so the history
// holds the spec, not the expanded plan.
type CampaignInput struct {
	CampaignID string `json:"campaign_id"` // must equal the ID of the parsed spec
	File       string `json:"file"`        // file name, for messages and the manifest
	YAML       []byte `json:"yaml"`        // the campaign file's contents
	// HeartbeatTimeout is how long a train or metaopt activity may go
	// without a heartbeat before it is retried (on another worker): how
	// fast a crashed worker is noticed. 0 means DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
	// Force lists the stages whose units are recomputed even when their
	// datasets are committed (`rulescape rerun`): their activities skip the
	// cache lookup and overwrite the datasets (commits are atomic). The
	// caller includes the downstream stages; the workflow forces exactly
	// the stages listed.
	Force []pipelines.StageName `json:"force,omitempty"`
	// TrainChunk is the number of train units above which the train stage
	// runs as child workflows of TrainChunk units each (TrainChunkWorkflow),
	// so that no single history holds the events of a whole large sweep.
	// 0 means DefaultTrainChunk.
	TrainChunk int `json:"train_chunk,omitempty"`
}

// DefaultTrainChunk is the default CampaignInput.TrainChunk: about 3
// history events per unit keeps a chunk far below Temporal's 50 000.
const DefaultTrainChunk = 2000

// DefaultHeartbeatTimeout is the heartbeat timeout of train and metaopt
// activities.
const DefaultHeartbeatTimeout = 30 * time.Second

// StageProgress is the state of one stage.
type StageProgress struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"` // pending, running, completed, failed or SkippedNotImplemented
	Done       int        `json:"done"`   // units finished (computed or cache hits)
	Total      int        `json:"total"`
	CacheHits  int        `json:"cache_hits"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// EtaSeconds estimates the time left from the mean time per finished
	// unit so far; nil before the first unit finishes.
	EtaSeconds *float64 `json:"eta_seconds"`
}

// Seconds is the stage's wall time so far (to now if still running).
func (s StageProgress) Seconds(now time.Time) float64 {
	switch {
	case s.StartedAt == nil:
		return 0
	case s.FinishedAt != nil:
		return s.FinishedAt.Sub(*s.StartedAt).Seconds()
	}
	return now.Sub(*s.StartedAt).Seconds()
}

// Progress is what the progress query returns.
type Progress struct {
	Campaign string          `json:"campaign"`
	Name     string          `json:"name"`
	Status   string          `json:"status"` // running, completed or failed
	Stages   []StageProgress `json:"stages"` // in dependency order
	Error    string          `json:"error,omitempty"`
}

// CampaignResult is what CampaignWorkflow returns. The datasets are listed
// in the manifest, not here, so the result stays small at any campaign size.
type CampaignResult struct {
	Progress
	Manifest string `json:"manifest"` // object key of manifest.json
	Datasets int    `json:"datasets"` // datasets the manifest lists
	// Report is the object key of the report's index.html; "" when the
	// campaign has no report stage (or the run predates it).
	Report string `json:"report,omitempty"`
}

// Activity options. Timeouts are generous start-to-close bounds; a
// crashed worker is noticed through the heartbeat timeout instead.
var (
	metaoptOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 48 * time.Hour,
		HeartbeatTimeout:    DefaultHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 5, NonRetryableErrorTypes: []string{"BadUnit", "Config"}},
	}
	trainOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 12 * time.Hour,
		HeartbeatTimeout:    DefaultHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 3, NonRetryableErrorTypes: []string{"BadUnit", "Config"}},
	}
	manifestOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	}
)

// campaign is the workflow's state.
type campaign struct {
	in       CampaignInput
	plan     *pipelines.Plan
	progress Progress
	force    map[pipelines.StageName]bool  // stages recomputed regardless of the cache
	networks map[string]activities.Dataset // train unit ID → its networks dataset
}

func (c *campaign) stage(name pipelines.StageName) *StageProgress {
	for i := range c.progress.Stages {
		if c.progress.Stages[i].Name == string(name) {
			return &c.progress.Stages[i]
		}
	}
	return nil
}

// CampaignWorkflow runs a campaign: its metaopt jobs, then its train units
// (fanned out, at most Plan.MaxParallel in flight, each unit whose rule is
// discovered getting its job's Θ), then the analysis stages fixedpoints,
// rsa, landscape and sensitivity (one after the other, each fanned out the
// same way), then the manifest, and finally the report (workflows/report.go),
// which reads the manifest.
// A unit that fails after its retries fails the campaign once the units in
// flight have finished; every finished unit stays committed, so running the
// campaign again only computes what is missing.
func CampaignWorkflow(ctx workflow.Context, in CampaignInput) (*CampaignResult, error) {
	c := &campaign{in: in}
	c.progress = Progress{Campaign: in.CampaignID, Status: StatusRunning}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) {
		return c.progress.clone(), nil
	}); err != nil {
		return nil, err
	}
	spec, err := pipelines.Parse(in.File, in.YAML)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "BadSpec", err)
	}
	if spec.ID() != in.CampaignID {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"workflows: campaign ID %s given, but %s has ID %s", in.CampaignID, in.File, spec.ID()), "BadSpec", nil)
	}
	plan, err := spec.Plan()
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(err.Error(), "BadSpec", err)
	}
	c.plan = plan
	c.progress.Name = plan.Name
	for _, s := range plan.Stages {
		c.progress.Stages = append(c.progress.Stages, StageProgress{Name: string(s.Name), Status: StatusPending, Total: len(s.Units)})
	}

	// Version 1: metaopt, train, analysis skipped, manifest. Later
	// versions (analysis activities, child workflows per chunk of units)
	// branch on this value so running campaigns replay unchanged.
	workflow.GetVersion(ctx, "campaign-stages", workflow.DefaultVersion, 1)
	// Version 1 of campaign-force: CampaignInput.Force is honoured. Runs
	// recorded before it replay with DefaultVersion, which forces nothing
	// (their inputs had no Force).
	if len(in.Force) > 0 {
		if v := workflow.GetVersion(ctx, "campaign-force", workflow.DefaultVersion, 1); v >= 1 {
			c.force = map[pipelines.StageName]bool{}
			for _, s := range in.Force {
				c.force[s] = true
			}
		}
	}

	results, err := c.runMetaopt(ctx)
	if err != nil {
		return nil, c.fail(err)
	}
	if err := c.runTrain(ctx, results); err != nil {
		return nil, c.fail(err)
	}
	// Version 1 of campaign-analysis: the analysis stages run. Runs
	// recorded before it replay with DefaultVersion and skip them.
	if v := workflow.GetVersion(ctx, "campaign-analysis", workflow.DefaultVersion, 1); v >= 1 {
		if err := c.runAnalysis(ctx, results); err != nil {
			return nil, c.fail(err)
		}
	}
	// Version 1 of campaign-report: the report stage runs after the
	// manifest (it reads it). Runs recorded before it replay with
	// DefaultVersion and record the report as skipped.
	withReport := c.wantReport(ctx)
	if withReport {
		c.startReport(ctx)
	}
	for i := range c.progress.Stages {
		s := &c.progress.Stages[i]
		if s.Status == StatusPending {
			s.Status = SkippedNotImplemented
		}
	}

	stages := map[string]string{}
	for _, s := range c.progress.Stages {
		stages[s.Name] = s.Status
	}
	var man activities.ManifestOutput
	mctx := workflow.WithActivityOptions(ctx, manifestOptions)
	if err := workflow.ExecuteActivity(mctx, activities.ManifestName, activities.ManifestInput{
		CampaignID: in.CampaignID, File: in.File, YAML: in.YAML, Stages: stages,
	}).Get(ctx, &man); err != nil {
		return nil, c.fail(unitError("manifest", err))
	}
	var reportKey string
	if withReport {
		if reportKey, err = c.runReport(ctx); err != nil {
			return nil, c.fail(err)
		}
	}
	c.progress.Status = StatusCompleted
	return &CampaignResult{Progress: c.progress.clone(), Manifest: man.Key, Datasets: man.Datasets, Report: reportKey}, nil
}

// options returns o with the input's heartbeat timeout.
func (c *campaign) options(o workflow.ActivityOptions) workflow.ActivityOptions {
	if c.in.HeartbeatTimeout > 0 {
		o.HeartbeatTimeout = c.in.HeartbeatTimeout
	}
	return o
}

func (c *campaign) fail(err error) error {
	c.progress.Status = StatusFailed
	c.progress.Error = err.Error()
	return err
}

// runMetaopt runs every metaopt job and returns their results by job ID.
func (c *campaign) runMetaopt(ctx workflow.Context) (map[string]activities.MetaoptResult, error) {
	results := map[string]activities.MetaoptResult{}
	jobs := c.plan.Metaopt
	if len(jobs) == 0 {
		return results, nil
	}
	actx := workflow.WithActivityOptions(ctx, c.options(metaoptOptions))
	err := c.fanOut(ctx, pipelines.StageMetaopt, len(jobs), func(i int) workflow.Future {
		return workflow.ExecuteActivity(actx, activities.MetaoptName, activities.MetaoptInput{CampaignID: c.in.CampaignID, Job: jobs[i],
			Force: c.force[pipelines.StageMetaopt]})
	}, func(i int, f workflow.Future) (bool, error) {
		var r activities.MetaoptResult
		if err := f.Get(ctx, &r); err != nil {
			return false, unitError(jobs[i].ID, err)
		}
		results[jobs[i].ID] = r
		return r.CacheHit, nil
	})
	return results, err
}

// runTrain runs every train unit, passing discovered Θ along: directly, or
// for a sweep of more than TrainChunk units as child workflows of TrainChunk
// units each, one after the other (each fans out up to MaxParallel units).
func (c *campaign) runTrain(ctx workflow.Context, results map[string]activities.MetaoptResult) error {
	chunk := c.in.TrainChunk
	if chunk <= 0 {
		chunk = DefaultTrainChunk
	}
	// Version 1 of campaign-children: large sweeps run as child workflows.
	// Only campaigns with more than one chunk ask, so the histories of
	// smaller ones are unchanged.
	if len(c.plan.Train) > chunk && workflow.GetVersion(ctx, "campaign-children", workflow.DefaultVersion, 1) >= 1 {
		return c.runTrainChildren(ctx, results, chunk)
	}
	return c.runTrainUnits(ctx, results)
}

// runTrainChildren runs the train units as child workflows of chunk units.
func (c *campaign) runTrainChildren(ctx workflow.Context, results map[string]activities.MetaoptResult, chunk int) error {
	units := c.plan.Train
	st := c.stage(pipelines.StageTrain)
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
	parent := workflow.GetInfo(ctx).WorkflowExecution.ID
	for k, from := 0, 0; from < len(units); k, from = k+1, from+chunk {
		part := units[from:min(from+chunk, len(units))]
		meta := map[string]activities.MetaoptResult{}
		for _, u := range part {
			if u.Metaopt != "" {
				meta[u.Metaopt] = results[u.Metaopt]
			}
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: fmt.Sprintf("%s-train-%d", parent, k),
		})
		var r TrainChunkResult
		err := workflow.ExecuteChildWorkflow(cctx, TrainChunkWorkflowName, TrainChunkInput{
			CampaignID: c.in.CampaignID, Units: part, Metaopt: meta, Force: c.force[pipelines.StageTrain],
			MaxParallel: c.plan.MaxParallel, HeartbeatTimeout: c.in.HeartbeatTimeout,
		}).Get(ctx, &r)
		st.Done += r.Done
		st.CacheHits += r.CacheHits
		for id, d := range r.Networks {
			if c.networks == nil {
				c.networks = map[string]activities.Dataset{}
			}
			c.networks[id] = d
		}
		if err != nil {
			st.Status = StatusFailed
			return unitError(fmt.Sprintf("train chunk %d (units %d–%d)", k, from+1, from+len(part)), err)
		}
		t := workflow.Now(ctx)
		eta := t.Sub(*st.StartedAt).Seconds() / float64(st.Done) * float64(st.Total-st.Done)
		st.EtaSeconds = &eta
	}
	end := workflow.Now(ctx)
	st.FinishedAt, st.Status = &end, StatusCompleted
	return nil
}

// TrainChunkWorkflowName is the registered name of TrainChunkWorkflow.
const TrainChunkWorkflowName = "TrainChunk"

// TrainChunkInput is one chunk of a campaign's train stage.
type TrainChunkInput struct {
	CampaignID       string                              `json:"campaign_id"`
	Units            []pipelines.TrainUnit               `json:"units"`
	Metaopt          map[string]activities.MetaoptResult `json:"metaopt,omitempty"` // results of the jobs these units use
	Force            bool                                `json:"force,omitempty"`
	MaxParallel      int                                 `json:"max_parallel,omitempty"`
	HeartbeatTimeout time.Duration                       `json:"heartbeat_timeout,omitempty"`
}

// TrainChunkResult is what TrainChunkWorkflow returns: counts and the
// networks dataset of every unit (refs only).
type TrainChunkResult struct {
	Done      int                           `json:"done"`
	CacheHits int                           `json:"cache_hits"`
	Networks  map[string]activities.Dataset `json:"networks"`
}

// TrainChunkWorkflow runs one chunk of train units exactly as the campaign
// workflow runs a small train stage (bounded fan-out, discovered Θ passed
// along, the first failure stops new units).
func TrainChunkWorkflow(ctx workflow.Context, in TrainChunkInput) (*TrainChunkResult, error) {
	c := &campaign{
		in:   CampaignInput{CampaignID: in.CampaignID, HeartbeatTimeout: in.HeartbeatTimeout},
		plan: &pipelines.Plan{Train: in.Units, MaxParallel: in.MaxParallel},
		progress: Progress{Campaign: in.CampaignID, Status: StatusRunning,
			Stages: []StageProgress{{Name: string(pipelines.StageTrain), Status: StatusPending, Total: len(in.Units)}}},
		force: map[pipelines.StageName]bool{pipelines.StageTrain: in.Force},
	}
	err := c.runTrainUnits(ctx, in.Metaopt)
	st := c.stage(pipelines.StageTrain)
	return &TrainChunkResult{Done: st.Done, CacheHits: st.CacheHits, Networks: c.networks}, err
}

// runTrainUnits runs every train unit as an activity.
func (c *campaign) runTrainUnits(ctx workflow.Context, results map[string]activities.MetaoptResult) error {
	units := c.plan.Train
	actx := workflow.WithActivityOptions(ctx, c.options(trainOptions))
	return c.fanOut(ctx, pipelines.StageTrain, len(units), func(i int) workflow.Future {
		in := activities.TrainInput{CampaignID: c.in.CampaignID, Unit: units[i], Force: c.force[pipelines.StageTrain]}
		if id := units[i].Metaopt; id != "" {
			r := results[id]
			in.Metaopt = &r
		}
		return workflow.ExecuteActivity(actx, activities.TrainName, in)
	}, func(i int, f workflow.Future) (bool, error) {
		var r activities.TrainOutput
		if err := f.Get(ctx, &r); err != nil {
			return false, unitError(units[i].ID, err)
		}
		for _, d := range r.Datasets {
			if d.Kind == "networks" {
				if c.networks == nil {
					c.networks = map[string]activities.Dataset{}
				}
				c.networks[units[i].ID] = d
			}
		}
		return r.CacheHit, nil
	})
}

// fanOut starts n units with at most MaxParallel in flight and collects
// them as they finish. After the first failure it starts no more units,
// waits for those in flight and returns the failure(s).
func (c *campaign) fanOut(ctx workflow.Context, name pipelines.StageName, n int,
	start func(i int) workflow.Future, collect func(i int, f workflow.Future) (cacheHit bool, err error)) error {
	st := c.stage(name)
	if st == nil || n == 0 {
		return nil // a plan without units in this stage
	}
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
	limit := c.plan.MaxParallel
	if limit <= 0 {
		limit = defaultMaxParallel
	}
	sel := workflow.NewSelector(ctx)
	var errs []string
	var firstErr error
	next, inflight := 0, 0
	for next < n || inflight > 0 {
		for firstErr == nil && next < n && inflight < limit {
			i := next
			sel.AddFuture(start(i), func(f workflow.Future) {
				inflight--
				hit, err := collect(i, f)
				if err != nil {
					errs = append(errs, err.Error())
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				st.Done++
				if hit {
					st.CacheHits++
				}
				t := workflow.Now(ctx)
				eta := t.Sub(*st.StartedAt).Seconds() / float64(st.Done) * float64(st.Total-st.Done)
				st.EtaSeconds = &eta
			})
			next++
			inflight++
		}
		if inflight == 0 {
			break
		}
		sel.Select(ctx)
	}
	end := workflow.Now(ctx)
	st.FinishedAt = &end
	if firstErr != nil {
		st.Status = StatusFailed
		if len(errs) == 1 {
			return firstErr
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d units of stage %s failed: %s",
			len(errs), name, strings.Join(errs, "; ")), "UnitFailed", nil)
	}
	st.Status = StatusCompleted
	zero := 0.0
	st.EtaSeconds = &zero
	return nil
}

// unitError is the failure of one unit: its ID and the message of the
// error the activity returned (the innermost application error), without
// the SDK's wrapping, which repeats the message at every level.
func unitError(unit string, err error) error {
	msg := err.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg = app.Message()
	}
	return temporal.NewNonRetryableApplicationError(unit+" failed: "+msg, "UnitFailed", nil)
}

func (p Progress) clone() Progress {
	q := p
	q.Stages = append([]StageProgress(nil), p.Stages...)
	return q
}

// Registry is what Register needs: a worker or a workflow replayer.
type Registry interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
}

// Register registers the campaign workflows (CampaignWorkflow and the
// TrainChunkWorkflow children of large sweeps) under their names.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
	r.RegisterWorkflowWithOptions(TrainChunkWorkflow, workflow.RegisterOptions{Name: TrainChunkWorkflowName})
}
