package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/temporal"
)

func init() { register(newCancelCmd) }

func newCancelCmd(a *app) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:     "cancel CAMPAIGN",
		Short:   "Stop a running campaign; what it committed stays, and run starts it again",
		Long:    help("cancel.long"),
		Example: help("cancel.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.cancel(cmd.Context(), args[0], wait)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", time.Minute, "how long to wait for the campaign to stop (0: do not wait)")
	cmd.PreRunE = func(*cobra.Command, []string) error {
		if wait < 0 {
			return fmt.Errorf("--wait %v: want 0 (do not wait) or a positive duration", wait)
		}
		return nil
	}
	return cmd
}

// cancelJSON is the object `cancel -o json` prints.
type cancelJSON struct {
	Type     string `json:"type"` // "cancel"
	Campaign string `json:"campaign"`
	Workflow string `json:"workflow"`
	// Status is "canceled" once the campaign has stopped, else
	// "cancel_requested" (no worker ran its workflow within --wait).
	Status string `json:"status"`
}

func (a *app) cancel(ctx context.Context, arg string, wait time.Duration) error {
	s, e, err := a.describeCampaign(ctx, arg)
	if err != nil {
		return err
	}
	defer s.Close()
	if !e.Running {
		p, _ := e.Status(ctx, s.Client)
		return fmt.Errorf("campaign %s is not running (%s): nothing to cancel", e.Campaign, p.Status)
	}
	if err := s.Client.CancelWorkflow(ctx, e.WorkflowID, e.RunID); err != nil {
		return fmt.Errorf("cancelling campaign %s (%s): %w", e.Campaign, e.WorkflowID, err)
	}
	out := cancelJSON{Type: "cancel", Campaign: e.Campaign, Workflow: e.WorkflowID, Status: "cancel_requested"}
	if wait > 0 {
		// The campaign stops once a worker runs its workflow: its units'
		// activities are cancelled and it ends as canceled.
		wctx, stop := context.WithTimeout(ctx, wait)
		err := s.Client.GetWorkflow(wctx, e.WorkflowID, e.RunID).Get(wctx, nil)
		stop()
		var canceled *temporal.CanceledError
		switch {
		case errors.As(err, &canceled):
			out.Status = "canceled"
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(wctx.Err(), context.DeadlineExceeded):
		case err == nil:
			return fmt.Errorf("campaign %s completed before the cancellation reached it", e.Campaign)
		default:
			return fmt.Errorf("campaign %s: %w", e.Campaign, err)
		}
	}
	return a.printer().Print(out, func(w io.Writer) {
		if out.Status == "canceled" {
			fmt.Fprintf(w, "campaign %s canceled; what it committed stays: `rulescape run FILE` starts it again, computing only the rest\n", e.Campaign)
			return
		}
		fmt.Fprintf(w, "campaign %s: cancellation requested; it stops when a worker next runs its workflow (`rulescape run FILE` or `rulescape worker`); `rulescape status %s` shows it\n", e.Campaign, e.Campaign)
	})
}
