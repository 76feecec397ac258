package stages

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/landscape"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// landscapeStream is the PCG stream of the topology permutation test.
const landscapeStream = 0x6c616e64 // "land"

// Methods of landscape_pairs rows.
const (
	MethodTopology = "topology" // index + graph
	MethodIndex    = "index"    // counts by index
	MethodGraph    = "graph"    // saddle and attractor degrees
)

// LandscapeRows are the rows of one landscape unit.
type LandscapeRows struct {
	// Points is the landscape dataset: one row per fixed or slow point,
	// network by network, each in the order of its fixed_points rows.
	Points []schemas.LandscapeRow
	// Pairs is the landscape_pairs dataset.
	Pairs []schemas.LandscapePairRow
	// Maps are the networks' landscapes, in the order of the networks
	// (for messages, e.g. saddles whose branches were not followed).
	Maps []*landscape.Map
}

// Landscape maps the dynamical landscape of nets, all of one task, from
// their fixed points, as the landscape stage does, and returns its rows,
// labelled with campaign. fixedPoints[i] holds the fixed_points rows of
// nets[i] — its fixedpoints unit's dataset, or FixedPoints of the network —
// in their order.
//
// Each network's trajectories are the states x^t, t = 1…T, of the batch its
// fixed-point search sampled initial states from (FixedPointRepeats trials
// per condition, no plasticity, no perturbations, seeded by its seed),
// rebuilt exactly. Their top `pcs` principal axes place every point; each
// index-1 fixed point's unstable manifold is followed for at most
// `connect_steps` Euler steps of 0.1 τ to the attractors of its input
// (core/landscape). Every pair of networks gets its topology distance
// (MethodTopology) and its parts (MethodIndex, MethodGraph), pair by pair
// in the order (0,1), (0,2), …, (1,2), …. When the networks span at least
// two rules, the seed-stratified permutation test of within-rule against
// between-rule topology (the stage's permutations; similarity = −distance)
// is recorded as method WithinPrefix+"topology", a_rule = b_rule = "*",
// value = mean between-rule − mean within-rule distance over pairs of
// different seeds, with p_value and permutations; the mean distance of
// networks of different rules trained from one seed is the row
// SameSeedPrefix+"topology" (p_value NaN). workers bounds the networks
// mapped in parallel (0 = all cores); the rows do not depend on it.
// Errors of the settings and inputs are Invalid.
func Landscape(ctx context.Context, campaign, task string, nets []*Network, fixedPoints [][]schemas.FixedPointRow, st pipelines.LandscapeStage, workers int) (LandscapeRows, error) {
	rows, pairs, maps, err := landscapeRows(ctx, campaign, task, nets, fixedPoints, st, workers)
	if err != nil {
		if ctx.Err() != nil {
			return LandscapeRows{}, ctx.Err()
		}
		return LandscapeRows{}, invalid(err)
	}
	return LandscapeRows{Points: rows, Pairs: pairs, Maps: maps}, nil
}

func landscapeRows(ctx context.Context, campaign, task string, nets []*Network, fixedPoints [][]schemas.FixedPointRow, st pipelines.LandscapeStage, workers int) ([]schemas.LandscapeRow, []schemas.LandscapePairRow, []*landscape.Map, error) {
	if st.PCs < 1 || st.ConnectSteps < 1 || st.Permutations < 0 {
		return nil, nil, nil, fmt.Errorf("pcs = %d, connect_steps = %d, permutations = %d: need at least 1 axis and 1 step, and permutations ≥ 0",
			st.PCs, st.ConnectSteps, st.Permutations)
	}
	if len(nets) == 0 || len(fixedPoints) != len(nets) {
		return nil, nil, nil, fmt.Errorf("%d networks and %d sets of fixed points: pass the fixed points of every network", len(nets), len(fixedPoints))
	}
	for _, t := range nets {
		if t.Unit.Task != task {
			return nil, nil, nil, fmt.Errorf("network %s is of task %s, not %s: the landscape stage compares the networks of one task", t.Unit.ID, t.Unit.Task, task)
		}
	}
	settings := landscape.Settings{PCs: st.PCs, Steps: st.ConnectSteps}

	// Each network is mapped on its own; the results go to its slot.
	n := len(nets)
	maps := make([]*landscape.Map, n)
	perNet := make([][]schemas.LandscapeRow, n)
	errs := make([]error, n)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				maps[i], perNet[i], errs[i] = landscapeOf(nets[i], ctx, campaign, fixedPoints[i], settings)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	var rows []schemas.LandscapeRow
	for i := range n {
		if errs[i] != nil {
			return nil, nil, nil, errs[i]
		}
		rows = append(rows, perNet[i]...)
	}

	pairs := []schemas.LandscapePairRow{}
	sim := mat.NewSymDense(n, nil)
	rules, seeds := make([]string, n), make([]int64, n)
	for i, t := range nets {
		rules[i], seeds[i] = t.Unit.Rule, t.Seed
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			d, err := landscape.Compare(maps[i], maps[j])
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s vs %s: %w", nets[i].Unit.ID, nets[j].Unit.ID, err)
			}
			sim.SetSym(i, j, -d.Total)
			for _, m := range []struct {
				method string
				v      float64
			}{{MethodTopology, d.Total}, {MethodIndex, d.Index}, {MethodGraph, d.Graph}} {
				pairs = append(pairs, schemas.LandscapePairRow{Campaign: campaign, Task: task, Method: m.method,
					ARule: rules[i], ASeed: seeds[i], ANetwork: nets[i].Which, BRule: rules[j], BSeed: seeds[j], BNetwork: nets[j].Which,
					Value: m.v, PValue: math.NaN()})
			}
		}
	}
	rt, err := ruleTest(sim, rules, seeds, st.Permutations, landscapeStream)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("permutation test: %w", err)
	}
	summary := func(method string, value, p float64, perms int) schemas.LandscapePairRow {
		return schemas.LandscapePairRow{Campaign: campaign, Task: task, Method: method, ARule: "*", BRule: "*",
			ANetwork: nets[0].Which, BNetwork: nets[0].Which, Value: value, PValue: p, Permutations: int32(perms)}
	}
	if rt.tested {
		// observed = mean within − mean between similarity = between − within distance.
		pairs = append(pairs, summary(WithinPrefix+MethodTopology, rt.observed, rt.p, rt.permutations))
	}
	if rt.sameSeedPairs > 0 {
		// Mean distance = −mean similarity; 0 − x avoids a negative zero.
		pairs = append(pairs, summary(SameSeedPrefix+MethodTopology, 0-rt.sameSeed, math.NaN(), 0))
	}
	return rows, pairs, maps, nil
}

