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
	"rulescape/report"
)

// TaskQueue is the task queue campaign workflows and activities use.
const TaskQueue = "rulescape"

// CampaignWorkflowName is the registered name of CampaignWorkflow. It is
// "Campaign" since campaign IDs v2 (plans); the workflow of ID v1
// campaigns, which parsed the campaign file itself, was "CampaignWorkflow".
const CampaignWorkflowName = "Campaign"

// LegacyCampaignWorkflowName is the workflow type of ID v1 campaigns. This
// version does not run them (docs/CAMPAIGNS.md: their datasets and reports
// stay readable; running their file again plans a v2 campaign).
const LegacyCampaignWorkflowName = "CampaignWorkflow"

// ProgressQuery is the name of the query that returns a Progress.
const ProgressQuery = "progress"

// WorkflowID returns the workflow ID of a campaign: "campaign-<id>".
func WorkflowID(campaignID string) string { return "campaign-" + campaignID }

// Stage statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusCanceled  = "canceled"
)

// defaultMaxParallel bounds the units in flight when the plan leaves it to
// the workers (max_parallel: 0); each worker still runs at most as many
// activities as its MaxConcurrentActivityExecutionSize.
const defaultMaxParallel = 64

// CampaignInput starts a campaign. The CLI parses and plans the campaign
// file once and stores the plan (pipelines.Plan.Encode) at Plan.Key; the
// workflow runs that plan, reads no campaign file and no default, and its
// history records the plan's digest, so every activity of the run — on any
// worker, of any later build — reads the same units.
type CampaignInput struct {
	CampaignID string             `json:"campaign_id"` // the plan's campaign ID (v2)
	Plan       activities.PlanRef `json:"plan"`        // the stored plan
	Outline    pipelines.Outline  `json:"outline"`     // its stages, unit counts and dependencies
	// HeartbeatTimeout is how long a unit's activity may go without a
	// heartbeat before it is retried (on another worker): how fast a
	// crashed worker is noticed. 0 means DefaultHeartbeatTimeout.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
	// Force lists the stages whose units are recomputed even when their
	// datasets are committed (`rulescape rerun`). The caller includes the
	// downstream stages; the workflow forces exactly the stages listed and,
	// once the manifest is written, removes the datasets of those stages
	// under the campaign's prefix that the new manifest no longer lists.
	Force []pipelines.StageName `json:"force,omitempty"`
	// TrainChunk is the number of train units above which the train stage
	// runs as child workflows of TrainChunk units each (TrainChunkWorkflow),
	// so that no single history holds the events of a whole large sweep.
	// 0 means DefaultTrainChunk.
	TrainChunk int `json:"train_chunk,omitempty"`
	// MetaoptGroup is the number of learner-runs per eval activity of the
	// metaopt jobs (MetaoptJobInput.Group); 0 sizes the groups from the
	// measured time per run.
	MetaoptGroup int `json:"metaopt_group,omitempty"`
}

// DefaultTrainChunk is the default CampaignInput.TrainChunk: about 3
// history events per unit keeps a chunk far below Temporal's 50 000.
const DefaultTrainChunk = 2000

// DefaultHeartbeatTimeout is the heartbeat timeout of the units'
// activities.
const DefaultHeartbeatTimeout = 30 * time.Second

// StageProgress is the state of one stage.
type StageProgress struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"` // pending, running, completed or failed
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
	// campaign has no report stage.
	Report string `json:"report,omitempty"`
}

// retry is the retry policy of a unit's activity with at most attempts
// attempts; bad units and configuration errors are not retried.
func retry(attempts int32) *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
		MaximumInterval: time.Minute, MaximumAttempts: attempts, NonRetryableErrorTypes: []string{"BadUnit", "Config"}}
}

// unitOptions returns the activity options of a stage's units. Timeouts
// are generous start-to-close bounds; a crashed worker is noticed through
// the heartbeat timeout instead.
func unitOptions(stage pipelines.StageName, heartbeat time.Duration) workflow.ActivityOptions {
	if heartbeat <= 0 {
		heartbeat = DefaultHeartbeatTimeout
	}
	switch stage {
	case pipelines.StageMetaopt:
		return workflow.ActivityOptions{StartToCloseTimeout: 48 * time.Hour, HeartbeatTimeout: heartbeat, RetryPolicy: retry(5)}
	case pipelines.StageReport:
		return workflow.ActivityOptions{StartToCloseTimeout: time.Hour, HeartbeatTimeout: heartbeat, RetryPolicy: retry(3)}
	}
	return workflow.ActivityOptions{StartToCloseTimeout: 12 * time.Hour, HeartbeatTimeout: heartbeat, RetryPolicy: retry(3)}
}

