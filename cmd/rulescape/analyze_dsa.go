package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"regexp"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/stages"
)

func newAnalyzeDSA(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.DefaultStages().DSA
	st.Enabled = true
	var opsOut string
	cmd := &cobra.Command{
		Use:     "dsa --network REF --network REF …",
		Short:   "Dynamical similarity (DSA) and spectral distances of several networks of one task",
		Long:    help("analyze_dsa.long"),
		Example: help("analyze_dsa.example"),
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.analyzeDSA(cmd.Context(), sel, st, opsOut) },
	}
	f := cmd.Flags()
	sel.addFlags(f, true)
	f.IntVar(&st.Delays, "n-delays", st.Delays, "states stacked in each delay vector")
	f.IntVar(&st.DelayInterval, "delay-interval", st.DelayInterval, "steps between the stacked states")
	f.IntVar(&st.Rank, "rank", st.Rank, "dimension of the fitted operator (≤ n-delays × units)")
	f.IntVar(&st.Restarts, "restarts", st.Restarts, "starts of the search over orthogonal matrices per pair")
	f.IntVar(&st.Permutations, "permutations", st.Permutations, "permutation-test shuffles (0 = no test)")
	f.StringVar(&opsOut, "operators-out", "", "also write the dsa_operators rows to `FILE` (.parquet or .arrow)")
	f.SortFlags = false
	return cmd
}

// dsaJSON is what `analyze dsa -o json` prints.
type dsaJSON struct {
	Networks []stages.NetworkInfo `json:"networks"`
	Settings pipelines.DSAStage   `json:"settings"`
	stages.DSASummary
	Out          string `json:"out,omitempty"`
	OperatorsOut string `json:"operators_out,omitempty"`
}

// dsaFlagNames turns the settings named in core/dsa's messages into the
// command's flags.
var dsaFlagNames = regexp.MustCompile(`\b(n_delays|delay_interval|rank)\b`)

func dsaFlags(msg string) string {
	return dsaFlagNames.ReplaceAllStringFunc(msg, func(s string) string {
		return map[string]string{"n_delays": "--n-delays", "delay_interval": "--delay-interval", "rank": "--rank"}[s]
	})
}

func (a *app) analyzeDSA(ctx context.Context, sel *selection, st pipelines.DSAStage, opsOut string) error {
	nets, c, err := a.loadNetworks(ctx, sel, withinLimits(st.Validate(), pipelines.Stages{DSA: st}), [2]string{"--operators-out", opsOut})
	if err != nil {
		return err
	}
	defer c.close()
	if len(nets) < 2 {
		return fmt.Errorf("1 network selected (%s): DSA compares at least 2 — give more --network values or widen --rule and --seed", nets[0].Unit.ID)
	}
	task, err := stages.OneTask(nets, "DSA")
	if err != nil {
		return err
	}
	for _, n := range nets {
		sh := pipelines.ShapeOf(n.Setup)
		if err := stages.DSASettings(st).Validate(sh.N, sh.T); err != nil {
			return fmt.Errorf("%s (network %s: %d units, %d steps)", dsaFlags(err.Error()), n.Unit.ID, sh.N, sh.T)
		}
	}
	res, err := stages.DSA(ctx, nets[0].Campaign, task, stages.Networks(nets), st, sel.workers)
	if err != nil {
		return fmt.Errorf("dsa: %w", err)
	}
	meta, err := stages.AnalysisMeta(pipelines.StageDSA, st, nets, engineVersion)
	if err == nil {
		err = writeRowsFile(sel.out, "--out", meta, res.Pairs)
	}
	if err == nil {
		err = writeRowsFile(opsOut, "--operators-out", meta, res.Operators)
	}
	if err != nil {
		return err
	}
	sum, err := stages.SummarizeDSA(len(nets), res)
	if err != nil {
		return err
	}
	out := dsaJSON{Settings: st, DSASummary: sum, Out: sel.out, OperatorsOut: opsOut}
	for _, n := range nets {
		out.Networks = append(out.Networks, n.Info())
	}
	return a.printer().Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "dynamical similarity of %d networks of task %s (%d delays %d step(s) apart, rank %d)\n",
			len(nets), task, st.Delays, st.DelayInterval, st.Rank)
		for i, n := range nets {
			r := res.Operators[i]
			fmt.Fprintf(w, "  [%d] %s/%s seed=%d (%s, campaign %s): R² %.4f, |λ| max %.4f\n",
				i, n.Unit.Task, n.Unit.Rule, n.Seed, n.Which, n.Campaign, r.R2, math.Hypot(r.EigenRe[0], r.EigenIm[0]))
		}
		for _, m := range stages.DSAMethods {
			fmt.Fprintf(w, "\n%s distance:\n", m)
			printMatrix(w, out.Distance[m])
		}
		fmt.Fprintln(w)
		tests, sameSeed := testLines(out.Pairs, "between-rule − within-rule distance", "distance")
		switch {
		case tests != "":
			fmt.Fprint(w, tests, sameSeed)
		case st.Permutations == 0:
			fmt.Fprintln(w, "no permutation test (--permutations 0)")
		default:
			fmt.Fprintln(w, "no permutation test: it needs networks of at least two rules, some rule with two")
		}
		fmt.Fprint(w, written(len(res.Pairs), "dsa_pairs", sel.out), written(len(res.Operators), "dsa_operators", opsOut))
	})
}
