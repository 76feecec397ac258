package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/stages"
)

func newAnalyzeRSA(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.DefaultStages().RSA
	st.Enabled = true
	var rdmsOut string
	cmd := &cobra.Command{
		Use:     "rsa --network REF --network REF …",
		Short:   "Representational similarity of several networks of one task",
		Long:    help("analyze_rsa.long"),
		Example: help("analyze_rsa.example"),
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.analyzeRSA(cmd.Context(), sel, st, rdmsOut) },
	}
	f := cmd.Flags()
	sel.addFlags(f, true)
	f.StringVar(&st.Metric, "metric", st.Metric, "RDM dissimilarity: correlation or euclidean")
	f.IntVar(&st.Permutations, "permutations", st.Permutations, "permutation-test shuffles (0 = no test)")
	f.StringVar(&rdmsOut, "rdms-out", "", "also write the rdms rows to `FILE` (.parquet or .arrow)")
	f.SortFlags = false
	return cmd
}

// rsaJSON is what `analyze rsa -o json` prints.
type rsaJSON struct {
	Networks []stages.NetworkInfo `json:"networks"`
	Settings pipelines.RSAStage   `json:"settings"`
	stages.RSASummary
	Out     string `json:"out,omitempty"`
	RDMsOut string `json:"rdms_out,omitempty"`
}

func (a *app) analyzeRSA(ctx context.Context, sel *selection, st pipelines.RSAStage, rdmsOut string) error {
	nets, c, err := a.loadNetworks(ctx, sel, withinLimits(st.Validate(), pipelines.Stages{RSA: st}), [2]string{"--rdms-out", rdmsOut})
	if err != nil {
		return err
	}
	defer c.close()
	if len(nets) < 2 {
		return fmt.Errorf("1 network selected (%s): RSA compares at least 2 — give more --network values or widen --rule and --seed", nets[0].Unit.ID)
	}
	task, err := stages.OneTask(nets, "RSA")
	if err != nil {
		return err
	}
	res, err := stages.RSA(ctx, nets[0].Campaign, task, stages.Networks(nets), st, sel.workers)
	if err != nil {
		return fmt.Errorf("rsa: %w", err)
	}
	meta, err := stages.AnalysisMeta(pipelines.StageRSA, st, nets, engineVersion)
	if err == nil {
		err = writeRowsFile(sel.out, "--out", meta, res.Pairs)
	}
	if err == nil {
		err = writeRowsFile(rdmsOut, "--rdms-out", meta, res.RDMs)
	}
	if err != nil {
		return err
	}
	sum, err := stages.SummarizeRSA(len(nets), res)
	if err != nil {
		return err
	}
	out := rsaJSON{Settings: st, RSASummary: sum, Out: sel.out, RDMsOut: rdmsOut}
	for _, n := range nets {
		out.Networks = append(out.Networks, n.Info())
	}
	return a.printer().Print(out, func(w io.Writer) {
		fmt.Fprintf(w, "representational similarity of %d networks of task %s (%s RDMs over %d stimuli)\n", len(nets), task, st.Metric, len(out.Labels))
		for i, n := range nets {
			fmt.Fprintf(w, "  [%d] %s/%s seed=%d (%s, campaign %s)\n", i, n.Unit.Task, n.Unit.Rule, n.Seed, n.Which, n.Campaign)
		}
		for _, m := range stages.RSAMethods {
			what := "similarity"
			if m == stages.MethodProcrustes {
				what = "distance"
			}
			fmt.Fprintf(w, "\n%s %s:\n", m, what)
			printMatrix(w, out.Similarity[m])
		}
		fmt.Fprintln(w)
		tests, sameSeed := testLines(out.Pairs, "within-rule − between-rule similarity", "similarity")
		switch {
		case tests != "":
			fmt.Fprint(w, tests, sameSeed)
		case st.Permutations == 0:
			fmt.Fprintln(w, "no permutation test (--permutations 0)")
		default:
			fmt.Fprintln(w, "no permutation test: it needs networks of at least two rules, some rule with two")
		}
		fmt.Fprint(w, written(len(res.Pairs), "rsa_pairs", sel.out), written(len(res.RDMs), "rdms", rdmsOut))
	})
}

// testLines renders the summary rows of an rsa or landscape summary: the
// permutation tests of the mean diff, and the same-seed means of what.
func testLines(pairs []stages.PairInfo, diff, what string) (tests, sameSeed string) {
	for _, p := range pairs {
		switch {
		case strings.HasPrefix(p.Method, stages.WithinPrefix):
			tests += fmt.Sprintf("%s: mean %s = %.4f, p = %.4g (%d permutations)\n", p.Measure(), diff, p.Value, p.PValue, p.Permutations)
		case strings.HasPrefix(p.Method, stages.SameSeedPrefix):
			sameSeed += fmt.Sprintf("%s: mean %s of different rules' networks of one seed (shared W⁰) = %.4f\n", p.Measure(), what, p.Value)
		}
	}
	return tests, sameSeed
}

// printMatrix writes a symmetric networks×networks matrix, diagonal "-".
func printMatrix(w io.Writer, m stages.Matrix) {
	fmt.Fprintf(w, "%6s", "")
	for j := range m {
		fmt.Fprintf(w, " %8s", fmt.Sprintf("[%d]", j))
	}
	fmt.Fprintln(w)
	for i, row := range m {
		fmt.Fprintf(w, "%6s", fmt.Sprintf("[%d]", i))
		for j, v := range row {
			if i == j {
				fmt.Fprintf(w, " %8s", "-")
			} else {
				fmt.Fprintf(w, " %8.4f", v)
			}
		}
		fmt.Fprintln(w)
	}
}
