package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// computeDSA compares the dynamics of every network of one task (all its
// rules and seeds, final weights) by Dynamical Similarity Analysis and
// commits two datasets under campaigns/<id>/dsa/<kind>/task=…/:
// dsa_operators, one row per network, and dsa_pairs, one row per pair of
// networks and measure plus the summaries.
//
// Each network runs 4 trials per condition (the rsa stage's batch: no
// plasticity, no perturbations, seeded by its seed); its condition-averaged
// rates at full time resolution are delay-embedded (the stage's n_delays
// and delay_interval) and a linear operator of the stage's rank is fitted
// to them (core/dsa). Every pair of networks gets its angular DSA distance
// ("dsa"), the Frobenius distance at the same orthogonal map
// ("dsa_frobenius") and the spectral distance ("spectral"). When the task
// has networks of at least two rules, the seed-stratified permutation test
// of within-rule against between-rule distance is recorded for dsa and
// spectral as "within_vs_between:<measure>" (value = mean between − mean
// within distance over pairs of different seeds), and the mean distance of
// same-seed networks of different rules as "same_seed_between:<measure>".
// Unit has decided they are to be computed; stages.DSA computes the rows.
func (a *Activities) computeDSA(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if in.Unit.Stage != pipelines.StageDSA {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: unit %s is of stage %s, not dsa", in.Unit.ID, in.Unit.Stage))
	}
	kinds := []schemas.Kind{schemas.DSAOperators, schemas.DSAPairs}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	var st pipelines.DSAStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	if len(in.Networks) < 2 {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %d networks: DSA compares at least 2 — train more seeds or rules", in.Unit.ID, len(in.Networks)))
	}
	// Heartbeats cover the reads and writes too: a task of many networks
	// spends most of its time on them.
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	nets, err := a.loadNetworks(ctx, &in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	rows, err := stages.DSA(ctx, in.CampaignID, in.Unit.Task, nets, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}
	return writeTaskPair(ctx, a, &in, keys, rows.Operators, rows.Pairs)
}