// manifestOptions and pruneOptions are the options of the manifest and
// prune activities.
var (
	manifestOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		// The activities heartbeat every 5 s: a worker that died holding
		// one is noticed after this, not after the start-to-close timeout.
		HeartbeatTimeout: DefaultHeartbeatTimeout,
		RetryPolicy:      &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 5},
	}
	pruneOptions = manifestOptions
)

// campaign is the workflow's state.
type campaign struct {
	in       CampaignInput
	progress Progress
	force    map[pipelines.StageName]bool        // stages recomputed regardless of the cache
	metaopt  map[string]activities.MetaoptResult // metaopt job ID → its result
	maxPar   int                                 // units in flight at once
	// bulk is set in runs that resolve the cache in bulk (bulkCacheVersion):
	// one ResolveUnits activity per chunk of a stage's units, activities
	// only for the units to compute, every large stage in child workflows.
	bulk bool
	// run is the campaign workflow's run ID in bulk runs: the key of the
	// records its ResolveUnits activities leave for the manifest.
	run string
	// resolved holds a chunk's ResolveUnits outputs, resolved ahead by the
	// campaign (TrainChunkInput.Resolved); nil: the chunk resolves itself.
	resolved []activities.ResolveOutput
}

func (c *campaign) stage(name pipelines.StageName) *StageProgress {
	for i := range c.progress.Stages {
		if c.progress.Stages[i].Name == string(name) {
			return &c.progress.Stages[i]
		}
	}
	return nil
}

