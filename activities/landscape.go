package activities

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
	"rulescape/store"
)

// landscapeStream is the PCG stream of the topology permutation test.
const landscapeStream = 0x6c616e64 // "land"

// Landscape methods of landscape_pairs rows.
const (
	MethodTopology = "topology" // index + graph
	MethodIndex    = "index"    // counts by index
	MethodGraph    = "graph"    // saddle and attractor degrees
)

// Landscape maps the dynamical landscape of every network of one task (all
// its rules and seeds, final weights) from the fixed_points datasets of
// their fixedpoints units (AnalysisInput.FixedPoints) and commits two
// datasets under campaigns/<id>/landscape/<kind>/task=…/: landscape, one row
// per fixed or slow point, and landscape_pairs, one row per pair of
// networks and method plus the summaries.
//
// Each network's trajectories are the states x^t, t = 1…T, of the batch its
// fixedpoints unit sampled initial states from (4 trials per condition, no
// plasticity, no perturbations, seeded by its seed), rebuilt exactly. Their
// top `pcs` principal axes place every point; each index-1 fixed point's
// unstable manifold is followed for at most `connect_steps` Euler steps of
// 0.1 τ to the attractors of its input (core/landscape). Every pair of
// networks gets its topology distance ("topology") and its parts ("index",
// "graph"). When the task has networks of at least two rules, the
// seed-stratified permutation test of within-rule against between-rule
// topology (the stage's permutations; similarity = −distance, see
// ruleTest) is recorded as method "within_vs_between:topology", a_rule =
// b_rule = "*", value = mean between-rule − mean within-rule distance over
// pairs of different seeds, with p_value and permutations; the mean distance
// of networks of different rules trained from one seed is the row
// "same_seed_between:topology" (p_value null). When both datasets are
// committed under the unit's content keys (over the networks and
// fixed_points digests) it returns them with CacheHit. LandscapeRows
// computes the rows.
func (a *Activities) Landscape(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if in.Unit.Stage != pipelines.StageLandscape {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: unit %s is of stage %s, not landscape", in.Unit.ID, in.Unit.Stage))
	}
	if len(in.Networks) == 0 || len(in.FixedPoints) != len(in.Networks) {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %d networks and %d fixed_points datasets: pass the fixed points of every input network (run the fixedpoints stage first)",
			in.Unit.ID, len(in.Networks), len(in.FixedPoints)))
	}
	kinds := []schemas.Kind{schemas.Landscape, schemas.LandscapePairs}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	if out, ok, err := a.cached(ctx, &in, kinds, keys); err != nil || ok {
		return out, err
	}
	var st pipelines.LandscapeStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	if err := checkLandscape(st); err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}

	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	nets := make([]*trained, len(in.Networks))
	fixed := make([][]schemas.FixedPointRow, len(in.Networks))
	for i := range in.Networks {
		if nets[i], err = a.loadNetwork(ctx, &in.Networks[i]); err != nil {
			return AnalysisOutput{}, err
		}
		if fixed[i], _, err = store.ReadRows[schemas.FixedPointRow](ctx, a.Store, in.FixedPoints[i].Ref); err != nil {
			return AnalysisOutput{}, fmt.Errorf("activities: %s: reading the fixed points of %s: %w", in.Unit.ID, nets[i].unit.ID, err)
		}
	}
	rows, pairs, maps, err := landscapeRows(ctx, in.CampaignID, in.Unit.Task, nets, fixed, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	for i, m := range maps {
		for _, im := range m.Inputs {
			if im.Unfollowed > 0 {
				a.log().Warn("landscape: saddles not followed", "unit", in.Unit.ID, "network", nets[i].unit.ID, "input", im.Name, "count", im.Unfollowed)
			}
		}
	}

	return writeTaskPair(ctx, a, &in, keys, rows, pairs)
}

// checkLandscape checks the landscape stage's settings.
func checkLandscape(st pipelines.LandscapeStage) error {
	if st.PCs < 1 || st.ConnectSteps < 1 || st.Permutations < 0 {
		return fmt.Errorf("pcs = %d, connect_steps = %d, permutations = %d: need at least 1 axis and 1 step, and permutations ≥ 0",
			st.PCs, st.ConnectSteps, st.Permutations)
	}
	return nil
}

// LandscapeRows maps the landscape of nets, all of one task, from their
// fixed points as the landscape stage does (see Activities.Landscape) and
// returns its landscape rows (one per fixed or slow point, network by
// network) and landscape_pairs rows, labelled with campaign.
// fixedPoints[i] holds the fixed_points rows of nets[i] — the stage's
// fixedpoints dataset, or FixedPointRows of the network — in their order.
// workers bounds the networks mapped in parallel (0 = all cores); the rows
// do not depend on it.
func LandscapeRows(ctx context.Context, campaign, task string, nets []*TrainedNetwork, fixedPoints [][]schemas.FixedPointRow, st pipelines.LandscapeStage, workers int) ([]schemas.LandscapeRow, []schemas.LandscapePairRow, error) {
	ts := make([]*trained, len(nets))
	for i, n := range nets {
		ts[i] = n.t
	}
	rows, pairs, _, err := landscapeRows(ctx, campaign, task, ts, fixedPoints, st, workers)
	return rows, pairs, err
}

