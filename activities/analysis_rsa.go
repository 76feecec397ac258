package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
)

// computeRSA compares the representations of every network of one task (all its
// rules and seeds, final weights) and commits two datasets under
// campaigns/<id>/rsa/<kind>/task=…/: rdms, one row per network, and
// rsa_pairs, one row per pair of networks and measure.
//
// Each network runs 4 trials per condition (no plasticity, no
// perturbations, seeded by its seed); its rates r^t, t = 1…T, are averaged
// per condition and over 10 consecutive time bins (rsa.ConditionAverage),
// giving K = conditions × 10 stimuli labelled "<condition>@<bin>" (epoch
// "all", space "r"). Its RDM uses the stage's metric. The pairs are
// compared by Spearman correlation of their RDMs ("spearman"), linear CKA
// of their responses ("cka") and Procrustes shape distance ("procrustes").
//
// When the task has networks of at least two rules and some rule has two,
// the permutation test of within-rule against between-rule similarity (the
// stage's permutations) is recorded for spearman and cka as
// one summary row each: method "within_vs_between:<measure>", a_rule =
// b_rule = "*", seeds 0 and networks "final", value = mean within − mean
// between over pairs of different seeds, p_value and permutations set.
// Networks of one seed share W⁰ and their trial draws, so the test is
// stratified by seed, and the mean similarity of same-seed networks of
// different rules gets its own row "same_seed_between:<measure>" (value
// that mean, p_value null) whenever there are such pairs. Pair rows have
// p_value null (the rows are stages.RSA's). Unit has decided they
// are to be computed.
func (a *Activities) computeRSA(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if in.Unit.Stage != pipelines.StageRSA {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: unit %s is of stage %s, not rsa", in.Unit.ID, in.Unit.Stage))
	}
	kinds := []schemas.Kind{schemas.RDMs, schemas.RSAPairs}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	var st pipelines.RSAStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	if len(in.Networks) < 2 {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %d networks: RSA compares at least 2 — train more seeds or rules", in.Unit.ID, len(in.Networks)))
	}
	// Heartbeats cover the reads and writes too: a task of many networks
	// spends most of its time on them.
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	nets, err := a.loadNetworks(ctx, &in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	rows, err := stages.RSA(ctx, in.CampaignID, in.Unit.Task, nets, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}

	return writeTaskPair(ctx, a, &in, keys, rows.RDMs, rows.Pairs)
}