// CampaignWorkflow runs a campaign's stored plan: its stages in dependency
// order (metaopt, train, fixedpoints, rsa, landscape, sensitivity), each
// fanned out with at most Outline.MaxParallel units in flight — each unit
// an activity that finds its settings in the plan and its inputs in the
// store, a cache hit when its datasets are committed — then the manifest,
// and finally the report unit, which reads the manifest.
// A unit that fails after its retries fails the campaign once the units in
// flight have finished; every finished unit stays committed, so running the
// campaign again only computes what is missing.
func CampaignWorkflow(ctx workflow.Context, in CampaignInput) (*CampaignResult, error) {
	c := &campaign{in: in, metaopt: map[string]activities.MetaoptResult{}, force: map[pipelines.StageName]bool{}}
	c.progress = Progress{Campaign: in.CampaignID, Name: in.Outline.Name, Status: StatusRunning}
	for _, s := range in.Outline.Stages {
		c.progress.Stages = append(c.progress.Stages, StageProgress{Name: string(s.Name), Status: StatusPending, Total: s.Units})
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) {
		return c.progress.clone(), nil
	}); err != nil {
		return nil, err
	}
	if in.CampaignID == "" || in.Plan.Key == "" || in.Plan.SHA256 == "" {
		return nil, c.fail(temporal.NewNonRetryableApplicationError(
			"workflows: the campaign input names no stored plan: start campaigns with `rulescape run FILE`", "BadInput", nil))
	}
	for _, s := range in.Force {
		c.force[s] = true
	}
	c.maxPar = in.Outline.MaxParallel
	if c.maxPar <= 0 {
		c.maxPar = defaultMaxParallel
	}
	c.bulk = workflow.GetVersion(ctx, bulkCacheChange, workflow.DefaultVersion, bulkCacheVersion) >= bulkCacheVersion
	if c.bulk {
		c.run = workflow.GetInfo(ctx).WorkflowExecution.RunID
	}
	var hasReport bool
	// The campaign's own history holds at most chunk() units in all: a
	// stage that would take it past that runs as chunk children even when
	// it is small itself (campaigns started before this rule record no
	// marker and keep the per-stage rule: a campaign of several 1 000-unit
	// stages then grew past Temporal's 10 240-event warning).
	budget := false
	if c.bulk {
		budget = workflow.GetVersion(ctx, "inline-unit-budget", workflow.DefaultVersion, 1) >= 1
	}
	inline := 0
	for _, s := range in.Outline.Stages {
		if s.Name == pipelines.StageReport {
			hasReport = true
			continue
		}
		var err error
		switch {
		case s.Name == pipelines.StageMetaopt:
			err = c.runMetaoptStage(ctx, s.Units)
		case c.bulk && (s.Units > c.chunk() || budget && inline+s.Units > c.chunk()):
			err = c.runChildren(ctx, s.Name, s.Units)
		case c.bulk:
			inline += s.Units
			err = c.runStageBulk(ctx, s.Name, 0, s.Units)
		case s.Name == pipelines.StageTrain && s.Units > c.chunk():
			err = c.runTrainChildren(ctx, s.Units)
		default:
			err = c.runStage(ctx, s.Name, 0, s.Units)
		}
		if err != nil {
			return nil, c.end(ctx, err)
		}
	}
	if hasReport {
		st := c.stage(pipelines.StageReport)
		now := workflow.Now(ctx)
		st.Status, st.StartedAt = StatusRunning, &now // the manifest records it running
	}
	stages := map[string]string{}
	for _, s := range c.progress.Stages {
		stages[s.Name] = s.Status
	}
	var man activities.ManifestOutput
	mctx := workflow.WithActivityOptions(ctx, manifestOptions)
	if err := workflow.ExecuteActivity(mctx, activities.ManifestName, activities.ManifestInput{
		CampaignID: in.CampaignID, Plan: in.Plan, Stages: stages, Run: c.run,
	}).Get(ctx, &man); err != nil {
		return nil, c.end(ctx, unitError("manifest", err))
	}
	if len(in.Force) > 0 {
		pctx := workflow.WithActivityOptions(ctx, pruneOptions)
		if err := workflow.ExecuteActivity(pctx, activities.PruneName, activities.PruneInput{
			CampaignID: in.CampaignID, Stages: in.Force,
		}).Get(ctx, nil); err != nil {
			return nil, c.end(ctx, unitError("prune", err))
		}
	}
	var reportKey string
	if hasReport {
		var err error
		if reportKey, err = c.runReport(ctx); err != nil {
			return nil, c.end(ctx, err)
		}
	}
	c.progress.Status = StatusCompleted
	return &CampaignResult{Progress: c.progress.clone(), Manifest: man.Key, Datasets: man.Datasets, Report: reportKey}, nil
}

func (c *campaign) chunk() int {
	if c.in.TrainChunk > 0 {
		return c.in.TrainChunk
	}
	return DefaultTrainChunk
}

// fail records the campaign's failure; stages still running (the report,
// started before a manifest that failed) are marked failed too.
func (c *campaign) fail(err error) error {
	c.progress.Status = StatusFailed
	c.progress.Error = err.Error()
	for i := range c.progress.Stages {
		if c.progress.Stages[i].Status == StatusRunning {
			c.progress.Stages[i].Status = StatusFailed
		}
	}
	return err
}

// resolveAheadChange names the version that resolves a chunked stage's
// cache before its children start (campaign.resolveAhead).
const resolveAheadChange = "resolve-ahead"

// cancelStatusChange names the version that ends a cancelled campaign as
// canceled rather than failed.
const cancelStatusChange = "cancel-status"

// end ends the campaign on err: a campaign whose workflow was cancelled
// (its units' errors are then cancellations, or failures wrapping them)
// is marked canceled, with the stages it stopped, and returns Temporal's
// cancellation, so that the execution and `rulescape status` say
// "canceled"; any other error fails it. Campaigns recorded before this
// rule keep failing (the version marker).
func (c *campaign) end(ctx workflow.Context, err error) error {
	if ctx.Err() == nil || workflow.GetVersion(ctx, cancelStatusChange, workflow.DefaultVersion, 1) < 1 {
		return c.fail(err)
	}
	c.progress.Status = StatusCanceled
	c.progress.Error = "canceled"
	for i := range c.progress.Stages {
		// A stage that ended on its units' cancellation was marked failed.
		if st := &c.progress.Stages[i]; st.Status == StatusRunning || st.Status == StatusFailed {
			st.Status = StatusCanceled
		}
	}
	return temporal.NewCanceledError()
}

