package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/workflows"
)

func init() { register(newRerunCmd) }

var rerunLong = help("rerun.long")

func newRerunCmd(a *app) *cobra.Command {
	var (
		stage, mode string
		dryRun      bool
	)
	cmd := &cobra.Command{
		Use:     "rerun CAMPAIGN --stage STAGE",
		Short:   "Recompute a stage of a campaign and everything downstream",
		Long:    rerunLong,
		Example: help("rerun.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if stage == "" {
				return fmt.Errorf("rerun: --stage is required (the stage to recompute, e.g. train)")
			}
			return a.rerun(cmd.Context(), args[0], pipelines.StageName(stage), dryRun, mode)
		},
	}
	cmd.Flags().StringVar(&stage, "stage", "", "stage to recompute, with everything downstream (e.g. metaopt, train)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be recomputed and what stays cached; start nothing")
	cmd.Flags().StringVar(&mode, "progress", "auto", progressFlagUsage)
	return cmd
}

// stageUnits is one stage of `rerun --dry-run -o json`.
type stageUnits struct {
	Stage string `json:"stage"`
	Units int    `json:"units"`
}

// rerunPlanJSON is the object `rerun --dry-run -o json` prints.
type rerunPlanJSON struct {
	Campaign  string       `json:"campaign"`
	Stage     string       `json:"stage"`
	DryRun    bool         `json:"dry_run"`
	Recompute []stageUnits `json:"recompute"`
	Cached    []stageUnits `json:"cached"`
}

func (a *app) rerun(ctx context.Context, arg string, stage pipelines.StageName, dryRun bool, mode string) error {
	showProgress, err := a.campaignProgress(mode)
	if err != nil {
		return err
	}
	ca, err := parseCampaignArg(arg)
	if err != nil {
		return err
	}
	var s *services
	if ca.spec == nil || !dryRun { // a dry run of a file needs no service
		if s, err = a.connect(ctx); err != nil {
			return err
		}
		defer s.Close()
	}
	plan, err := ca.plan(ctx, s)
	if err != nil {
		return err
	}
	force, cached, err := workflows.RerunStages(plan, stage)
	if err != nil {
		return err
	}
	if dryRun {
		return a.printRerunPlan(plan, stage, force, cached)
	}
	names := make([]pipelines.StageName, len(force))
	for i, st := range force {
		names[i] = st.Name
	}
	return a.execCampaign(ctx, s, plan, plan.File, showProgress, names, false)
}

func (a *app) printRerunPlan(c *pipelines.Plan, stage pipelines.StageName, force, cached []pipelines.Stage) error {
	units := func(ss []pipelines.Stage) []stageUnits {
		r := []stageUnits{}
		for _, s := range ss {
			r = append(r, stageUnits{Stage: string(s.Name), Units: len(s.Units)})
		}
		return r
	}
	out := rerunPlanJSON{Campaign: c.CampaignID, Stage: string(stage), DryRun: true, Recompute: units(force), Cached: units(cached)}
	return a.printer().Print(out, func(w io.Writer) {
		list := func(us []stageUnits) {
			if len(us) == 0 {
				fmt.Fprintln(w, "  (none)")
			}
			for _, u := range us {
				fmt.Fprintf(w, "  %-12s %4d units\n", u.Stage, u.Units)
			}
		}
		fmt.Fprintf(w, "campaign %s (%s): rerun --stage %s would recompute\n", c.Name, out.Campaign, stage)
		list(out.Recompute)
		fmt.Fprintln(w, "and keep cached")
		list(out.Cached)
		fmt.Fprintln(w, "(dry run: nothing started)")
	})
}
