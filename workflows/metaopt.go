package workflows

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"rulescape/activities"
	"rulescape/pipelines"
)

// MetaoptJobWorkflowName is the registered name of MetaoptJobWorkflow.
const MetaoptJobWorkflowName = "MetaoptJob"

// metaoptChildChange is the workflow.GetVersion change ID under which the
// campaign runs its metaopt jobs as MetaoptJob children; histories
// recorded before it run each job as one Metaopt activity.
const metaoptChildChange = "metaopt-job-child"

// MetaoptContinueEvery is the default MetaoptJobInput.ContinueEvery.
const MetaoptContinueEvery = 100

// metaoptMaxHistory is the history length (events) past which a MetaoptJob
// continues as new before its next iteration, whatever ContinueEvery says:
// below Temporal's 10 240-event warning with an iteration's worth of room.
const metaoptMaxHistory = 8000

// metaoptMaxGroups bounds the eval activities of one iteration, and
// metaoptGroupTarget is the compute time a group aims at.
const (
	metaoptMaxGroups   = 64
	metaoptGroupTarget = 20 * time.Second
)

// MetaoptJobInput runs the metaopt job of one unit of a campaign's plan.
type MetaoptJobInput struct {
	Unit             activities.UnitInput `json:"unit"`
	HeartbeatTimeout time.Duration        `json:"heartbeat_timeout,omitempty"`
	// Group is the number of learner-runs per eval activity; 0 sizes the
	// groups from the measured time per run (about 20 s of compute each,
	// at most 64 groups an iteration).
	Group int `json:"group,omitempty"`
	// ContinueEvery is the number of iterations after which the workflow
	// continues as new, bounding its history; 0 means MetaoptContinueEvery.
	ContinueEvery int `json:"continue_every,omitempty"`

	// Set when the workflow continues as new: the job it started, the
	// measured compute time per learner-run so far (s; 0 unknown), and
	// the progress the query reports.
	Job           *activities.MetaoptJobRef `json:"job,omitempty"`
	SecondsPerRun float64                   `json:"seconds_per_run,omitempty"`
	Progress      *MetaoptJobProgress       `json:"progress,omitempty"`
}

// MetaoptJobProgress is what the progress query of a MetaoptJob workflow
// returns.
type MetaoptJobProgress struct {
	Job      string   `json:"job"`
	Status   string   `json:"status"` // running, completed or failed
	Iter     int      `json:"iter"`   // iterations done
	Iters    int      `json:"iters"`
	J        *float64 `json:"j,omitempty"`          // mean training J of the last iteration
	HeldOutJ *float64 `json:"held_out_j,omitempty"` // the last held-out J
}

// MetaoptJobWorkflowID is the workflow ID of the MetaoptJob child of the
// index-th metaopt unit of the campaign workflow parent.
func MetaoptJobWorkflowID(parent string, index int) string {
	return fmt.Sprintf("%s-metaopt-%d", parent, index)
}

func metaoptActivityOptions(heartbeat time.Duration) workflow.ActivityOptions {
	if heartbeat <= 0 {
		heartbeat = DefaultHeartbeatTimeout
	}
	return workflow.ActivityOptions{StartToCloseTimeout: 12 * time.Hour, HeartbeatTimeout: heartbeat, RetryPolicy: retry(5)}
}

