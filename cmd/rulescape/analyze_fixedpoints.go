package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rulescape/pipelines"
	"rulescape/stages"
)

func newAnalyzeFixedPoints(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.DefaultStages().FixedPoints
	st.Enabled = true
	cmd := &cobra.Command{
		Use:     "fixedpoints --network REF",
		Short:   "Fixed and slow points of one network under each of its task's constant inputs",
		Long:    help("analyze_fixedpoints.long"),
		Example: help("analyze_fixedpoints.example"),
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.analyzeFixedPoints(cmd.Context(), sel, st) },
	}
	f := cmd.Flags()
	sel.addFlags(f, false)
	addFixedPointFlags(f, &st)
	f.SortFlags = false
	return cmd
}

// addFixedPointFlags adds the fixedpoints stage's settings to f, with
// their values as defaults (also used by analyze landscape, which
// searches the fixed points first).
func addFixedPointFlags(f *pflag.FlagSet, st *pipelines.FixedPointsStage) {
	f.IntVar(&st.Inits, "inits", st.Inits, "initial states per input")
	f.IntVar(&st.MaxIters, "max-iters", st.MaxIters, "optimizer iterations per search")
	f.Float64Var(&st.Tol, "tol", st.Tol, "speed q below which a point is fixed")
	f.IntVar(&st.Deflation, "deflation", st.Deflation, "rounds of deflated searches after the plain descents (0 = off)")
	st.DeflationPower, st.DeflationShift = pipelines.DefaultDeflationPower, pipelines.DefaultDeflationShift
	f.Float64Var(&st.DeflationPower, "deflation-power", st.DeflationPower, "power p of the deflation operator")
	f.Float64Var(&st.DeflationShift, "deflation-shift", st.DeflationShift, "shift σ of the deflation operator")
}

// fixedPointsJSON is what `analyze fixedpoints -o json` prints.
type fixedPointsJSON struct {
	Network  stages.NetworkInfo         `json:"network"`
	Settings pipelines.FixedPointsStage `json:"settings"`
	stages.FixedPointsSummary
	Out string `json:"out,omitempty"`
}

func (a *app) analyzeFixedPoints(ctx context.Context, sel *selection, st pipelines.FixedPointsStage) error {
	nets, c, err := a.loadNetworks(ctx, sel, withinLimits(st.Validate(), pipelines.Stages{FixedPoints: st}))
	if err != nil {
		return err
	}
	defer c.close()
	st = st.Normalized()
	if err := fixedPointsMemory(nets[:1], st, sel.workers); err != nil {
		return err
	}
	n := nets[0]
	rows, err := stages.FixedPoints(ctx, n.Campaign, n.Network, st, sel.workers)
	if err != nil {
		return fmt.Errorf("fixed points of %s: %w", n.Unit.ID, err)
	}
	meta, err := stages.AnalysisMeta(pipelines.StageFixedPoints, st, nets, engineVersion)
	if err == nil {
		err = writeRowsFile(sel.out, "--out", meta, rows)
	}
	if err != nil {
		return err
	}
	out := fixedPointsJSON{Network: n.Info(), Settings: st, FixedPointsSummary: stages.SummarizeFixedPoints(n.Network, rows), Out: sel.out}
	return a.printer().Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "fixed points of %s\n", n.Title())
		fmt.Fprintf(w, "%d initial states per input, at most %d iterations, fixed below q = %g", st.Inits, st.MaxIters, st.Tol)
		if st.Deflation > 0 {
			fmt.Fprintf(w, ", up to %d rounds of deflation", st.Deflation)
		}
		fmt.Fprintf(w, "\n\n%-16s %6s %6s %6s %6s %7s %6s  %s\n", "INPUT", "FIXED", "SLOW", "ONCE", "TWICE", "CHAO1", "DEFL", "FIXED POINTS BY TYPE")
		for _, s := range out.Inputs {
			fmt.Fprintf(w, "%-16s %6d %6d %6d %6d %7.1f %6d  %s\n", s.Input, s.Fixed, s.Slow, s.F1, s.F2, s.Chao1, s.Deflated, s.Types())
		}
		fmt.Fprintf(w, "\nONCE, TWICE: fixed points found by exactly one or two of the plain descents; CHAO1 estimates how many\n"+
			"they reach (= FIXED − DEFL when none was found once); DEFL: found only by deflation.\n")
		if sel.out != "" {
			fmt.Fprintf(w, "\n%s", written(len(rows), "fixed_points", sel.out))
		}
	})
}
