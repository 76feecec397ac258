package workflows

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"rulescape/activities"
	"rulescape/manifest"
	"rulescape/pipelines"
	"rulescape/store"
)

// This file holds what a client (the CLI) does with a campaign's workflow:
// start or attach, ask for progress and status, read the input. The
// workflow code does not use it.

// Start starts the workflow of campaign in.CampaignID. A running campaign
// is attached to and a finished one runs again (cheaply: every finished
// unit is a cache hit) — unless exclusive (a rerun), when a running
// campaign is an error saying to wait for it.
func Start(ctx context.Context, c client.Client, in CampaignInput, exclusive bool) (client.WorkflowRun, error) {
	id := in.CampaignID
	opts := client.StartWorkflowOptions{
		ID:                       WorkflowID(id),
		TaskQueue:                TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
	}
	if exclusive {
		opts.WorkflowIDConflictPolicy = enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL
		opts.WorkflowExecutionErrorWhenAlreadyStarted = true // else the SDK returns the running one
	}
	run, err := c.ExecuteWorkflow(ctx, opts, CampaignWorkflowName, in)
	var running *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &running) {
		return nil, fmt.Errorf("campaign %s is running (workflow %s): wait for it to finish (`rulescape status %s`), then rerun", id, WorkflowID(id), id)
	}
	if err != nil {
		return nil, fmt.Errorf("starting campaign %s: %w", id, err)
	}
	return run, nil
}

// QueryProgress asks run rid ("" for the latest) of a campaign workflow
// for its progress.
func QueryProgress(ctx context.Context, c client.Client, workflowID, rid string) (Progress, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, workflowID, rid, ProgressQuery)
	if err != nil {
		return Progress{}, err
	}
	var p Progress
	err = v.Get(&p)
	return p, err
}

// FinalProgress is QueryProgress for a run that has ended: an ended
// workflow is queried by replaying it on a worker, and the worker may be
// gone; a completed run's result holds the same progress.
func FinalProgress(ctx context.Context, c client.Client, workflowID, rid string) (Progress, error) {
	p, err := QueryProgress(ctx, c, workflowID, rid)
	if err == nil {
		return p, nil
	}
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var res CampaignResult
	if c.GetWorkflow(gctx, workflowID, rid).Get(gctx, &res) != nil {
		return p, err
	}
	return res.Progress, nil
}

// MetaoptIterations sums the iterations of the running metaopt jobs of
// run rid: those their MetaoptJob children report to the progress query
// (MetaoptJobs), or, in runs recorded before the children, those the
// Metaopt activities reported in their last heartbeats; ok is false when
// no job reported. Finished jobs are not counted.
func MetaoptIterations(ctx context.Context, c client.Client, workflowID, rid string) (n int, ok bool) {
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(qctx, workflowID, rid)
	if err != nil {
		return 0, false
	}
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetActivityType().GetName() != activities.MetaoptName || pa.GetHeartbeatDetails() == nil {
			continue
		}
		var hb activities.MetaoptHeartbeat
		if converter.GetDefaultDataConverter().FromPayloads(pa.GetHeartbeatDetails(), &hb) == nil {
			n, ok = n+hb.Iter, true
		}
	}
	for _, j := range MetaoptJobs(ctx, c, workflowID, rid) {
		n, ok = n+j.Iter, true
	}
	return n, ok
}

// FailureMessage returns the message of the workflow's own error (e.g.
// "train/dnms/miconi/seed=3 failed: …"), without the SDK's wrapping.
func FailureMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// Execution is the latest run of a campaign's workflow.
type Execution struct {
	Campaign, WorkflowID, RunID string
	Running                     bool
	status                      enumspb.WorkflowExecutionStatus
}

// Describe returns run rid ("" for the latest) of campaign id's workflow;
// a campaign that never ran is an error that says how to start it.
func Describe(ctx context.Context, c client.Client, id, rid, namespace string) (Execution, error) {
	wid := WorkflowID(id)
	desc, err := c.DescribeWorkflowExecution(ctx, wid, rid)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return Execution{}, fmt.Errorf("no campaign %s in namespace %s — start it with `rulescape run FILE`", id, namespace)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("describing %s: %w", wid, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	return Execution{Campaign: id, WorkflowID: wid, RunID: info.GetExecution().GetRunId(), status: info.GetStatus(),
		Running: info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING}, nil
}

// Status returns the progress of run e: the progress query of a running
// one, the result of a completed one, else the workflow's status (e.g.
// "terminated") and error.
func (e Execution) Status(ctx context.Context, c client.Client) (Progress, error) {
	switch e.status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		p, err := QueryProgress(ctx, c, e.WorkflowID, e.RunID)
		if err != nil {
			return p, fmt.Errorf("campaign %s is running but no worker answered the progress query (%v) — start `rulescape worker` or run the campaign again", e.Campaign, err)
		}
		return p, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		var res CampaignResult
		err := c.GetWorkflow(ctx, e.WorkflowID, e.RunID).Get(ctx, &res)
		return res.Progress, err
	}
	p := Progress{Campaign: e.Campaign, Status: statusName(e.status)}
	if err := c.GetWorkflow(ctx, e.WorkflowID, e.RunID).Get(ctx, nil); err != nil {
		p.Error = err.Error()
	}
	return p, nil
}