// landscapeOf maps the landscape of network t from its fixed_points rows
// fps and returns its rows.
func landscapeOf(t *Network, ctx context.Context, campaign string, fps []schemas.FixedPointRow, s landscape.Settings) (*landscape.Map, []schemas.LandscapeRow, error) {
	// The trajectories the fixed-point search was seeded from.
	b, err := t.EvalBatch(FixedPointRepeats)
	if err != nil {
		return nil, nil, err
	}
	traces, _ := t.Simulate(b)
	var states [][]float64
	for _, tr := range traces {
		for step := 1; step <= tr.T; step++ {
			states = append(states, tr.X[step*tr.N:(step+1)*tr.N])
		}
	}
	// Points grouped by input in the task's input order, each in row order.
	var inputs []landscape.Input
	at := map[string]int{}
	for _, c := range t.Setup.Task.FixedPointInputs() {
		at[c.Name] = len(inputs)
		inputs = append(inputs, landscape.Input{Name: c.Name, U: c.U})
	}
	types := make([][]string, len(inputs))
	for _, r := range fps {
		k, ok := at[r.Input]
		if !ok || r.Rule != t.Unit.Rule || r.Seed != t.Seed || r.Task != t.Unit.Task || r.Network != t.Which {
			return nil, nil, fmt.Errorf("fixed_points row %s/%s/%d (%s weights) input %q does not belong to %s (%s weights)",
				r.Task, r.Rule, r.Seed, r.Network, r.Input, t.Unit.ID, t.Which)
		}
		inputs[k].Points = append(inputs[k].Points, landscape.Point{X: r.X, Index: int(r.Index), Slow: r.Slow})
		types[k] = append(types[k], r.Type)
	}
	m, err := landscape.Analyze(ctx, t.Net, states, inputs, s)
	if err != nil {
		return nil, nil, fmt.Errorf("network %s: %w", t.Unit.ID, err)
	}
	var rows []schemas.LandscapeRow
	for k, im := range m.Inputs {
		for p, pm := range im.Points {
			var connects []int32
			for _, c := range pm.Connects {
				connects = append(connects, int32(c))
			}
			rows = append(rows, schemas.LandscapeRow{Campaign: campaign, Task: t.Unit.Task, Rule: t.Unit.Rule, Seed: t.Seed,
				Network: t.Which, Input: im.Name, Point: int32(p), Index: int32(pm.Index), Type: types[k][p], Slow: pm.Slow,
				PC: padNaN(pm.Coords, s.PCs), Explained: padNaN(m.PCA.Explained, s.PCs), Connects: connects})
		}
	}
	return m, rows, nil
}

// padNaN returns v padded with NaN to n values: a network with fewer units
// or states than axes asked for has fewer axes, and the pc and explained
// columns have one length per dataset.
func padNaN(v []float64, n int) []float64 {
	out := make([]float64, max(n, len(v)))
	copy(out, v)
	for i := len(v); i < len(out); i++ {
		out[i] = math.NaN()
	}
	return out
}
