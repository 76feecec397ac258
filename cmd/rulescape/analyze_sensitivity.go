package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"rulescape/core/sensitivity"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// Campaign defaults of the sensitivity stage (pipelines' defaultStages;
// TestAnalyzeDefaults checks they agree).
const (
	defaultSensPerturbations = 100
	defaultSensScale         = sensitivity.DefaultScale
)

// sensitivityTop is how many singular values the summary shows.
const sensitivityTop = 5

func newAnalyzeSensitivity(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.SensitivityStage{Enabled: true}
	cmd := &cobra.Command{
		Use:   "sensitivity --network REF",
		Short: "Behavioural sensitivity G_S = ∂S/∂W of one network: spectrum, alignment with ΔW, probes",
		Long: `Measure the behavioural sensitivity G_S(W) = ∂S/∂W of one network, as the
sensitivity stage does: S is the training loss on a frozen evaluation batch
of 4 trials per condition (no plasticity, no perturbations, seeded by the
network's seed). Reported: S, ‖G_S‖_F, the singular values of G_S, the cosine
between G_S and the learned ΔW = W_final − W⁰ and the fraction of ‖ΔW‖² in
the top singular direction, and the effect of weight perturbations of
Frobenius norm ε = --scale·‖W‖_F along the top singular direction and along
--perturbations random directions: the change ΔS and the RMS shift of the
condition-averaged trajectories. To first order ΔS along the top direction
is ±ε·σ₁; the summary prints that prediction beside the measured value.`,
		Example: `  rulescape analyze sensitivity --network 314f658e8f18a8d4/train/gonogo/miconi/seed=1
  rulescape analyze sensitivity --network networks.parquet --seed 2 --scale 0.001 --out sens.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case st.Perturbations < 1:
				return fmt.Errorf("--perturbations = %d: want at least 1 random direction", st.Perturbations)
			case !(st.Scale > 0) || math.IsInf(st.Scale, 0):
				return fmt.Errorf("--scale = %v: want a positive relative size, e.g. %g (the default keeps the probes linear)", st.Scale, defaultSensScale)
			}
			return a.analyzeSensitivity(cmd.Context(), sel, st)
		},
	}
	f := cmd.Flags()
	sel.addFlags(f, false)
	f.IntVar(&st.Perturbations, "perturbations", defaultSensPerturbations, "random directions the top direction is compared with")
	f.Float64Var(&st.Scale, "scale", defaultSensScale, "probe size ε relative to ‖W‖_F")
	f.SortFlags = false
	return cmd
}

// sensitivityJSON is what `analyze sensitivity -o json` prints: the
// sensitivity row's values (null for NaN).
type sensitivityJSON struct {
	Network        networkJSON                `json:"network"`
	Settings       pipelines.SensitivityStage `json:"settings"`
	Score          jsonFloat                  `json:"score"`
	GradNorm       jsonFloat                  `json:"grad_norm"`
	SingularValues []jsonFloat                `json:"singular_values"`
	AlignmentDW    jsonFloat                  `json:"alignment_dw"`
	TopFraction    jsonFloat                  `json:"top_fraction"`
	Epsilon        jsonFloat                  `json:"epsilon"`
	DeltaSTop      jsonFloat                  `json:"delta_s_top"`
	DeltaSRandom   jsonFloat                  `json:"delta_s_random"`
	ShiftTop       jsonFloat                  `json:"shift_top"`
	ShiftRandom    jsonFloat                  `json:"shift_random"`
	// FirstOrderTop is ε·σ₁, the first-order size of ΔS along the top
	// singular direction.
	FirstOrderTop jsonFloat `json:"first_order_top"`
	Out           string    `json:"out,omitempty"`
}

func sensitivityOut(n *analyzed, st pipelines.SensitivityStage, row schemas.SensitivityRow) sensitivityJSON {
	first := math.NaN()
	if len(row.SingularValues) > 0 {
		first = row.Epsilon * row.SingularValues[0]
	}
	return sensitivityJSON{Network: n.json(), Settings: st, Score: jsonFloat(row.Score), GradNorm: jsonFloat(row.GradNorm),
		SingularValues: floats(row.SingularValues), AlignmentDW: jsonFloat(row.AlignmentDW), TopFraction: jsonFloat(row.TopFraction),
		Epsilon: jsonFloat(row.Epsilon), DeltaSTop: jsonFloat(row.DeltaSTop), DeltaSRandom: jsonFloat(row.DeltaSRandom),
		ShiftTop: jsonFloat(row.ShiftTop), ShiftRandom: jsonFloat(row.ShiftRandom), FirstOrderTop: jsonFloat(first)}
}

func (a *app) analyzeSensitivity(ctx context.Context, sel *selection, st pipelines.SensitivityStage) error {
	nets, r, err := a.loadNetworks(ctx, sel, true)
	if err != nil {
		return err
	}
	defer r.close()
	n := nets[0]
	row, err := stages.Sensitivity(ctx, n.campaign, n.net, st)
	if err != nil {
		return fmt.Errorf("sensitivity of %s: %w", n.unit, err)
	}
	if err := writeOutputs(pipelines.StageSensitivity, st, nets, outRows(sel.out, "--out", []schemas.SensitivityRow{row})); err != nil {
		return err
	}
	out := sensitivityOut(n, st, row)
	out.Out = sel.out
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	w := a.stdout
	fmt.Fprintf(w, "behavioural sensitivity of %s\n", n.title())
	fmt.Fprintf(w, "S = %.6g on the evaluation batch, ‖G_S‖_F = %.6g\n", row.Score, row.GradNorm)
	sv := row.SingularValues
	var total float64
	for _, s := range sv {
		total += s * s
	}
	fmt.Fprintf(w, "singular values (top %d of %d):", min(sensitivityTop, len(sv)), len(sv))
	for _, s := range sv[:min(sensitivityTop, len(sv))] {
		fmt.Fprintf(w, " %.4g", s)
	}
	if total > 0 {
		fmt.Fprintf(w, "  (σ₁² is %.1f%% of ‖G_S‖²)", 100*sv[0]*sv[0]/total)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "alignment with ΔW: cos(G_S, ΔW) = %s, fraction of ‖ΔW‖² along the top direction = %s\n",
		fmtNaN(row.AlignmentDW, "%.4f"), fmtNaN(row.TopFraction, "%.4f"))
	fmt.Fprintf(w, "probes of norm ε = %.4g (%g·‖W‖_F):\n", row.Epsilon, st.Scale)
	fmt.Fprintf(w, "  top direction:        ΔS = %s (first order ε·σ₁ = %s), trajectory shift %s (%s per unit ε)\n",
		fmtNaN(row.DeltaSTop, "%.4g"), fmtNaN(float64(out.FirstOrderTop), "%.4g"), fmtNaN(row.ShiftTop, "%.4g"), fmtNaN(row.ShiftTop/row.Epsilon, "%.4g"))
	fmt.Fprintf(w, "  random (mean of %d): ΔS = %s, trajectory shift %s (%s per unit ε)\n", st.Perturbations,
		fmtNaN(row.DeltaSRandom, "%.4g"), fmtNaN(row.ShiftRandom, "%.4g"), fmtNaN(row.ShiftRandom/row.Epsilon, "%.4g"))
	if row.ShiftRandom > 0 {
		fmt.Fprintf(w, "  the top direction moves the trajectories %.3g× as far as a random one\n", row.ShiftTop/row.ShiftRandom)
	}
	if sel.out != "" {
		fmt.Fprintf(w, "\nsensitivity row written to %s\n", sel.out)
	}
	return nil
}

// fmtNaN formats v, or "n/a" for NaN.
func fmtNaN(v float64, format string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}
