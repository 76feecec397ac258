package activities

import (
	"context"
	"fmt"
	"math"

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
// fixed_points digests) it returns them with CacheHit.
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
	if st.PCs < 1 || st.ConnectSteps < 1 || st.Permutations < 0 {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: pcs = %d, connect_steps = %d, permutations = %d: need at least 1 axis and 1 step, and permutations ≥ 0",
			in.Unit.ID, st.PCs, st.ConnectSteps, st.Permutations))
	}
	settings := landscape.Settings{PCs: st.PCs, Steps: st.ConnectSteps}

	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	var rows []schemas.LandscapeRow
	maps := make([]*landscape.Map, len(in.Networks))
	rules, seeds := make([]string, len(in.Networks)), make([]int64, len(in.Networks))
	for i := range in.Networks {
		t, m, r, err := a.landscapeOf(ctx, &in, i, settings)
		if err != nil {
			return AnalysisOutput{}, err
		}
		maps[i], rules[i], seeds[i] = m, t.unit.Rule, t.seed
		rows = append(rows, r...)
	}

	n := len(maps)
	pairs := []schemas.LandscapePairRow{}
	sim := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i + 1; j < n; j++ {
			d, err := landscape.Compare(maps[i], maps[j])
			if err != nil {
				return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %s vs %s: %w", in.Unit.ID, in.Unit.Inputs[i], in.Unit.Inputs[j], err))
			}
			sim.SetSym(i, j, -d.Total)
			for _, m := range []struct {
				method string
				v      float64
			}{{MethodTopology, d.Total}, {MethodIndex, d.Index}, {MethodGraph, d.Graph}} {
				pairs = append(pairs, schemas.LandscapePairRow{Campaign: in.CampaignID, Task: in.Unit.Task, Method: m.method,
					ARule: rules[i], ASeed: seeds[i], ANetwork: "final", BRule: rules[j], BSeed: seeds[j], BNetwork: "final",
					Value: m.v, PValue: math.NaN()})
			}
		}
	}
	rt, err := ruleTest(sim, rules, seeds, st.Permutations, landscapeStream)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: permutation test: %w", in.Unit.ID, err))
	}
	summary := func(method string, value, p float64, perms int) schemas.LandscapePairRow {
		return schemas.LandscapePairRow{Campaign: in.CampaignID, Task: in.Unit.Task, Method: method, ARule: "*", BRule: "*",
			ANetwork: "final", BNetwork: "final", Value: value, PValue: p, Permutations: int32(perms)}
	}
	if rt.tested {
		// observed = mean within − mean between similarity = between − within distance.
		pairs = append(pairs, summary(withinPrefix+MethodTopology, rt.observed, rt.p, rt.permutations))
	}
	if rt.sameSeedPairs > 0 {
		// Mean distance = −mean similarity; 0 − x avoids a negative zero.
		pairs = append(pairs, summary(sameSeedPrefix+MethodTopology, 0-rt.sameSeed, math.NaN(), 0))
	}

	meta, err := a.analysisMeta(&in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	path := func(kind schemas.Kind, key string) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(in.Unit.Stage), Dataset: string(kind),
			Partitions: []store.Partition{{Name: "task", Value: in.Unit.Task}}, ContentKey: key, Format: schemas.Parquet}
	}
	// landscape first, landscape_pairs last: both must be committed for a cache hit.
	r1, err := store.WriteRows(ctx, a.Store, path(schemas.Landscape, keys[0]), meta, rows)
	if err != nil {
		return AnalysisOutput{}, err
	}
	r2, err := store.WriteRows(ctx, a.Store, path(schemas.LandscapePairs, keys[1]), meta, pairs)
	if err != nil {
		return AnalysisOutput{}, err
	}
	return AnalysisOutput{Unit: in.Unit.ID, Datasets: []Dataset{
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(schemas.Landscape), ContentKey: keys[0], Ref: r1},
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(schemas.LandscapePairs), ContentKey: keys[1], Ref: r2},
	}}, nil
}

// landscapeOf maps the landscape of input network i and returns its rows.
func (a *Activities) landscapeOf(ctx context.Context, in *AnalysisInput, i int, s landscape.Settings) (*trained, *landscape.Map, []schemas.LandscapeRow, error) {
	t, err := a.loadNetwork(ctx, &in.Networks[i])
	if err != nil {
		return nil, nil, nil, err
	}
	fps, _, err := store.ReadRows[schemas.FixedPointRow](ctx, a.Store, in.FixedPoints[i].Ref)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("activities: %s: reading the fixed points of %s: %w", in.Unit.ID, t.unit.ID, err)
	}
	// The trajectories the fixed-point search was seeded from.
	b, err := t.evalBatch(fixedPointRepeats)
	if err != nil {
		return nil, nil, nil, err
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
		if !ok || r.Rule != t.unit.Rule || r.Seed != t.seed || r.Task != t.unit.Task {
			return nil, nil, nil, permanent(fmt.Errorf("activities: %s: fixed_points row %s/%s/%d input %q does not belong to %s",
				in.Unit.ID, r.Task, r.Rule, r.Seed, r.Input, t.unit.ID))
		}
		inputs[k].Points = append(inputs[k].Points, landscape.Point{X: r.X, Index: int(r.Index), Slow: r.Slow})
		types[k] = append(types[k], r.Type)
	}
	m, err := landscape.Analyze(ctx, t.net, states, inputs, s)
	if err != nil {
		return nil, nil, nil, permanent(fmt.Errorf("activities: %s: network %s: %w", in.Unit.ID, t.unit.ID, err))
	}
	var rows []schemas.LandscapeRow
	for k, im := range m.Inputs {
		for p, pm := range im.Points {
			var connects []int32
			for _, c := range pm.Connects {
				connects = append(connects, int32(c))
			}
			rows = append(rows, schemas.LandscapeRow{Campaign: in.CampaignID, Task: t.unit.Task, Rule: t.unit.Rule, Seed: t.seed,
				Network: "final", Input: im.Name, Point: int32(p), Index: int32(pm.Index), Type: types[k][p], Slow: pm.Slow,
				PC: padNaN(pm.Coords, s.PCs), Explained: padNaN(m.PCA.Explained, s.PCs), Connects: connects})
		}
		if im.Unfollowed > 0 {
			a.log().Warn("landscape: saddles not followed", "unit", in.Unit.ID, "network", t.unit.ID, "input", im.Name, "count", im.Unfollowed)
		}
	}
	return t, m, rows, nil
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
