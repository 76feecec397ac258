package main

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

func newAnalyzeSensitivity(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.DefaultStages().Sensitivity
	st.Enabled = true
	cmd := &cobra.Command{
		Use:     "sensitivity --network REF",
		Short:   "Behavioural sensitivity G_S = ∂S/∂W of one network: spectrum, alignment with ΔW, probes",
		Long:    help("analyze_sensitivity.long"),
		Example: help("analyze_sensitivity.example"),
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.analyzeSensitivity(cmd.Context(), sel, st) },
	}
	f := cmd.Flags()
	sel.addFlags(f, false)
	f.IntVar(&st.Perturbations, "perturbations", st.Perturbations, "random directions the top direction is compared with")
	f.Float64Var(&st.Scale, "scale", st.Scale, "probe size ε relative to ‖W‖_F")
	f.SortFlags = false
	return cmd
}

// sensitivityTop is how many singular values the summary shows.
const sensitivityTop = 5

// sensitivityJSON is what `analyze sensitivity -o json` prints: the
// sensitivity row's values (null for NaN).
type sensitivityJSON struct {
	Network  stages.NetworkInfo         `json:"network"`
	Settings pipelines.SensitivityStage `json:"settings"`
	stages.SensitivitySummary
	Out string `json:"out,omitempty"`
}

func (a *app) analyzeSensitivity(ctx context.Context, sel *selection, st pipelines.SensitivityStage) error {
	nets, c, err := a.loadNetworks(ctx, sel, withinLimits(st.Validate(), pipelines.Stages{Sensitivity: st}))
	if err != nil {
		return err
	}
	defer c.close()
	n := nets[0]
	row, err := stages.Sensitivity(ctx, n.Campaign, n.Network, st)
	if err != nil {
		return fmt.Errorf("sensitivity of %s: %w", n.Unit.ID, err)
	}
	meta, err := stages.AnalysisMeta(pipelines.StageSensitivity, st, nets, engineVersion)
	if err == nil {
		err = writeRowsFile(sel.out, "--out", meta, []schemas.SensitivityRow{row})
	}
	if err != nil {
		return err
	}
	out := sensitivityJSON{Network: n.Info(), Settings: st, SensitivitySummary: stages.SummarizeSensitivity(row), Out: sel.out}
	return a.printer().Print(out, func(w io.Writer) {
		f := func(v stages.Float, format string) string {
			if math.IsNaN(float64(v)) {
				return "n/a"
			}
			return fmt.Sprintf(format, float64(v))
		}
		fmt.Fprintf(w, "behavioural sensitivity of %s\n", n.Title())
		fmt.Fprintf(w, "S = %.6g on the evaluation batch, ‖G_S‖_F = %.6g\n", out.Score, out.GradNorm)
		sv := out.SingularValues[:min(sensitivityTop, len(out.SingularValues))]
		fmt.Fprintf(w, "singular values (top %d of %d):", len(sv), len(out.SingularValues))
		for _, s := range sv {
			fmt.Fprintf(w, " %.4g", s)
		}
		if share := out.TopShare(); !math.IsNaN(share) {
			fmt.Fprintf(w, "  (σ₁² is %.1f%% of ‖G_S‖²)", 100*share)
		}
		fmt.Fprintf(w, "\nalignment with ΔW: cos(G_S, ΔW) = %s, fraction of ‖ΔW‖² along the top direction = %s\n", f(out.AlignmentDW, "%.4f"), f(out.TopFraction, "%.4f"))
		fmt.Fprintf(w, "probes of norm ε = %.4g (%g·‖W‖_F):\n", out.Epsilon, st.Scale)
		fmt.Fprintf(w, "  top direction:        ΔS = %s (first order ε·σ₁ = %s), trajectory shift %s (%s per unit ε)\n",
			f(out.DeltaSTop, "%.4g"), f(out.FirstOrderTop, "%.4g"), f(out.ShiftTop, "%.4g"), f(out.ShiftTop/out.Epsilon, "%.4g"))
		fmt.Fprintf(w, "  random (mean of %d): ΔS = %s, trajectory shift %s (%s per unit ε)\n", st.Perturbations,
			f(out.DeltaSRandom, "%.4g"), f(out.ShiftRandom, "%.4g"), f(out.ShiftRandom/out.Epsilon, "%.4g"))
		if out.ShiftRandom > 0 {
			fmt.Fprintf(w, "  the top direction moves the trajectories %.3g× as far as a random one\n", out.ShiftTop/out.ShiftRandom)
		}
		if sel.out != "" {
			fmt.Fprintf(w, "\nsensitivity row written to %s\n", sel.out)
		}
	})
}
