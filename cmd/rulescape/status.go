package main

import (
	"context"
	"encoding/json"
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
	return &cobra.Command{
		Use:   "status CAMPAIGN",
		Short: "Show the progress of a campaign",
		Long: `Show the progress of a campaign, given its ID (as ` + "`rulescape run`" + ` prints it) or
its pipeline file: per stage the units done, cache hits, wall time and ETA.
A finished campaign is read from its workflow's result; a running one is
queried (a worker must be running: ` + "`rulescape run`" + ` or ` + "`rulescape worker`" + `).`,
		Example: "  rulescape status 3f1c0a9b2d4e5f60\n  rulescape status -o json pipelines/quickstart.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.status(cmd.Context(), args[0])
		},
	}
}

// statusJSON is the object `status -o json` prints.
type statusJSON struct {
	Campaign string                    `json:"campaign"`
	Workflow string                    `json:"workflow"`
	Status   string                    `json:"status"` // running, completed, failed, terminated, …
	Stages   []workflows.StageProgress `json:"stages"`
	Error    string                    `json:"error,omitempty"`
}

func (a *app) status(ctx context.Context, arg string) error {
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
	out := statusJSON{Campaign: id, Workflow: wid}
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		p, err := queryProgress(ctx, s.client, wid, "")
		if err != nil {
			return fmt.Errorf("campaign %s is running but no worker answered the progress query (%v) — start `rulescape worker` or run the campaign again", id, err)
		}
		out.Status, out.Stages, out.Error = p.Status, p.Stages, p.Error
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		var res workflows.CampaignResult
		if err := s.client.GetWorkflow(ctx, wid, info.GetExecution().GetRunId()).Get(ctx, &res); err != nil {
			return err
		}
		out.Status, out.Stages = res.Status, res.Stages
	default:
		out.Status = statusName(info.GetStatus())
		err := s.client.GetWorkflow(ctx, wid, info.GetExecution().GetRunId()).Get(ctx, nil)
		if err != nil {
			out.Error = err.Error()
		}
	}
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	w := a.stdout
	fmt.Fprintf(w, "campaign %s (%s): %s\n", id, wid, out.Status)
	for _, st := range out.Stages {
		line := stageLine(st)
		if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning {
			if it, ok := metaoptIterations(ctx, s.client, wid, ""); ok {
				line += fmt.Sprintf("  iterations %d", it)
			}
		}
		if st.Status == workflows.StatusRunning && st.EtaSeconds != nil {
			line += fmt.Sprintf("  (workflow ETA %s)", time.Duration(*st.EtaSeconds*float64(time.Second)).Round(time.Second))
		}
		fmt.Fprintln(w, "  "+line)
	}
	if out.Error != "" {
		fmt.Fprintln(w, "error: "+out.Error)
	}
	return nil
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
