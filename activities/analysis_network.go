package activities

import (
	"context"
	"fmt"

	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// computeFixedPoints searches the fixed and slow points of one trained network
// (its final weights) under each of its task's constant inputs and commits
// a fixed_points dataset, one row per point, under
// campaigns/<id>/fixedpoints/fixed_points/task=…/rule=…/seed=…/.
//
// The initial states are sampled (fixedpoints.SampleInits, seeded by the
// network's seed) from the states of 4 trials per condition run without
// plasticity or perturbations; the stage's inits, max_iters and tol set
// Settings.Inits, MaxIter and TolQ (TolSlow stays max(1e-4, tol)); the
// rows are stages.FixedPoints'. Unit has decided it
// is to be computed (no cache lookup here).
func (a *Activities) computeFixedPoints(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if err := perNetwork(&in, pipelines.StageFixedPoints); err != nil {
		return AnalysisOutput{}, err
	}
	kinds := []schemas.Kind{schemas.FixedPoints}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	var st pipelines.FixedPointsStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	t, err := a.loadNetwork(ctx, &in.Networks[0])
	if err != nil {
		return AnalysisOutput{}, err
	}
	a.log().Info("fixedpoints", "unit", in.Unit.ID, "inits per input", st.Inits)
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	rows, err := stages.FixedPoints(ctx, in.CampaignID, t, st, a.Workers)
	stopHB()
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}
	meta, err := a.analysisMeta(&in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	ref, err := store.WriteRows(ctx, a.Store, networkPath(&in, t, schemas.FixedPoints, keys[0]), meta, rows)
	if err != nil {
		return AnalysisOutput{}, err
	}
	return AnalysisOutput{Unit: in.Unit.ID, Datasets: []Dataset{{Unit: in.Unit.ID, Stage: string(in.Unit.Stage),
		Kind: string(schemas.FixedPoints), ContentKey: keys[0], Ref: ref}}}, nil
}

// computeSensitivity measures the behavioural sensitivity G_S(W) = ∂S/∂W of one
// trained network (final weights) on a frozen evaluation batch of 4 trials
// per condition (no plasticity, no perturbations, seeded by the network's
// seed; S is the training loss) and commits a sensitivity dataset, one row,
// under campaigns/<id>/sensitivity/sensitivity/task=…/rule=…/seed=…/.
//
// The row holds S, ‖G_S‖_F, the singular values of G_S, the cosine between
// G_S and ΔW = W_final − W⁰, the fraction of ‖ΔW‖² in the top singular
// subspace, and the effect of perturbations of Frobenius norm
// ε = scale·‖W_final‖_F along the top singular direction and along
// `perturbations` random directions (their mean ΔS, their RMS trajectory
// shift); the row is stages.Sensitivity's. Unit has decided it is
// to be computed (no cache lookup here).
func (a *Activities) computeSensitivity(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
	if err := a.check(); err != nil {
		return AnalysisOutput{}, err
	}
	if err := perNetwork(&in, pipelines.StageSensitivity); err != nil {
		return AnalysisOutput{}, err
	}
	kinds := []schemas.Kind{schemas.Sensitivity}
	keys, err := a.analysisKeys(&in, kinds)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	var st pipelines.SensitivityStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	t, err := a.loadNetwork(ctx, &in.Networks[0])
	if err != nil {
		return AnalysisOutput{}, err
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	row, err := stages.Sensitivity(ctx, in.CampaignID, t, st)
	stopHB()
	if err != nil {
		return AnalysisOutput{}, stageError(in.Unit.ID, err)
	}
	meta, err := a.analysisMeta(&in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	ref, err := store.WriteRows(ctx, a.Store, networkPath(&in, t, schemas.Sensitivity, keys[0]), meta, []schemas.SensitivityRow{row})
	if err != nil {
		return AnalysisOutput{}, err
	}
	return AnalysisOutput{Unit: in.Unit.ID, Datasets: []Dataset{{Unit: in.Unit.ID, Stage: string(in.Unit.Stage),
		Kind: string(schemas.Sensitivity), ContentKey: keys[0], Ref: ref}}}, nil
}
