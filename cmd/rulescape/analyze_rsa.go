package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/stages"
)

// Campaign defaults of the rsa stage (pipelines' defaultStages;
// TestAnalyzeDefaults checks they agree).
const (
	defaultRSAPermutations = 1000
	defaultRSAMetric       = "correlation"
)

func newAnalyzeRSA(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.RSAStage{Enabled: true}
	var rdmsOut string
	cmd := &cobra.Command{
		Use:   "rsa --network REF --network REF …",
		Short: "Representational similarity of several networks of one task",
		Long: `Compare the representations of two or more networks of one task, as the rsa
stage does: each network runs 4 trials per condition (no plasticity, no
perturbations, seeded by its seed); its rates are averaged per condition and
over 10 time bins; its RDM uses --metric. Pairs are compared by Spearman
correlation of their RDMs, linear CKA and Procrustes shape distance. When
the networks span at least two rules and some rule has two, a permutation
test (--permutations) of within-rule against between-rule similarity is run
for spearman and cka.

The summary prints the network×network table of each measure and the tests;
--out writes the rsa_pairs rows, --rdms-out the rdms rows.`,
		Example: `  rulescape analyze rsa --campaign pipelines/quickstart.yaml --task gonogo
  rulescape analyze rsa --network 314f658e8f18a8d4/train/gonogo/miconi/seed=1 --network 314f658e8f18a8d4/train/gonogo/miconi/seed=2
  rulescape analyze rsa --network networks.parquet --metric euclidean --out pairs.parquet --rdms-out rdms.parquet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case st.Metric != "correlation" && st.Metric != "euclidean":
				return fmt.Errorf("--metric = %q: want correlation or euclidean", st.Metric)
			case st.Permutations < 0:
				return fmt.Errorf("--permutations = %d: want 0 (no test) or more", st.Permutations)
			}
			if rdmsOut != "" {
				if _, err := outFormat(rdmsOut, "--rdms-out"); err != nil {
					return err
				}
			}
			return a.analyzeRSA(cmd.Context(), sel, st, rdmsOut)
		},
	}
	f := cmd.Flags()
	sel.addFlags(f, true)
	f.StringVar(&st.Metric, "metric", defaultRSAMetric, "RDM dissimilarity: correlation or euclidean")
	f.IntVar(&st.Permutations, "permutations", defaultRSAPermutations, "permutation-test shuffles (0 = no test)")
	f.StringVar(&rdmsOut, "rdms-out", "", "also write the rdms rows to `FILE` (.parquet or .arrow)")
	f.SortFlags = false
	return cmd
}

// rsaPairJSON is one pair (or test) of `analyze rsa -o json`.
type rsaPairJSON struct {
	Method       string    `json:"method"`
	A            int       `json:"a"` // index into networks; -1 for a test
	B            int       `json:"b"`
	Value        jsonFloat `json:"value"`
	PValue       jsonFloat `json:"p_value"`
	Permutations int32     `json:"permutations"`
}

// rsaJSON is what `analyze rsa -o json` prints.
type rsaJSON struct {
	Networks []networkJSON      `json:"networks"`
	Settings pipelines.RSAStage `json:"settings"`
	Labels   []string           `json:"labels"` // the RDMs' stimuli
	// Similarity holds per measure the networks×networks matrix (diagonal
	// null).
	Similarity map[string][][]jsonFloat `json:"similarity"`
	Pairs      []rsaPairJSON            `json:"pairs"`
	Out        string                   `json:"out,omitempty"`
	RDMsOut    string                   `json:"rdms_out,omitempty"`
}

func (a *app) analyzeRSA(ctx context.Context, sel *selection, st pipelines.RSAStage, rdmsOut string) error {
	nets, r, err := a.loadNetworks(ctx, sel, false)
	if err != nil {
		return err
	}
	defer r.close()
	if len(nets) < 2 {
		return fmt.Errorf("1 network selected (%s): RSA compares at least 2 — give more --network values or widen --rule and --seed", nets[0].unit)
	}
	task := nets[0].net.Unit.Task
	tasks := map[string]bool{}
	for _, n := range nets {
		tasks[n.net.Unit.Task] = true
	}
	if len(tasks) > 1 {
		return fmt.Errorf("the networks are of tasks %s: RSA compares the networks of one task — select it with --task", strings.Join(sortedKeys(tasks), ", "))
	}
	tn := make([]*stages.Network, len(nets))
	for i, n := range nets {
		tn[i] = n.net
	}
	res, err := stages.RSA(ctx, nets[0].campaign, task, tn, st, sel.workers)
	if err != nil {
		return fmt.Errorf("rsa: %w", err)
	}
	rdms, pairs := res.RDMs, res.Pairs
	if err := writeOutputs(pipelines.StageRSA, st, nets, outRows(sel.out, "--out", pairs), outRows(rdmsOut, "--rdms-out", rdms)); err != nil {
		return err
	}
	out := rsaJSON{Settings: st, Labels: rdms[0].Labels, Similarity: map[string][][]jsonFloat{}, Out: sel.out, RDMsOut: rdmsOut}
	for _, n := range nets {
		out.Networks = append(out.Networks, n.json())
	}
	// The pair rows come in the order (0,1), (0,2), …, (1,2), … per method.
	var methods []string
	var tests, sameSeed []rsaPairJSON
	k := 0
	for k < len(pairs) {
		m := pairs[k].Method
		if strings.HasPrefix(m, stages.WithinPrefix) || strings.HasPrefix(m, stages.SameSeedPrefix) {
			p := rsaPairJSON{Method: m, A: -1, B: -1, Value: jsonFloat(pairs[k].Value), PValue: jsonFloat(pairs[k].PValue), Permutations: pairs[k].Permutations}
			out.Pairs = append(out.Pairs, p)
			if strings.HasPrefix(m, stages.WithinPrefix) {
				tests = append(tests, p)
			} else {
				sameSeed = append(sameSeed, p)
			}
			k++
			continue
		}
		methods = append(methods, m)
		sim := make([][]jsonFloat, len(nets))
		for i := range sim {
			sim[i] = make([]jsonFloat, len(nets))
			sim[i][i] = jsonFloat(nan())
		}
		for i := range nets {
			for j := i + 1; j < len(nets); j++ {
				p := pairs[k]
				k++
				sim[i][j], sim[j][i] = jsonFloat(p.Value), jsonFloat(p.Value)
				out.Pairs = append(out.Pairs, rsaPairJSON{Method: m, A: i, B: j, Value: jsonFloat(p.Value), PValue: jsonFloat(p.PValue)})
			}
		}
		out.Similarity[m] = sim
	}
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	w := a.stdout
	fmt.Fprintf(w, "representational similarity of %d networks of task %s (%s RDMs over %d stimuli)\n", len(nets), task, st.Metric, len(out.Labels))
	for i, n := range nets {
		u := n.net.Unit
		fmt.Fprintf(w, "  [%d] %s/%s seed=%d (%s, campaign %s)\n", i, u.Task, u.Rule, n.net.Seed, n.net.Which, n.campaign)
	}
	for _, m := range methods {
		what := "similarity"
		if m == stages.MethodProcrustes {
			what = "distance"
		}
		fmt.Fprintf(w, "\n%s %s:\n%6s", m, what, "")
		for j := range nets {
			fmt.Fprintf(w, " %8s", fmt.Sprintf("[%d]", j))
		}
		fmt.Fprintln(w)
		for i, row := range out.Similarity[m] {
			fmt.Fprintf(w, "%6s", fmt.Sprintf("[%d]", i))
			for j, v := range row {
				if i == j {
					fmt.Fprintf(w, " %8s", "-")
				} else {
					fmt.Fprintf(w, " %8.4f", float64(v))
				}
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w)
	switch {
	case len(tests) > 0:
		for _, t := range tests {
			fmt.Fprintf(w, "%s: mean within-rule − between-rule similarity = %.4f, p = %.4g (%d permutations)\n",
				strings.TrimPrefix(t.Method, stages.WithinPrefix), float64(t.Value), float64(t.PValue), t.Permutations)
		}
		for _, t := range sameSeed {
			fmt.Fprintf(w, "%s: mean similarity of different rules' networks of one seed (shared W⁰) = %.4f\n",
				strings.TrimPrefix(t.Method, stages.SameSeedPrefix), float64(t.Value))
		}
	case st.Permutations == 0:
		fmt.Fprintln(w, "no permutation test (--permutations 0)")
	default:
		fmt.Fprintln(w, "no permutation test: it needs networks of at least two rules, some rule with two")
	}
	if sel.out != "" {
		fmt.Fprintf(w, "%d rsa_pairs rows written to %s\n", len(pairs), sel.out)
	}
	if rdmsOut != "" {
		fmt.Fprintf(w, "%d rdms rows written to %s\n", len(rdms), rdmsOut)
	}
	return nil
}