// unitInput is the input of the i-th unit of a stage.
func (c *campaign) unitInput(stage pipelines.StageName, i int) activities.UnitInput {
	in := activities.UnitInput{CampaignID: c.in.CampaignID, Plan: c.in.Plan, Stage: stage, Index: i, Force: c.force[stage]}
	if stage != pipelines.StageMetaopt && len(c.metaopt) > 0 {
		in.Metaopt = c.metaopt
	}
	return in
}

// runStage runs units [from, to) of a stage, at most maxPar in flight.
func (c *campaign) runStage(ctx workflow.Context, stage pipelines.StageName, from, to int) error {
	actx := workflow.WithActivityOptions(ctx, unitOptions(stage, c.in.HeartbeatTimeout))
	return c.fanOut(ctx, stage, to-from, func(i int) workflow.Future {
		return workflow.ExecuteActivity(actx, activities.StageActivity(stage), c.unitInput(stage, from+i))
	}, func(i int, f workflow.Future) (bool, error) {
		var r activities.UnitOutput
		if err := f.Get(ctx, &r); err != nil {
			return false, unitError(fmt.Sprintf("%s unit %d", stage, from+i+1), err)
		}
		if r.Metaopt != nil {
			c.metaopt[r.Unit] = *r.Metaopt
		}
		return r.CacheHit, nil
	})
}

// runTrainChildren runs the train stage as child workflows of chunk units,
// one after the other (each fans out up to MaxParallel units): runs
// recorded before bulkCacheVersion.
func (c *campaign) runTrainChildren(ctx workflow.Context, n int) error {
	return c.runChildren(ctx, pipelines.StageTrain, n)
}

// runChildren runs a stage as child workflows of chunk units each
// (TrainChunkWorkflow, whatever the stage), one after the other (each fans
// out up to MaxParallel units). In bulk runs the children's inputs carry no
// metaopt results (the units read them from the store), so they stay small
// at any campaign size.
func (c *campaign) runChildren(ctx workflow.Context, stage pipelines.StageName, n int) error {
	st := c.stage(stage)
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
	parent := workflow.GetInfo(ctx).WorkflowExecution.ID
	chunk := c.chunk()
	// Campaigns started since resolveAheadChange resolve the whole stage
	// first (concurrently), and pass each child its ranges' outputs.
	var pre []activities.ResolveOutput
	if c.bulk && workflow.GetVersion(ctx, resolveAheadChange, workflow.DefaultVersion, 1) >= 1 {
		var err error
		if pre, err = c.resolveAhead(ctx, stage, n); err != nil {
			st.Status = StatusFailed
			return err
		}
	}
	perChunk := (chunk + ResolveChunk - 1) / ResolveChunk // resolve ranges per chunk
	for k, from := 0, 0; from < n; k, from = k+1, from+chunk {
		to := min(from+chunk, n)
		var r TrainChunkResult
		in := TrainChunkInput{
			CampaignID: c.in.CampaignID, Plan: c.in.Plan, From: from, To: to,
			Force: c.force[stage], MaxParallel: c.maxPar, HeartbeatTimeout: c.in.HeartbeatTimeout,
		}
		if c.bulk {
			if stage != pipelines.StageTrain {
				in.Stage = stage
			}
			in.Run = c.run
		} else {
			in.Metaopt = c.metaopt
		}
		if pre != nil {
			in.Resolved = pre[k*perChunk : min((k+1)*perChunk, len(pre))]
			compute, hits := 0, 0
			for _, res := range in.Resolved {
				compute, hits = compute+res.Compute, hits+res.Hits
			}
			if compute == 0 { // every unit a verified cache hit: no child
				st.Done += hits
				st.CacheHits += hits
				continue
			}
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("%s-%s-%d", parent, stage, k)})
		err := workflow.ExecuteChildWorkflow(cctx, TrainChunkWorkflowName, in).Get(ctx, &r)
		st.Done += r.Done
		st.CacheHits += r.CacheHits
		if err != nil {
			st.Status = StatusFailed
			return unitError(fmt.Sprintf("%s chunk %d (units %d–%d)", stage, k, from+1, to), err)
		}
		t := workflow.Now(ctx)
		eta := t.Sub(*st.StartedAt).Seconds() / float64(st.Done) * float64(st.Total-st.Done)
		st.EtaSeconds = &eta
	}
	end := workflow.Now(ctx)
	zero := 0.0
	st.FinishedAt, st.Status, st.EtaSeconds = &end, StatusCompleted, &zero
	return nil
}