// MetaoptJobWorkflow runs one metaopt job with its learner-runs spread
// over every worker. MetaoptStart returns a cache hit or makes sure the
// job's checkpoint exists; then per iteration MetaoptAsk stores the
// iteration's batch, MetaoptEval activities (in parallel, on any workers)
// evaluate groups of its requests and store their outcomes, and
// MetaoptTell applies them and writes the next checkpoint; MetaoptFinish
// commits the history and the result. The optimizer's state is only in
// the checkpoint: the workflow passes references and counts, and does
// no arithmetic on Θ. It continues as new every ContinueEvery
// iterations. It returns the unit's output, as the Metaopt activity does.
func MetaoptJobWorkflow(ctx workflow.Context, in MetaoptJobInput) (*activities.UnitOutput, error) {
	prog := MetaoptJobProgress{Status: StatusRunning}
	if in.Progress != nil {
		prog = *in.Progress
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (MetaoptJobProgress, error) {
		return prog, nil
	}); err != nil {
		return nil, err
	}
	actx := workflow.WithActivityOptions(ctx, metaoptActivityOptions(in.HeartbeatTimeout))
	fail := func(err error) error {
		prog.Status = StatusFailed
		return err
	}
	// execute runs an activity, again as a fresh one when its worker
	// stopped (activities.WorkerShutdownType).
	execute := func(name string, arg, out any) error {
		for {
			err := workflow.ExecuteActivity(actx, name, arg).Get(ctx, out)
			if !activities.IsWorkerShutdown(err) {
				return err
			}
		}
	}
	if in.Job == nil {
		var st activities.MetaoptStartOutput
		if err := execute(activities.MetaoptStartName, in.Unit, &st); err != nil {
			return nil, fail(err)
		}
		if st.CacheHit != nil {
			prog.Status, prog.Job = StatusCompleted, st.ID
			return st.CacheHit, nil
		}
		in.Job = &st.Job
		prog.Job, prog.Iter, prog.Iters = st.ID, st.Iter, st.Iters
	}
	every := in.ContinueEvery
	if every <= 0 {
		every = MetaoptContinueEvery
	}
	for done := 0; ; done++ {
		// Every `every` iterations, or sooner when the history nears
		// Temporal's warning size (64 eval groups an iteration make ~200
		// events), the job continues as new with its progress.
		if done == every || workflow.GetInfo(ctx).GetCurrentHistoryLength() > metaoptMaxHistory {
			next := in
			next.Unit.Force = false // forced once, at the start
			next.Progress = &prog
			return nil, workflow.NewContinueAsNewError(ctx, MetaoptJobWorkflowName, next)
		}
		start := workflow.Now(ctx)
		var ask activities.MetaoptAskOutput
		if err := execute(activities.MetaoptAskName, *in.Job, &ask); err != nil {
			return nil, fail(err)
		}
		if ask.Done {
			break
		}
		group := in.groupSize(ask.Requests)
		futs := map[int]workflow.Future{}
		sel := workflow.NewSelector(ctx)
		var evalErr error
		var seconds float64
		var add func(from int)
		add = func(from int) {
			eval := activities.MetaoptEvalInput{Job: *in.Job, Iter: ask.Iter, From: from, To: min(from+group, ask.Requests)}
			f := workflow.ExecuteActivity(actx, activities.MetaoptEvalName, eval)
			futs[from] = f
			sel.AddFuture(f, func(f workflow.Future) {
				var out activities.MetaoptEvalOutput
				err := f.Get(ctx, &out)
				if activities.IsWorkerShutdown(err) {
					add(from) // its worker stopped: the group again, as a fresh activity
					return
				}
				delete(futs, from)
				if err != nil && evalErr == nil {
					evalErr = err
				}
				seconds += out.Seconds
			})
		}
		for from := 0; from < ask.Requests; from += group {
			add(from)
		}
		for len(futs) > 0 {
			sel.Select(ctx)
		}
		if evalErr != nil {
			return nil, fail(unitError(prog.Job, evalErr))
		}
		if seconds > 0 {
			in.SecondsPerRun = seconds / float64(ask.Requests)
		}
		var sum activities.MetaoptSummary
		wall := workflow.Now(ctx).Sub(start).Seconds()
		if err := execute(activities.MetaoptTellName, activities.MetaoptTellInput{Job: *in.Job, Iter: ask.Iter,
			Requests: ask.Requests, Group: group, WallSeconds: wall}, &sum); err != nil {
			return nil, fail(err)
		}
		prog.Iter = sum.Iter
		j := sum.J
		if !ask.HeldOutOnly {
			prog.J = &j
		}
		if sum.HeldOutJ != nil {
			h := *sum.HeldOutJ
			prog.HeldOutJ = &h
		}
	}
	var out activities.UnitOutput
	if err := execute(activities.MetaoptFinishName, *in.Job, &out); err != nil {
		return nil, fail(err)
	}
	prog.Status = StatusCompleted
	return &out, nil
}