// statusName is the lower-case name of a workflow status, e.g. "failed".
func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return StatusFailed
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return StatusCanceled
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued as new"
	}
	return s.String()
}

// ErrNoWorkflow is matched (errors.Is) by StartedInput's error for a
// campaign that has no workflow.
var ErrNoWorkflow = errors.New("workflows: no campaign workflow")

// ErrLegacy is matched (errors.Is) by StartedInput's error for a campaign
// of ID v1, whose workflow (LegacyCampaignWorkflowName) stored no plan.
var ErrLegacy = errors.New("campaign of ID v1")

// StartedInput returns the input the latest run of campaign id's workflow
// started with (it names the stored plan).
func StartedInput(ctx context.Context, c client.Client, id string) (CampaignInput, error) {
	iter := c.GetWorkflowHistory(ctx, WorkflowID(id), "", false, 0)
	if !iter.HasNext() {
		return CampaignInput{}, ErrNoWorkflow
	}
	ev, err := iter.Next()
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return CampaignInput{}, ErrNoWorkflow
	case err != nil:
		return CampaignInput{}, fmt.Errorf("reading the history of campaign %s: %w", id, err)
	}
	a := ev.GetWorkflowExecutionStartedEventAttributes()
	if a == nil {
		return CampaignInput{}, ErrNoWorkflow
	}
	if name := a.GetWorkflowType().GetName(); name != CampaignWorkflowName {
		return CampaignInput{}, fmt.Errorf("%w: campaign %s runs workflow %s, from a version of rulescape before stored plans: run its campaign file again", ErrLegacy, id, name)
	}
	var in CampaignInput
	if err := converter.GetDefaultDataConverter().FromPayloads(a.GetInput(), &in); err != nil {
		return CampaignInput{}, fmt.Errorf("decoding the input of campaign %s: %w", id, err)
	}
	return in, nil
}

// StoredPlan returns the plan campaign id ran: the one its manifest names
// or, for a campaign without a manifest yet, the one its workflow's input
// names. A campaign of ID v1 (no stored plan) is an error matching
// ErrLegacy that says to run its file again.
func StoredPlan(ctx context.Context, c client.Client, st *store.Store, id string) (*pipelines.Plan, error) {
	var ref activities.PlanRef
	m, err := manifest.Read(ctx, st, id)
	switch {
	case err == nil && m.Plan == nil:
		file := cmp.Or(m.File, "FILE")
		return nil, fmt.Errorf("%w: campaign %s was run by a version of rulescape before stored plans (campaign ID v1): "+
			"its datasets and report stay readable; to rerun or explain it, run its campaign file again (`rulescape run %s`), which plans it as a new campaign",
			ErrLegacy, id, file)
	case err == nil:
		ref = *m.Plan
	default:
		in, ierr := StartedInput(ctx, c, id)
		if errors.Is(ierr, ErrNoWorkflow) {
			return nil, err // the manifest's error: no such campaign
		} else if ierr != nil {
			return nil, ierr
		}
		ref = in.Plan
	}
	data, err := st.Get(ctx, ref.Key)
	if err != nil {
		return nil, fmt.Errorf("reading the plan of campaign %s (%s): %w", id, ref.Key, err)
	}
	return pipelines.DecodePlan(data, ref.SHA256)
}

// RerunStages splits the plan's stages into those a rerun of stage
// recomputes (stage and every stage that depends on it, transitively: what
// CampaignInput.Force lists) and those that stay cached, both in plan
// order.
func RerunStages(plan *pipelines.Plan, stage pipelines.StageName) (force, cached []pipelines.Stage, err error) {
	var names []string
	for _, s := range plan.Stages {
		names = append(names, string(s.Name))
	}
	if !slices.Contains(names, string(stage)) {
		return nil, nil, fmt.Errorf("--stage %s: campaign %s has no such stage — its stages are %s", stage, plan.Name, strings.Join(names, ", "))
	}
	forced := map[pipelines.StageName]bool{stage: true}
	// Plan.Stages is in dependency order, so one pass sees every stage
	// after the stages it depends on.
	for _, s := range plan.Stages {
		for _, dep := range s.After {
			forced[s.Name] = forced[s.Name] || forced[dep]
		}
		if forced[s.Name] {
			force = append(force, s)
		} else {
			cached = append(cached, s)
		}
	}
	return force, cached, nil
}