// TrainChunkWorkflowName is the registered name of TrainChunkWorkflow.
const TrainChunkWorkflowName = "TrainChunk"

// TrainChunkInput is one chunk of a campaign's stage: units [From, To) of
// the stored plan's train stage, or of Stage when set.
type TrainChunkInput struct {
	CampaignID string             `json:"campaign_id"`
	Plan       activities.PlanRef `json:"plan"`
	// Stage is the chunk's stage; "" is train (the only stage chunked
	// before bulkCacheVersion).
	Stage pipelines.StageName `json:"stage,omitempty"`
	From  int                 `json:"from"`
	To    int                 `json:"to"`
	// Metaopt holds the results of the campaign's metaopt jobs in runs
	// recorded before bulkCacheVersion; since, it is empty and the units
	// read the results from the store.
	Metaopt          map[string]activities.MetaoptResult `json:"metaopt,omitempty"`
	Force            bool                                `json:"force,omitempty"`
	MaxParallel      int                                 `json:"max_parallel,omitempty"`
	HeartbeatTimeout time.Duration                       `json:"heartbeat_timeout,omitempty"`
	// Run is the campaign workflow's run ID (bulk runs), which keys the
	// records of the chunk's ResolveUnits activity.
	Run string `json:"run,omitempty"`
	// Resolved holds the ResolveUnits outputs of the chunk's ranges when the
	// campaign resolved them ahead (resolveAheadChange); the chunk then
	// runs no ResolveUnits of its own.
	Resolved []activities.ResolveOutput `json:"resolved,omitempty"`
}

// TrainChunkResult is what TrainChunkWorkflow returns: counts only.
type TrainChunkResult struct {
	Done      int `json:"done"`
	CacheHits int `json:"cache_hits"`
}

// TrainChunkWorkflow runs one chunk of a stage's units exactly as the
// campaign workflow runs a small stage (bulk cache resolution, bounded
// fan-out of the units to compute, the first failure stops new units).
func TrainChunkWorkflow(ctx workflow.Context, in TrainChunkInput) (*TrainChunkResult, error) {
	stage := in.Stage
	if stage == "" {
		stage = pipelines.StageTrain
	}
	c := &campaign{
		in:       CampaignInput{CampaignID: in.CampaignID, Plan: in.Plan, HeartbeatTimeout: in.HeartbeatTimeout},
		metaopt:  in.Metaopt,
		maxPar:   in.MaxParallel,
		force:    map[pipelines.StageName]bool{stage: in.Force},
		progress: Progress{Campaign: in.CampaignID, Status: StatusRunning},
	}
	if c.maxPar <= 0 {
		c.maxPar = defaultMaxParallel
	}
	if c.metaopt == nil {
		c.metaopt = map[string]activities.MetaoptResult{}
	}
	c.progress.Stages = []StageProgress{{Name: string(stage), Status: StatusPending, Total: in.To - in.From}}
	c.bulk = workflow.GetVersion(ctx, bulkCacheChange, workflow.DefaultVersion, bulkCacheVersion) >= bulkCacheVersion
	c.run = in.Run
	c.resolved = in.Resolved
	var err error
	if c.bulk {
		err = c.runStageBulk(ctx, stage, in.From, in.To)
	} else {
		err = c.runStage(ctx, stage, in.From, in.To)
	}
	st := c.stage(stage)
	return &TrainChunkResult{Done: st.Done, CacheHits: st.CacheHits}, err
}

