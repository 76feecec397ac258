package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/stages"
	"rulescape/store"
)

func init() { register(newExplainCmd) }

var explainLong = help("explain.long")

func newExplainCmd(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "explain FILE|CAMPAIGN",
		Short:   "Say which units a run would compute, and why",
		Long:    explainLong,
		Example: help("explain.example"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.explain(cmd.Context(), args[0], all)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "list every unit to compute (text output lists 10 per stage)")
	return cmd
}

// explainJSON is what `explain -o json` prints.
type explainJSON struct {
	Campaign string               `json:"campaign"`
	Name     string               `json:"name"`
	Summary  map[string]int       `json:"summary"`
	Units    []stages.Explanation `json:"units"`
}

// explain explains a campaign file or ID against the store.
func (a *app) explain(ctx context.Context, arg string, all bool) error {
	ca, err := parseCampaignArg(arg)
	if err != nil {
		return err
	}
	s, err := a.connect(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	plan, err := ca.plan(ctx, s)
	if err != nil {
		return err
	}
	st, versions := s.Store, a.versions
	if versions == nil {
		versions = stages.Current()
	}
	r := stages.NewResolver(plan, versions, st.Lookup)
	prev := func(ctx context.Context, unit, kind string) (store.Lineage, bool, error) {
		return st.GetLineage(ctx, plan.Name, unit, kind)
	}
	ex, err := stages.Explain(ctx, r, prev, nil)
	if err != nil {
		return fmt.Errorf("explaining campaign %s: %w", plan.CampaignID, err)
	}
	out := explainJSON{Campaign: plan.CampaignID, Name: plan.Name, Units: ex,
		Summary: map[string]int{stages.StatusCached: 0, stages.StatusCompute: 0, stages.StatusPending: 0}}
	for _, e := range ex {
		out.Summary[e.Status]++
	}
	return a.printer().Print(out, func(w io.Writer) { printExplanation(w, plan, out, all) })
}

// explainListed is how many units to compute per stage the text output
// lists without --all.
const explainListed = 10

// printExplanation writes the text form of an explanation.
func printExplanation(w io.Writer, plan *pipelines.Plan, out explainJSON, all bool) {
	fmt.Fprintf(w, "campaign %s (%s): %d units cached, %d to compute, %d pending behind those\n",
		plan.Name, plan.CampaignID, out.Summary[stages.StatusCached], out.Summary[stages.StatusCompute], out.Summary[stages.StatusPending])
	for _, s := range plan.Stages {
		var cached, compute, pending int
		var listed []stages.Explanation
		for _, e := range out.Units {
			if e.Stage != s.Name {
				continue
			}
			switch e.Status {
			case stages.StatusCached:
				cached++
			case stages.StatusCompute:
				compute++
			default:
				pending++
			}
			if e.Status != stages.StatusCached {
				listed = append(listed, e)
			}
		}
		fmt.Fprintf(w, "  %-12s %4d units: %4d cached  %4d to compute  %4d pending\n", s.Name, len(s.Units), cached, compute, pending)
		for i, e := range listed {
			if i == explainListed && !all {
				fmt.Fprintf(w, "      … and %d more (--all, or -o json, lists them)\n", len(listed)-i)
				break
			}
			why := make([]string, len(e.Reasons))
			for j, r := range e.Reasons {
				why[j] = r.String()
			}
			text := strings.Join(why, "; ")
			if text == "" {
				text = "not in the store"
			}
			if e.Previous != "" && e.Previous != plan.CampaignID {
				text += " (compared with campaign " + e.Previous + ")"
			}
			fmt.Fprintf(w, "      %s %s: %s\n", e.Status, e.Unit, text)
		}
	}
}