// landscapeRows is LandscapeRows; it also returns the networks' maps.
func landscapeRows(ctx context.Context, campaign, task string, nets []*trained, fixedPoints [][]schemas.FixedPointRow, st pipelines.LandscapeStage, workers int) ([]schemas.LandscapeRow, []schemas.LandscapePairRow, []*landscape.Map, error) {
	if err := checkLandscape(st); err != nil {
		return nil, nil, nil, err
	}
	if len(nets) == 0 || len(fixedPoints) != len(nets) {
		return nil, nil, nil, fmt.Errorf("%d networks and %d sets of fixed points: pass the fixed points of every network", len(nets), len(fixedPoints))
	}
	for _, t := range nets {
		if t.unit.Task != task {
			return nil, nil, nil, fmt.Errorf("network %s is of task %s, not %s: the landscape stage compares the networks of one task", t.unit.ID, t.unit.Task, task)
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
				maps[i], perNet[i], errs[i] = nets[i].landscapeOf(ctx, campaign, fixedPoints[i], settings)
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
		rules[i], seeds[i] = t.unit.Rule, t.seed
	}
	for i := range n {
		for j := i + 1; j < n; j++ {
			d, err := landscape.Compare(maps[i], maps[j])
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s vs %s: %w", nets[i].unit.ID, nets[j].unit.ID, err)
			}
			sim.SetSym(i, j, -d.Total)
			for _, m := range []struct {
				method string
				v      float64
			}{{MethodTopology, d.Total}, {MethodIndex, d.Index}, {MethodGraph, d.Graph}} {
				pairs = append(pairs, schemas.LandscapePairRow{Campaign: campaign, Task: task, Method: m.method,
					ARule: rules[i], ASeed: seeds[i], ANetwork: nets[i].which, BRule: rules[j], BSeed: seeds[j], BNetwork: nets[j].which,
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
			ANetwork: nets[0].which, BNetwork: nets[0].which, Value: value, PValue: p, Permutations: int32(perms)}
	}
	if rt.tested {
		// observed = mean within − mean between similarity = between − within distance.
		pairs = append(pairs, summary(withinPrefix+MethodTopology, rt.observed, rt.p, rt.permutations))
	}
	if rt.sameSeedPairs > 0 {
		// Mean distance = −mean similarity; 0 − x avoids a negative zero.
		pairs = append(pairs, summary(sameSeedPrefix+MethodTopology, 0-rt.sameSeed, math.NaN(), 0))
	}
	return rows, pairs, maps, nil
}

// landscapeOf maps the landscape of the network from its fixed_points rows
// fps and returns its rows.
func (t *trained) landscapeOf(ctx context.Context, campaign string, fps []schemas.FixedPointRow, s landscape.Settings) (*landscape.Map, []schemas.LandscapeRow, error) {
	// The trajectories the fixed-point search was seeded from.
	b, err := t.evalBatch(fixedPointRepeats)
	if err != nil {
		return nil, nil, err
	}
	traces, _ := t.simulate(b)
	var states [][]float64
	for _, tr := range traces {
		for step := 1; step <= tr.T; step++ {
			states = append(states, tr.X[step*tr.N:(step+1)*tr.N])
		}
	}
	// Points grouped by input in the task's input order, each in row order.
	var inputs []landscape.Input
	at := map[string]int{}
	for _, c := range t.setup.Task.FixedPointInputs() {
		at[c.Name] = len(inputs)
		inputs = append(inputs, landscape.Input{Name: c.Name, U: c.U})
	}
	types := make([][]string, len(inputs))
	for _, r := range fps {
		k, ok := at[r.Input]
		if !ok || r.Rule != t.unit.Rule || r.Seed != t.seed || r.Task != t.unit.Task || r.Network != t.which {
			return nil, nil, fmt.Errorf("fixed_points row %s/%s/%d (%s weights) input %q does not belong to %s (%s weights)",
				r.Task, r.Rule, r.Seed, r.Network, r.Input, t.unit.ID, t.which)
		}
		inputs[k].Points = append(inputs[k].Points, landscape.Point{X: r.X, Index: int(r.Index), Slow: r.Slow})
		types[k] = append(types[k], r.Type)
	}
	m, err := landscape.Analyze(ctx, t.net, states, inputs, s)
	if err != nil {
		return nil, nil, fmt.Errorf("network %s: %w", t.unit.ID, err)
	}
	var rows []schemas.LandscapeRow
	for k, im := range m.Inputs {
		for p, pm := range im.Points {
			var connects []int32
			for _, c := range pm.Connects {
				connects = append(connects, int32(c))
			}
			rows = append(rows, schemas.LandscapeRow{Campaign: campaign, Task: t.unit.Task, Rule: t.unit.Rule, Seed: t.seed,
				Network: t.which, Input: im.Name, Point: int32(p), Index: int32(pm.Index), Type: types[k][p], Slow: pm.Slow,
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
