package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// landscapeSettings are the settings of `analyze landscape`: the
// fixed-point search it runs first and the landscape stage's.
type landscapeSettings struct {
	FixedPoints pipelines.FixedPointsStage `json:"fixedpoints"`
	Landscape   pipelines.LandscapeStage   `json:"landscape"`
}

// Validate checks the fixed-point search's settings, then the landscape's.
func (s landscapeSettings) Validate() error {
	if err := s.FixedPoints.Validate(); err != nil {
		return err
	}
	return s.Landscape.Validate()
}

func newAnalyzeLandscape(a *app) *cobra.Command {
	sel := &selection{}
	d := pipelines.DefaultStages()
	st := landscapeSettings{FixedPoints: d.FixedPoints, Landscape: d.Landscape}
	st.FixedPoints.Enabled, st.Landscape.Enabled = true, true
	var pairsOut string
	cmd := &cobra.Command{
		Use:     "landscape --network REF [--network REF …]",
		Short:   "Dynamical landscape of one or more networks of one task: fixed points by index, saddle → attractor graph, topology distances",
		Long:    help("analyze_landscape.long"),
		Example: help("analyze_landscape.example"),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.analyzeLandscape(cmd.Context(), sel, st, pairsOut)
		},
	}
	f := cmd.Flags()
	sel.addFlags(f, true)
	addFixedPointFlags(f, &st.FixedPoints)
	f.IntVar(&st.Landscape.PCs, "pcs", st.Landscape.PCs, "principal axes of the trajectories the points are projected on")
	f.IntVar(&st.Landscape.Permutations, "permutations", st.Landscape.Permutations, "permutation-test shuffles (0 = no test)")
	f.IntVar(&st.Landscape.ConnectSteps, "connect-steps", st.Landscape.ConnectSteps, "Euler steps of 0.1 τ following each saddle branch")
	f.StringVar(&pairsOut, "pairs-out", "", "also write the landscape_pairs rows to `FILE` (.parquet or .arrow)")
	f.SortFlags = false
	return cmd
}

// landscapeJSON is what `analyze landscape -o json` prints.
type landscapeJSON struct {
	Networks []stages.NetworkInfo `json:"networks"`
	Settings landscapeSettings    `json:"settings"`
	stages.LandscapeSummary
	Out      string `json:"out,omitempty"`
	PairsOut string `json:"pairs_out,omitempty"`
}

func (a *app) analyzeLandscape(ctx context.Context, sel *selection, st landscapeSettings, pairsOut string) error {
	nets, c, err := a.loadNetworks(ctx, sel, withinLimits(st.Validate(), pipelines.Stages{FixedPoints: st.FixedPoints, Landscape: st.Landscape}),
		[2]string{"--pairs-out", pairsOut})
	if err != nil {
		return err
	}
	defer c.close()
	st.FixedPoints = st.FixedPoints.Normalized()
	if err := fixedPointsMemory(nets, st.FixedPoints, sel.workers); err != nil {
		return err
	}
	task, err := stages.OneTask(nets, "the landscape")
	if err != nil {
		return err
	}
	fps := make([][]schemas.FixedPointRow, len(nets))
	for i, n := range nets {
		if fps[i], err = stages.FixedPoints(ctx, n.Campaign, n.Network, st.FixedPoints, sel.workers); err != nil {
			return fmt.Errorf("fixed points of %s: %w", n.Unit.ID, err)
		}
	}
	res, err := stages.Landscape(ctx, nets[0].Campaign, task, stages.Networks(nets), fps, st.Landscape, sel.workers)
	if err != nil {
		return fmt.Errorf("landscape: %w", err)
	}
	meta, err := stages.AnalysisMeta(pipelines.StageLandscape, st, nets, engineVersion)
	if err == nil {
		err = writeRowsFile(sel.out, "--out", meta, res.Points)
	}
	if err == nil {
		err = writeRowsFile(pairsOut, "--pairs-out", meta, res.Pairs)
	}
	if err != nil {
		return err
	}
	sum, err := stages.SummarizeLandscape(stages.Networks(nets), fps, res)
	if err != nil {
		return err
	}
	out := landscapeJSON{Settings: st, LandscapeSummary: sum, Out: sel.out, PairsOut: pairsOut}
	for _, n := range nets {
		out.Networks = append(out.Networks, n.Info())
	}
	return a.printer().Print(out, func(w io.Writer) {
		fp, l := st.FixedPoints, st.Landscape
		if len(nets) == 1 {
			fmt.Fprintf(w, "dynamical landscape of %s\n", nets[0].Title())
		} else {
			fmt.Fprintf(w, "dynamical landscape of %d networks of task %s\n", len(nets), task)
		}
		fmt.Fprintf(w, "fixed points: %d initial states per input, at most %d iterations, fixed below q = %g\n", fp.Inits, fp.MaxIters, fp.Tol)
		fmt.Fprintf(w, "landscape: %d principal axes, saddle branches followed for at most %d steps of 0.1 τ\n", l.PCs, l.ConnectSteps)
		for i, m := range out.Maps {
			fmt.Fprintln(w)
			if len(nets) > 1 {
				fmt.Fprintf(w, "[%d] %s\n", i, nets[i].Title())
			}
			fmt.Fprintf(w, "explained variance: %s\n", m.ExplainedText())
			fmt.Fprintf(w, "%-16s %-36s %5s  %s\n", "INPUT", "FIXED POINTS BY INDEX", "SLOW", "SADDLE → ATTRACTORS")
			for _, s := range m.Inputs {
				fmt.Fprintf(w, "%-16s %-36s %5d  %s\n", s.Input, s.ByIndexText(), s.Slow, s.ConnectionsText())
			}
		}
		if len(nets) > 1 {
			fmt.Fprintf(w, "\ntopology distance (index + graph, mean over inputs):\n")
			printMatrix(w, out.Distance[stages.MethodTopology])
			tests, sameSeed := testLines(out.Pairs, "between-rule − within-rule distance", "distance")
			fmt.Fprint(w, "\n", tests, sameSeed)
			switch {
			case tests != "":
			case l.Permutations == 0:
				fmt.Fprintln(w, "no permutation test (--permutations 0)")
			default:
				fmt.Fprintln(w, "no permutation test: it needs networks of at least two rules, some rule with two (of different seeds when a seed has two rules)")
			}
		}
		if sel.out != "" || pairsOut != "" {
			fmt.Fprint(w, "\n", written(len(res.Points), "landscape", sel.out), written(len(res.Pairs), "landscape_pairs", pairsOut))
		}
	})
}
