package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"rulescape/internal/follow"
	"rulescape/pipelines"
	"rulescape/workflows"
)

func init() { register(newStatusCmd) }

func newStatusCmd(a *app) *cobra.Command {
	var watch bool
	cmd := &cobra.Command{
		Use:     "status CAMPAIGN",
		Short:   "Show the progress of a campaign",
		Long:    help("status.long"),
		Example: help("status.example"),
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
	// Metaopt is the progress of the running metaopt jobs (iteration, J,
	// held-out J), from their MetaoptJob workflows.
	Metaopt []workflows.MetaoptJobProgress `json:"metaopt,omitempty"`
}

func (a *app) status(ctx context.Context, arg string, watch bool) error {
	s, e, err := a.describeCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer s.Close()
	ui, p := a.workflowURL(s, e.WorkflowID), a.printer()
	watched := watch && e.Running
	if watched {
		if _, err := e.Status(ctx, s.Client); err != nil { // no worker answers
			return err
		}
		p.Textf("campaign %s (%s): running\n", e.Campaign, e.WorkflowID)
		if ui != "" {
			p.Textf("Temporal Web UI: %s\n", ui)
		}
		// Follow the run that is running now until it ends.
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = s.Client.GetWorkflow(ctx, e.WorkflowID, e.RunID).Get(ctx, nil)
		}()
		a.follower(s, e.Campaign, e.WorkflowID, e.RunID, ui, a.stdout).Follow(ctx, done)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if e, err = workflows.Describe(ctx, s.Client, e.Campaign, e.RunID, s.Namespace); err != nil {
			return err
		}
	}
	prog, err := e.Status(ctx, s.Client)
	if err != nil {
		return err
	}
	out := statusJSON{Type: "status", Campaign: e.Campaign, Workflow: e.WorkflowID, Status: prog.Status,
		Stages: append([]workflows.StageProgress{}, prog.Stages...), Error: prog.Error, UIURL: ui}
	if e.Running {
		out.Metaopt = workflows.MetaoptJobs(ctx, s.Client, e.WorkflowID, "")
	}
	return p.Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "campaign %s (%s): %s\n", out.Campaign, out.Workflow, out.Status)
		if !watched { // else the bars showed the stages: say how it ended
			if ui != "" {
				fmt.Fprintf(w, "Temporal Web UI: %s\n", ui)
			}
			for _, st := range out.Stages {
				line := follow.StageLine(st, time.Now())
				if st.Name == string(pipelines.StageMetaopt) && st.Status == workflows.StatusRunning {
					if it, ok := workflows.MetaoptIterations(ctx, s.Client, e.WorkflowID, ""); ok {
						line += fmt.Sprintf("  iterations %d", it)
					}
				}
				fmt.Fprintln(w, "  "+line)
				if st.Name == string(pipelines.StageMetaopt) {
					for _, j := range out.Metaopt {
						fmt.Fprintln(w, "    "+j.Line())
					}
				}
			}
		}
		if out.Error != "" {
			fmt.Fprintln(w, "error: "+out.Error)
		}
	})
}
