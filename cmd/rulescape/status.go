package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"rulescape/pipelines"
	"rulescape/workflows"
)

func init() { register(newStatusCmd) }

func newStatusCmd(a *app) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:   "status CAMPAIGN",
		Short: "Show the progress of a campaign",
		Long: `Show the progress of a campaign, given its ID (as ` + "`rulescape run`" + ` prints it) or
its pipeline file: per stage a bar of the units done, cache hits, rate and
the ETA of the workflow's progress query, and the Temporal Web UI page of
the workflow when a UI is known (TEMPORAL_UI_URL, or the UI of
` + "`rulescape dev`" + `). A finished campaign is read from its workflow's result; a
running one is queried (a worker must be running: ` + "`rulescape run`" + ` or
` + "`rulescape worker`" + `).

With --watch a running campaign is followed until it finishes: the bars
are redrawn in place, or with -o json one line {"type": "progress", …} is
printed per change (at least every 10 s), then the final status object.`,
		Example: "  rulescape status 3f1c0a9b2d4e5f60\n  rulescape status -o json pipelines/quickstart.yaml\n  rulescape status --watch -o json 3f1c0a9b2d4e5f60 | jq -c '.stages[] | [.name, .done, .total, .eta_seconds]'",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.status(cmd.Context(), args[0], watch)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "follow a running campaign until it finishes (bars, or JSON lines with -o json)")
	return cmd
}

// statusJSON is the object `status -o json` prints.
type statusJSON struct {
	Type     string                    `json:"type"` // "status"
	Campaign string                    `json:"campaign"`
	Workflow string                    `json:"workflow"`
	Status   string                    `json:"status"` // running, completed, failed, terminated, …
	Stages   []workflows.StageProgress `json:"stages"`
	Error    string                    `json:"error,omitempty"`
	UIURL    string                    `json:"ui_url,omitempty"`
}

func (a *app) status(ctx context.Context, arg string, watch bool) error {
	id := arg
	if _, err := os.Stat(arg); err == nil {
		c, _, err := readCampaign(arg)
		if err != nil {
			return err
		}
		id = c.ID()
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer s.close()
	wid := workflows.WorkflowID(id)
	desc, err := s.client.DescribeWorkflowExecution(ctx, wid, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("no campaign %s in namespace %s — start it with `rulescape run FILE`", id, s.namespace)
	}
	if err != nil {
		return fmt.Errorf("describing %s: %w", wid, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	ui := a.workflowURL(s, wid)
	if watch && info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if _, err := queryProgress(ctx, s.client, wid, ""); err != nil {
			return fmt.Errorf("campaign %s is running but no worker answered the progress query (%v) — start `rulescape worker` or run the campaign again", id, err)
		}
		if a.output == "text" {
			fmt.Fprintf(a.stdout, "campaign %s (%s): running\n", id, wid)
			if ui != "" {
				fmt.Fprintf(a.stdout, "Temporal Web UI: %s\n", ui)
			}
		}
		// Follow the run that is running now until it ends.
		rid := info.GetExecution().GetRunId()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.client.GetWorkflow(ctx, wid, rid).Get(ctx, nil)
		}()
		f := newFollower(s.client, a.stdout, a.output == "json", id, wid, rid, 0, 0, ui)
		f.follow(ctx, done)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if desc, err = s.client.DescribeWorkflowExecution(ctx, wid, rid); err != nil {
			return fmt.Errorf("describing %s: %w", wid, err)
		}
		info = desc.GetWorkflowExecutionInfo()
		if a.output == "text" {
			// The bars showed the stages; say how it ended.
			out, err := a.statusOf(ctx, s, id, wid, info.GetExecution().GetRunId(), info.GetStatus())
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "campaign %s (%s): %s\n", id, wid, out.Status)
			if out.Error != "" {
				fmt.Fprintln(a.stdout, "error: "+out.Error)
			}
			return nil
		}
	}
	out, err := a.statusOf(ctx, s, id, wid, info.GetExecution().GetRunId(), info.GetStatus())
	if err != nil {
		return err
	}
	out.UIURL = ui
	if p := a.printer(); p.JSON() {
		return p.Print(out, nil)
	}
	w := a.stdout
	fmt.Fprintf(w, "campaign %s (%s): %s\n", id, wid, out.Status)
	if ui != "" {
		fmt.Fprintf(w, "Temporal Web UI: %s\n", ui)
	}
	now := time.Now()
	for _, st := range out.Stages {
		line := stageLine(st, now)
		if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning {
			if it, ok := metaoptIterations(ctx, s.client, wid, ""); ok {
				line += fmt.Sprintf("  iterations %d", it)
			}
		}
		fmt.Fprintln(w, "  "+line)
	}
	if out.Error != "" {
		fmt.Fprintln(w, "error: "+out.Error)
	}
	return nil
}

// statusOf reads the status of run rid of workflow wid: the progress query
// of a running one, the result of a completed one, the error otherwise.
func (a *app) statusOf(ctx context.Context, s *services, id, wid, rid string, status enumspb.WorkflowExecutionStatus) (statusJSON, error) {
	out := statusJSON{Type: "status", Campaign: id, Workflow: wid, Stages: []workflows.StageProgress{}}
	switch status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		p, err := queryProgress(ctx, s.client, wid, rid)
		if err != nil {
			return out, fmt.Errorf("campaign %s is running but no worker answered the progress query (%v) — start `rulescape worker` or run the campaign again", id, err)
		}
		out.Status, out.Stages, out.Error = p.Status, p.Stages, p.Error
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		var res workflows.CampaignResult
		if err := s.client.GetWorkflow(ctx, wid, rid).Get(ctx, &res); err != nil {
			return out, err
		}
		out.Status, out.Stages = res.Status, res.Stages
	default:
		out.Status = statusName(status)
		if err := s.client.GetWorkflow(ctx, wid, rid).Get(ctx, nil); err != nil {
			out.Error = err.Error()
		}
	}
	return out, nil
}

// statusName is the lower-case name of a workflow status, e.g. "failed".
func statusName(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return workflows.StatusFailed
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued as new"
	}
	return s.String()
}