// groupSize is the number of learner-runs per eval activity of a batch of
// n requests: Group if set, else about metaoptGroupTarget of compute at
// the measured time per run (1 before any was measured), and at least
// n/metaoptMaxGroups.
func (in *MetaoptJobInput) groupSize(n int) int {
	g := in.Group
	if g <= 0 {
		g = 1
		if in.SecondsPerRun > 0 {
			g = int(math.Ceil(metaoptGroupTarget.Seconds() / in.SecondsPerRun))
		}
		g = max(g, (n+metaoptMaxGroups-1)/metaoptMaxGroups)
	}
	return max(1, min(g, n))
}

// runMetaoptStage runs the campaign's n metaopt jobs: each as a
// MetaoptJob child workflow, at most maxPar at once; in histories
// recorded before that change, each as one Metaopt activity.
func (c *campaign) runMetaoptStage(ctx workflow.Context, n int) error {
	if workflow.GetVersion(ctx, metaoptChildChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return c.runStage(ctx, pipelines.StageMetaopt, 0, n)
	}
	parent := workflow.GetInfo(ctx).WorkflowExecution.ID
	return c.fanOut(ctx, pipelines.StageMetaopt, n, func(i int) workflow.Future {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: MetaoptJobWorkflowID(parent, i)})
		return workflow.ExecuteChildWorkflow(cctx, MetaoptJobWorkflowName, MetaoptJobInput{
			Unit: c.unitInput(pipelines.StageMetaopt, i), HeartbeatTimeout: c.in.HeartbeatTimeout, Group: c.in.MetaoptGroup,
		})
	}, func(i int, f workflow.Future) (bool, error) {
		var r activities.UnitOutput
		if err := f.Get(ctx, &r); err != nil {
			return false, unitError(fmt.Sprintf("%s unit %d", pipelines.StageMetaopt, i+1), err)
		}
		if r.Metaopt != nil {
			c.metaopt[r.Unit] = *r.Metaopt
		}
		return r.CacheHit, nil
	})
}

// MetaoptJobs returns the progress of the running MetaoptJob children of
// run rid ("" for the latest) of a campaign workflow, from their progress
// queries; jobs that do not answer within a second or two are left out.
func MetaoptJobs(ctx context.Context, c client.Client, workflowID, rid string) []MetaoptJobProgress {
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	desc, err := c.DescribeWorkflowExecution(qctx, workflowID, rid)
	if err != nil {
		return nil
	}
	var out []MetaoptJobProgress
	for _, ch := range desc.GetPendingChildren() {
		if ch.GetWorkflowTypeName() != MetaoptJobWorkflowName {
			continue
		}
		// The latest run: the job continues as new every few iterations.
		v, err := c.QueryWorkflow(qctx, ch.GetWorkflowId(), "", ProgressQuery)
		if err != nil {
			continue
		}
		var p MetaoptJobProgress
		if v.Get(&p) == nil && p.Job != "" {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job < out[j].Job })
	return out
}

// Line is the job's progress in one line: "metaopt/r: iteration 12/100,
// J 0.53, held-out J 0.51".
func (p MetaoptJobProgress) Line() string {
	s := fmt.Sprintf("%s: iteration %d/%d", p.Job, p.Iter, p.Iters)
	if p.J != nil {
		s += fmt.Sprintf(", J %.4g", *p.J)
	}
	if p.HeldOutJ != nil {
		s += fmt.Sprintf(", held-out J %.4g", *p.HeldOutJ)
	}
	return s
}
