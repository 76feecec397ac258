package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// Campaign defaults of the fixedpoints stage (pipelines' defaultStages;
// TestAnalyzeDefaults checks they agree).
const (
	defaultFPInits    = 64
	defaultFPMaxIters = 2000
	defaultFPTol      = 1e-6
)

func newAnalyzeFixedPoints(a *app) *cobra.Command {
	sel := &selection{}
	st := pipelines.FixedPointsStage{Enabled: true}
	cmd := &cobra.Command{
		Use:   "fixedpoints --network REF",
		Short: "Fixed and slow points of one network under each of its task's constant inputs",
		Long: `Search the fixed and slow points of one network under each constant input of
its task, as the fixedpoints stage does: initial states sampled from the
states of 4 trials per condition (no plasticity, no perturbations, seeded by
the network's seed) plus noise, points with q < --tol fixed and
q < max(1e-4, tol) slow, each classified by the Jacobian's unstable
dimensions (stable, saddle of index k, unstable).

The summary counts the points of each input by type and index; -o json lists
every point; --out writes the fixed_points rows.`,
		Example: `  rulescape analyze fixedpoints --network 314f658e8f18a8d4/train/gonogo/miconi/seed=1
  rulescape analyze fixedpoints --network networks.parquet --rule miconi --seed 2 --inits 256 -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFixedPointFlags(st); err != nil {
				return err
			}
			return a.analyzeFixedPoints(cmd.Context(), sel, st)
		},
	}
	f := cmd.Flags()
	sel.addFlags(f, false)
	addFixedPointFlags(f, &st)
	f.SortFlags = false
	return cmd
}

// addFixedPointFlags adds the fixedpoints stage's settings to f (also used
// by analyze landscape, which searches the fixed points first).
func addFixedPointFlags(f *pflag.FlagSet, st *pipelines.FixedPointsStage) {
	f.IntVar(&st.Inits, "inits", defaultFPInits, "initial states per input")
	f.IntVar(&st.MaxIters, "max-iters", defaultFPMaxIters, "optimizer iterations per search")
	f.Float64Var(&st.Tol, "tol", defaultFPTol, "speed q below which a point is fixed")
}

// checkFixedPointFlags checks the flags addFixedPointFlags adds.
func checkFixedPointFlags(st pipelines.FixedPointsStage) error {
	switch {
	case st.Inits < 1:
		return fmt.Errorf("--inits = %d: want at least 1 initial state per input", st.Inits)
	case st.MaxIters < 1:
		return fmt.Errorf("--max-iters = %d: want at least 1 iteration", st.MaxIters)
	case !(st.Tol > 0) || math.IsInf(st.Tol, 0):
		return fmt.Errorf("--tol = %v: want a positive speed, e.g. 1e-6", st.Tol)
	}
	return nil
}

// fixedPointJSON is one point of `analyze fixedpoints -o json`.
type fixedPointJSON struct {
	Input string      `json:"input"`
	X     []float64   `json:"x"`
	Q     float64     `json:"q"`
	Slow  bool        `json:"slow"`
	Type  string      `json:"type"`  // stable, saddle or unstable
	Index int32       `json:"index"` // unstable dimensions
	Count int32       `json:"count"` // initial states that ended here
	EigRe []jsonFloat `json:"eig_re"`
	EigIm []jsonFloat `json:"eig_im"`
}

// inputSummary counts the points of one input.
type inputSummary struct {
	Input string `json:"input"`
	Fixed int    `json:"fixed"`
	Slow  int    `json:"slow"`
	// ByType counts the fixed points by type and index: "stable",
	// "saddle:1", …, "unstable:k".
	ByType map[string]int `json:"by_type"`
}

// fixedPointsJSON is what `analyze fixedpoints -o json` prints.
type fixedPointsJSON struct {
	Network  networkJSON                `json:"network"`
	Settings pipelines.FixedPointsStage `json:"settings"`
	Inputs   []inputSummary             `json:"inputs"`
	Points   []fixedPointJSON           `json:"points"`
	Out      string                     `json:"out,omitempty"`
}

func (a *app) analyzeFixedPoints(ctx context.Context, sel *selection, st pipelines.FixedPointsStage) error {
	nets, r, err := a.loadNetworks(ctx, sel, true)
	if err != nil {
		return err
	}
	defer r.close()
	n := nets[0]
	rows, err := stages.FixedPoints(ctx, n.campaign, n.net, st, sel.workers)
	if err != nil {
		return fmt.Errorf("fixed points of %s: %w", n.unit, err)
	}
	if err := writeOutputs(pipelines.StageFixedPoints, st, nets, outRows(sel.out, "--out", rows)); err != nil {
		return err
	}
	out := fixedPointsJSON{Network: n.json(), Settings: st, Points: []fixedPointJSON{}, Out: sel.out}
	// Every constant input of the task, in its order, even one with no point.
	byInput := map[string]int{}
	for _, in := range n.net.Setup.Task.FixedPointInputs() {
		byInput[in.Name] = len(out.Inputs)
		out.Inputs = append(out.Inputs, inputSummary{Input: in.Name, ByType: map[string]int{}})
	}
	for _, p := range rows {
		i, ok := byInput[p.Input]
		if !ok { // not expected: the rows come from these inputs
			i = len(out.Inputs)
			byInput[p.Input] = i
			out.Inputs = append(out.Inputs, inputSummary{Input: p.Input, ByType: map[string]int{}})
		}
		s := &out.Inputs[i]
		if p.Slow {
			s.Slow++
		} else {
			s.Fixed++
			s.ByType[typeKey(p)]++
		}
		k := 0 // the free coordinates' eigenvalues; the padding is NaN
		for k < len(p.EigRe) && !math.IsNaN(p.EigRe[k]) {
			k++
		}
		out.Points = append(out.Points, fixedPointJSON{Input: p.Input, X: p.X, Q: p.Q, Slow: p.Slow, Type: p.Type, Index: p.Index,
			Count: p.Count, EigRe: floats(p.EigRe[:k]), EigIm: floats(p.EigIm[:k])})
	}
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	w := a.stdout
	fmt.Fprintf(w, "fixed points of %s\n", n.title())
	fmt.Fprintf(w, "%d initial states per input, at most %d iterations, fixed below q = %g\n\n", st.Inits, st.MaxIters, st.Tol)
	fmt.Fprintf(w, "%-16s %6s %6s  %s\n", "INPUT", "FIXED", "SLOW", "FIXED POINTS BY TYPE")
	for _, s := range out.Inputs {
		fmt.Fprintf(w, "%-16s %6d %6d  %s\n", s.Input, s.Fixed, s.Slow, describeTypes(s.ByType))
	}
	if sel.out != "" {
		fmt.Fprintf(w, "\n%d fixed_points rows written to %s\n", len(rows), sel.out)
	}
	return nil
}

// typeKey is a point's type with its index: "stable", "saddle:2".
func typeKey(p schemas.FixedPointRow) string {
	if p.Index == 0 {
		return p.Type
	}
	return fmt.Sprintf("%s:%d", p.Type, p.Index)
}

// describeTypes renders counts by type as "1 stable, 2 saddle (index 1)".
func describeTypes(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := sortedKeys(m)
	rank := func(k string) int {
		switch {
		case k == "stable":
			return 0
		case strings.HasPrefix(k, "saddle"):
			return 1
		}
		return 2
	}
	sort.SliceStable(keys, func(i, j int) bool { return rank(keys[i]) < rank(keys[j]) })
	var parts []string
	for _, k := range keys {
		typ, idx, ok := strings.Cut(k, ":")
		if ok {
			parts = append(parts, fmt.Sprintf("%d %s (index %s)", m[k], typ, idx))
		} else {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], typ))
		}
	}
	return strings.Join(parts, ", ")
}
