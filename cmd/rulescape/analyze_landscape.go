package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// Campaign defaults of the landscape stage (pipelines' defaultStages;
// TestAnalyzeDefaults checks they agree).
const (
	defaultLandPCs          = 3
	defaultLandPermutations = 1000
	defaultLandConnectSteps = 4000
)

// pairMethods are the methods of a pair of networks in landscape_pairs,
// in the order of its rows.
var pairMethods = []string{stages.MethodTopology, stages.MethodIndex, stages.MethodGraph}

// landscapeSettings are the settings of `analyze landscape`: the
// fixed-point search it runs first and the landscape stage's.
type landscapeSettings struct {
	FixedPoints pipelines.FixedPointsStage `json:"fixedpoints"`
	Landscape   pipelines.LandscapeStage   `json:"landscape"`
}

func newAnalyzeLandscape(a *app) *cobra.Command {
	sel := &selection{}
	st := landscapeSettings{FixedPoints: pipelines.FixedPointsStage{Enabled: true}, Landscape: pipelines.LandscapeStage{Enabled: true}}
	var pairsOut string
	cmd := &cobra.Command{
		Use:   "landscape --network REF [--network REF …]",
		Short: "Dynamical landscape of one or more networks of one task: fixed points by index, saddle → attractor graph, topology distances",
		Long: `Map the dynamical landscape of one or more networks of one task, as the
fixedpoints and landscape stages do: first each network's fixed and slow
points under each constant input of its task (--inits, --max-iters, --tol,
as analyze fixedpoints), then the landscape: the points counted by index,
projected on the top --pcs principal axes of the network's trajectories
(4 trials per condition, no plasticity, no perturbations, seeded by its
seed), and each index-1 saddle's unstable manifold followed for at most
--connect-steps Euler steps of 0.1 τ to the attractors it reaches.

With two networks or more, every pair gets its topology distance (the mean
over inputs of the L1 distances of the counts by index — "index" — and of
the saddle and attractor degrees — "graph"); when the networks span at least
two rules and some rule has two networks (of different seeds when a seed has
two rules), the seed-stratified permutation test of within- against
between-rule distance (--permutations) is run as the stage runs it.

The summary prints, per network and input, the fixed points by index (slow
points apart), the saddle → attractor connections (point numbers as in the
landscape rows) and the explained variance of the axes; then the topology
distances and the test. --out writes the landscape rows, --pairs-out the
landscape_pairs rows.`,
		Example: `  rulescape analyze landscape --network 314f658e8f18a8d4/train/gonogo/miconi/seed=1
  rulescape analyze landscape --campaign pipelines/quickstart.yaml --task gonogo --permutations 200
  rulescape analyze landscape --network networks.parquet --pcs 2 --out landscape.parquet --pairs-out pairs.parquet -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFixedPointFlags(st.FixedPoints); err != nil {
				return err
			}
			switch l := st.Landscape; {
			case l.PCs < 1:
				return fmt.Errorf("--pcs = %d: want at least 1 principal axis (the campaign default is %d)", l.PCs, defaultLandPCs)
			case l.ConnectSteps < 1:
				return fmt.Errorf("--connect-steps = %d: want at least 1 Euler step per saddle branch (the campaign default is %d)", l.ConnectSteps, defaultLandConnectSteps)
			case l.Permutations < 0:
				return fmt.Errorf("--permutations = %d: want 0 (no test) or more", l.Permutations)
			}
			if pairsOut != "" {
				if _, err := outFormat(pairsOut, "--pairs-out"); err != nil {
					return err
				}
			}
			return a.analyzeLandscape(cmd.Context(), sel, st, pairsOut)
		},
	}
	f := cmd.Flags()
	sel.addFlags(f, true)
	addFixedPointFlags(f, &st.FixedPoints)
	f.IntVar(&st.Landscape.PCs, "pcs", defaultLandPCs, "principal axes of the trajectories the points are projected on")
	f.IntVar(&st.Landscape.Permutations, "permutations", defaultLandPermutations, "permutation-test shuffles (0 = no test)")
	f.IntVar(&st.Landscape.ConnectSteps, "connect-steps", defaultLandConnectSteps, "Euler steps of 0.1 τ following each saddle branch")
	f.StringVar(&pairsOut, "pairs-out", "", "also write the landscape_pairs rows to `FILE` (.parquet or .arrow)")
	f.SortFlags = false
	return cmd
}

// landscapePointJSON is one point of a network's landscape.
type landscapePointJSON struct {
	Point int32       `json:"point"` // number among the input's points, as in the rows
	Index int32       `json:"index"` // unstable dimensions (−1 unknown)
	Type  string      `json:"type"`
	Slow  bool        `json:"slow"`
	PC    []jsonFloat `json:"pc"`
	// Connects holds, for an index-1 fixed point, the attractors (point
	// numbers) its two branches reach, −1 for none.
	Connects []int32 `json:"connects,omitempty"`
}

// connectionJSON is one saddle → attractors connection.
type connectionJSON struct {
	Saddle     int32    `json:"saddle"`     // point number of the index-1 fixed point
	Attractors [2]int32 `json:"attractors"` // ends of its branches +v and −v; −1: none
}

// landscapeInputJSON summarizes a network's landscape under one input.
type landscapeInputJSON struct {
	Input string `json:"input"`
	// ByIndex[k] counts the fixed points (not slow points) of index k;
	// ByIndex[0] the attractors. Empty without fixed points.
	ByIndex     []int                `json:"by_index"`
	Slow        int                  `json:"slow"`
	Connections []connectionJSON     `json:"connections"`
	Points      []landscapePointJSON `json:"points"`
}

// landscapeNetJSON is one network's landscape.
type landscapeNetJSON struct {
	// Explained is the fraction of the trajectories' variance along each
	// axis (null beyond the network's axes); empty when the network has no
	// point (the rows carry it).
	Explained []jsonFloat          `json:"explained"`
	Inputs    []landscapeInputJSON `json:"inputs"`
	network   *analyzed            // for the text summary
}

// landscapePairJSON is one pair (or summary) of `analyze landscape -o json`.
type landscapePairJSON struct {
	Method       string    `json:"method"`
	A            int       `json:"a"` // index into networks; -1 for a summary
	B            int       `json:"b"`
	Value        jsonFloat `json:"value"`
	PValue       jsonFloat `json:"p_value"`
	Permutations int32     `json:"permutations"`
}

// landscapeJSON is what `analyze landscape -o json` prints.
type landscapeJSON struct {
	Networks []networkJSON      `json:"networks"`
	Settings landscapeSettings  `json:"settings"`
	Maps     []landscapeNetJSON `json:"maps"` // one per network, in order
	// Distance holds per method (topology, index, graph) the
	// networks×networks matrix of distances (diagonal 0); empty for one
	// network.
	Distance map[string][][]jsonFloat `json:"distance"`
	Pairs    []landscapePairJSON      `json:"pairs"`
	Out      string                   `json:"out,omitempty"`
	PairsOut string                   `json:"pairs_out,omitempty"`
}

func (a *app) analyzeLandscape(ctx context.Context, sel *selection, st landscapeSettings, pairsOut string) error {
	nets, r, err := a.loadNetworks(ctx, sel, false)
	if err != nil {
		return err
	}
	defer r.close()
	task := nets[0].net.Unit.Task
	tasks := map[string]bool{}
	for _, n := range nets {
		tasks[n.net.Unit.Task] = true
	}
	if len(tasks) > 1 {
		return fmt.Errorf("the networks are of tasks %s: the landscape compares the networks of one task — select it with --task", strings.Join(sortedKeys(tasks), ", "))
	}
	tn := make([]*stages.Network, len(nets))
	fps := make([][]schemas.FixedPointRow, len(nets))
	for i, n := range nets {
		tn[i] = n.net
		if fps[i], err = stages.FixedPoints(ctx, n.campaign, n.net, st.FixedPoints, sel.workers); err != nil {
			return fmt.Errorf("fixed points of %s: %w", n.unit, err)
		}
	}
	res, err := stages.Landscape(ctx, nets[0].campaign, task, tn, fps, st.Landscape, sel.workers)
	if err != nil {
		return fmt.Errorf("landscape: %w", err)
	}
	rows, pairs := res.Points, res.Pairs
	if err := writeOutputs(pipelines.StageLandscape, st, nets, outRows(sel.out, "--out", rows), outRows(pairsOut, "--pairs-out", pairs)); err != nil {
		return err
	}

	out := landscapeJSON{Settings: st, Distance: map[string][][]jsonFloat{}, Pairs: []landscapePairJSON{}, Out: sel.out, PairsOut: pairsOut}
	// The rows come network by network, one per fixed point in order.
	k := 0
	for i, n := range nets {
		out.Networks = append(out.Networks, n.json())
		if k+len(fps[i]) > len(rows) {
			return fmt.Errorf("landscape: %d rows for more fixed points: an internal error", len(rows))
		}
		m, err := landscapeSummary(n, rows[k:k+len(fps[i])])
		if err != nil {
			return err
		}
		out.Maps = append(out.Maps, m)
		k += len(fps[i])
	}
	if k != len(rows) {
		return fmt.Errorf("landscape: %d rows for %d fixed points: an internal error", len(rows), k)
	}
	// The pair rows come in the order (0,1), (0,2), …, (1,2), …, each pair
	// with its methods in the order of pairMethods, then the summaries.
	var ij [][2]int
	for i := range nets {
		for j := i + 1; j < len(nets); j++ {
			ij = append(ij, [2]int{i, j})
		}
	}
	if len(nets) > 1 {
		for _, m := range pairMethods {
			d := make([][]jsonFloat, len(nets))
			for q := range d {
				d[q] = make([]jsonFloat, len(nets))
			}
			out.Distance[m] = d
		}
	}
	c := 0
	for _, p := range pairs {
		if p.ARule == "*" {
			out.Pairs = append(out.Pairs, landscapePairJSON{Method: p.Method, A: -1, B: -1, Value: jsonFloat(p.Value), PValue: jsonFloat(p.PValue), Permutations: p.Permutations})
			continue
		}
		if c >= len(ij)*len(pairMethods) || p.Method != pairMethods[c%len(pairMethods)] {
			return fmt.Errorf("landscape: pair row %d of method %s is out of order: an internal error", c, p.Method)
		}
		i, j := ij[c/len(pairMethods)][0], ij[c/len(pairMethods)][1]
		c++
		d := out.Distance[p.Method]
		d[i][j], d[j][i] = jsonFloat(p.Value), jsonFloat(p.Value)
		out.Pairs = append(out.Pairs, landscapePairJSON{Method: p.Method, A: i, B: j, Value: jsonFloat(p.Value), PValue: jsonFloat(p.PValue)})
	}
	if c != len(ij)*len(pairMethods) {
		return fmt.Errorf("landscape: %d pair rows for %d pairs: an internal error", c, len(ij))
	}
	if a.output == "json" {
		return json.NewEncoder(a.stdout).Encode(out)
	}
	a.printLandscape(out, st, len(rows), len(pairs))
	return nil
}

// landscapeSummary summarizes the rows of one network.
func landscapeSummary(n *analyzed, rows []schemas.LandscapeRow) (landscapeNetJSON, error) {
	m := landscapeNetJSON{Explained: []jsonFloat{}, network: n}
	at := map[string]int{}
	// Every constant input of the task, in its order, even one with no point.
	for _, in := range n.net.Setup.Task.FixedPointInputs() {
		at[in.Name] = len(m.Inputs)
		m.Inputs = append(m.Inputs, landscapeInputJSON{Input: in.Name, ByIndex: []int{}, Connections: []connectionJSON{}, Points: []landscapePointJSON{}})
	}
	u := n.net.Unit
	for _, r := range rows {
		k, ok := at[r.Input]
		if !ok || r.Rule != u.Rule || r.Seed != n.net.Seed {
			return m, fmt.Errorf("landscape: row %s/%d input %q is not of network %s: an internal error", r.Rule, r.Seed, r.Input, n.unit)
		}
		if len(m.Explained) == 0 {
			m.Explained = floats(r.Explained)
		}
		s := &m.Inputs[k]
		switch {
		case r.Slow:
			s.Slow++
		case r.Index >= 0:
			for len(s.ByIndex) <= int(r.Index) {
				s.ByIndex = append(s.ByIndex, 0)
			}
			s.ByIndex[r.Index]++
		}
		if len(r.Connects) == 2 {
			s.Connections = append(s.Connections, connectionJSON{Saddle: r.Point, Attractors: [2]int32{r.Connects[0], r.Connects[1]}})
		}
		s.Points = append(s.Points, landscapePointJSON{Point: r.Point, Index: r.Index, Type: r.Type, Slow: r.Slow, PC: floats(r.PC), Connects: r.Connects})
	}
	return m, nil
}

// printLandscape writes the text summary.
func (a *app) printLandscape(out landscapeJSON, st landscapeSettings, nRows, nPairs int) {
	w := a.stdout
	n := len(out.Maps)
	task := out.Networks[0].Task
	if n == 1 {
		fmt.Fprintf(w, "dynamical landscape of %s\n", out.Maps[0].network.title())
	} else {
		fmt.Fprintf(w, "dynamical landscape of %d networks of task %s\n", n, task)
	}
	fp, l := st.FixedPoints, st.Landscape
	fmt.Fprintf(w, "fixed points: %d initial states per input, at most %d iterations, fixed below q = %g\n", fp.Inits, fp.MaxIters, fp.Tol)
	fmt.Fprintf(w, "landscape: %d principal axes, saddle branches followed for at most %d steps of 0.1 τ\n", l.PCs, l.ConnectSteps)
	for i, m := range out.Maps {
		fmt.Fprintln(w)
		if n > 1 {
			fmt.Fprintf(w, "[%d] %s\n", i, m.network.title())
		}
		fmt.Fprintf(w, "explained variance: %s\n", describeExplained(m.Explained))
		fmt.Fprintf(w, "%-16s %-36s %5s  %s\n", "INPUT", "FIXED POINTS BY INDEX", "SLOW", "SADDLE → ATTRACTORS")
		for _, s := range m.Inputs {
			fmt.Fprintf(w, "%-16s %-36s %5d  %s\n", s.Input, describeByIndex(s.ByIndex), s.Slow, describeConnections(s.Connections))
		}
	}
	if n > 1 {
		fmt.Fprintf(w, "\ntopology distance (index + graph, mean over inputs):\n")
		printMatrix(w, out.Distance[stages.MethodTopology])
		fmt.Fprintln(w)
		var tested bool
		for _, p := range out.Pairs {
			switch {
			case strings.HasPrefix(p.Method, stages.WithinPrefix):
				tested = true
				fmt.Fprintf(w, "%s: mean between-rule − within-rule distance = %.4f, p = %.4g (%d permutations)\n",
					strings.TrimPrefix(p.Method, stages.WithinPrefix), float64(p.Value), float64(p.PValue), p.Permutations)
			case strings.HasPrefix(p.Method, stages.SameSeedPrefix):
				fmt.Fprintf(w, "%s: mean distance of different rules' networks of one seed (shared W⁰) = %.4f\n",
					strings.TrimPrefix(p.Method, stages.SameSeedPrefix), float64(p.Value))
			}
		}
		switch {
		case tested:
		case l.Permutations == 0:
			fmt.Fprintln(w, "no permutation test (--permutations 0)")
		default:
			fmt.Fprintln(w, "no permutation test: it needs networks of at least two rules, some rule with two (of different seeds when a seed has two rules)")
		}
	}
	if out.Out != "" {
		fmt.Fprintf(w, "\n%d landscape rows written to %s\n", nRows, out.Out)
	}
	if out.PairsOut != "" {
		if out.Out == "" {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%d landscape_pairs rows written to %s\n", nPairs, out.PairsOut)
	}
}

// describeByIndex renders counts by index as "1 stable, 2 index 1".
func describeByIndex(c []int) string {
	var parts []string
	for k, v := range c {
		switch {
		case v == 0:
		case k == 0:
			parts = append(parts, fmt.Sprintf("%d stable", v))
		default:
			parts = append(parts, fmt.Sprintf("%d index %d", v, k))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// describeConnections renders connections as "#1 → #0, #2; #3 → #0, none".
func describeConnections(cs []connectionJSON) string {
	if len(cs) == 0 {
		return "-"
	}
	end := func(p int32) string {
		if p < 0 {
			return "none"
		}
		return fmt.Sprintf("#%d", p)
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("#%d → %s, %s", c.Saddle, end(c.Attractors[0]), end(c.Attractors[1])))
	}
	return strings.Join(parts, "; ")
}

// describeExplained renders explained fractions as
// "PC1 71.2%, PC2 20.1% (total 91.3%)".
func describeExplained(e []jsonFloat) string {
	var parts []string
	var total float64
	for k, v := range e {
		if math.IsNaN(float64(v)) {
			continue
		}
		total += float64(v)
		parts = append(parts, fmt.Sprintf("PC%d %.1f%%", k+1, 100*float64(v)))
	}
	if len(parts) == 0 {
		return "n/a (no fixed or slow point)"
	}
	return fmt.Sprintf("%s (total %.1f%%)", strings.Join(parts, ", "), 100*total)
}

// printMatrix writes a symmetric networks×networks matrix, diagonal "-".
func printMatrix(w io.Writer, m [][]jsonFloat) {
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
				fmt.Fprintf(w, " %8.4f", float64(v))
			}
		}
		fmt.Fprintln(w)
	}
}
