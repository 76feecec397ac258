package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// computeLandscape maps the dynamical landscape of every network of one task (all
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
// topology (the stage's permutations; similarity = −distance) is recorded as method "within_vs_between:topology", a_rule =
// b_rule = "*", value = mean between-rule − mean within-rule distance over
// pairs of different seeds, with p_value and permutations; the mean distance
// of networks of different rules trained from one seed is the row
// "same_seed_between:topology" (p_value null). Unit has decided they are to
// be computed; stages.Landscape computes the rows.
func (a *Activities) computeLandscape(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
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
	var st pipelines.LandscapeStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	// Heartbeats cover the reads and writes too: a task of many networks
	// spends most of its time on them.
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	nets := make([]*stages.Network, len(in.Networks))
	fixed := make([][]schemas.FixedPointRow, len(in.Networks))
	err = loadAll(ctx, len(nets), func(ctx context.Context, i int) error {
		var err error
		if nets[i], err = a.loadNetwork(ctx, &in.Networks[i]); err != nil {
			return err
		}
		if fixed[i], _, err = store.ReadRows[schemas.FixedPointRow](ctx, a.Store, in.FixedPoints[i].Ref); err != nil {
			return fmt.Errorf("activities: %s: reading the fixed points of %s: %w", in.Unit.ID, nets[i].Unit.ID, err)
		}
		return nil
	})
	if err != nil {
		return AnalysisOutput{}, err
	}
	rows, err := stages.Landscape(ctx, in.CampaignID, in.Unit.Task, nets, fixed, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}
	for i, m := range rows.Maps {
		for _, im := range m.Inputs {
			if im.Unfollowed > 0 {
				a.log().Warn("landscape: saddles not followed", "unit", in.Unit.ID, "network", nets[i].Unit.ID, "input", im.Name, "count", im.Unfollowed)
			}
		}
	}

	return writeTaskPair(ctx, a, &in, keys, rows.Points, rows.Pairs)
}