// runReport runs the report unit with the run's stage timings and returns
// the key of the report's index.html.
func (c *campaign) runReport(ctx workflow.Context) (string, error) {
	st := c.stage(pipelines.StageReport)
	now := workflow.Now(ctx)
	timings := make([]report.Stage, len(c.progress.Stages))
	for i, s := range c.progress.Stages {
		timings[i] = report.Stage{Name: s.Name, Status: s.Status, Done: s.Done, Total: s.Total, CacheHits: s.CacheHits, Seconds: s.Seconds(now)}
		if s.Name == string(pipelines.StageReport) {
			timings[i].Status = "writing this report"
		}
	}
	in := c.unitInput(pipelines.StageReport, 0)
	in.Stages = timings
	var out activities.UnitOutput
	rctx := workflow.WithActivityOptions(ctx, unitOptions(pipelines.StageReport, c.in.HeartbeatTimeout))
	err := workflow.ExecuteActivity(rctx, activities.ReportName, in).Get(ctx, &out)
	for activities.IsWorkerShutdown(err) { // handed back by a stopping worker: again, as a fresh activity
		err = workflow.ExecuteActivity(rctx, activities.ReportName, in).Get(ctx, &out)
	}
	end := workflow.Now(ctx)
	st.FinishedAt = &end
	if err != nil {
		st.Status = StatusFailed
		return "", unitError(string(pipelines.StageReport), err)
	}
	st.Status, st.Done = StatusCompleted, 1
	if out.CacheHit {
		st.CacheHits = 1
	}
	zero := 0.0
	st.EtaSeconds = &zero
	if len(out.Datasets) == 0 {
		return "", nil
	}
	return out.Datasets[0].Ref.Key, nil
}

// fanOut starts n units with at most maxPar in flight and collects them
// as they finish. After the first failure it starts no more units, waits
// for those in flight and returns the failure(s).
func (c *campaign) fanOut(ctx workflow.Context, name pipelines.StageName, n int,
	start func(i int) workflow.Future, collect func(i int, f workflow.Future) (cacheHit bool, err error)) error {
	st := c.stage(name)
	if st == nil || n == 0 {
		return nil // a plan without units in this stage
	}
	now := workflow.Now(ctx)
	st.Status, st.StartedAt = StatusRunning, &now
	err := c.dispatch(ctx, st, name, n, start, collect)
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

// dispatch is fanOut without the stage's status: it starts n units with at
// most maxPar in flight, counts them in st as they finish and, after the
// first failure, starts no more units, waits for those in flight and
// returns the failure(s).
func (c *campaign) dispatch(ctx workflow.Context, st *StageProgress, name pipelines.StageName, n int,
	start func(i int) workflow.Future, collect func(i int, f workflow.Future) (cacheHit bool, err error)) error {
	sel := workflow.NewSelector(ctx)
	var errs []string
	var firstErr error
	next, inflight := 0, 0
	// add starts unit i and collects it when it finishes. A unit handed
	// back by a stopping worker (activities.WorkerShutdownType, which no
	// unit returned before) is started again as a fresh activity: the stop
	// uses up none of its attempts. Histories without that error replay
	// unchanged.
	var add func(i int)
	add = func(i int) {
		sel.AddFuture(start(i), func(f workflow.Future) {
			if err := f.Get(ctx, nil); activities.IsWorkerShutdown(err) {
				add(i)
				return
			}
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
	}
	for next < n || inflight > 0 {
		for firstErr == nil && next < n && inflight < c.maxPar {
			add(next)
			next++
			inflight++
		}
		if inflight == 0 {
			break
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		if len(errs) == 1 {
			return firstErr
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%d units of stage %s failed: %s",
			len(errs), name, strings.Join(errs, "; ")), "UnitFailed", nil)
	}
	return nil
}

// unitError is the failure of one unit: a label and the message of the
// error the activity returned (the innermost application error), without
// the SDK's wrapping, which repeats the message at every level.
func unitError(unit string, err error) error {
	msg := err.Error()
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		msg = app.Message()
		var id string
		if app.HasDetails() && app.Details(&id) == nil && id != "" {
			unit = id // the unit's ID, which the activity reported
			msg = strings.TrimPrefix(msg, id+": ")
		}
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
// TrainChunkWorkflow children of large sweeps, MetaoptJobWorkflow children
// of metaopt jobs) under their names.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
	r.RegisterWorkflowWithOptions(TrainChunkWorkflow, workflow.RegisterOptions{Name: TrainChunkWorkflowName})
	r.RegisterWorkflowWithOptions(MetaoptJobWorkflow, workflow.RegisterOptions{Name: MetaoptJobWorkflowName})
}
