package activities

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/fixedpoints"
	"rulescape/core/sensitivity"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// FixedPoints searches the fixed and slow points of one trained network
// (its final weights) under each of its task's constant inputs and commits
// a fixed_points dataset, one row per point, under
// campaigns/<id>/fixedpoints/fixed_points/task=…/rule=…/seed=…/.
//
// The initial states are sampled (fixedpoints.SampleInits, seeded by the
// network's seed) from the states of 4 trials per condition run without
// plasticity or perturbations; the stage's inits, max_iters and tol set
// Settings.Inits, MaxIter and TolQ (TolSlow stays max(1e-4, tol)). When the
// dataset is committed under the unit's content key it returns it with
// CacheHit.
func (a *Activities) FixedPoints(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
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
	if out, ok, err := a.cached(ctx, &in, kinds, keys); err != nil || ok {
		return out, err
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
	rows, err := t.fixedPointRows(ctx, in.CampaignID, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, fmt.Errorf("activities: %s: %w", in.Unit.ID, err)
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

// FixedPointRows searches the fixed and slow points of n as the
// fixedpoints stage does (see Activities.FixedPoints) and returns its
// fixed_points rows, labelled with campaign. workers bounds the parallel
// searches (0 = all cores); the rows do not depend on it.
func FixedPointRows(ctx context.Context, campaign string, n *TrainedNetwork, st pipelines.FixedPointsStage, workers int) ([]schemas.FixedPointRow, error) {
	return n.t.fixedPointRows(ctx, campaign, st, workers)
}

// fixedPointRows is FixedPointRows.
func (t *trained) fixedPointRows(ctx context.Context, campaign string, st pipelines.FixedPointsStage, workers int) ([]schemas.FixedPointRow, error) {
	b, err := t.evalBatch(fixedPointRepeats)
	if err != nil {
		return nil, err
	}
	traces, _ := t.simulate(b)
	s := fixedpoints.Settings{Inits: st.Inits, MaxIter: st.MaxIters, TolQ: st.Tol, Seed: t.unit.Seed, Vectors: -1, Workers: workers}
	inits, err := fixedpoints.SampleInits(t.net, traces, s)
	if err != nil {
		return nil, permanent(err)
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	lands, err := fixedpoints.FindInputs(ctx, t.net, t.setup.Task.FixedPointInputs(), inits, s)
	stopHB()
	if err != nil {
		return nil, err
	}
	rows := []schemas.FixedPointRow{}
	for _, l := range lands {
		for _, set := range []struct {
			points []fixedpoints.Point
			slow   bool
		}{{l.Fixed, false}, {l.Slow, true}} {
			for _, p := range set.points {
				rows = append(rows, fixedPointRow(campaign, t, l.Input, l.U, p, set.slow))
			}
		}
	}
	return rows, nil
}

// fixedPointRow is one point as a row. The eigenvalues over the free
// coordinates are padded with NaN to N values (clamped units have none).
func fixedPointRow(campaign string, t *trained, input string, u []float64, p fixedpoints.Point, slow bool) schemas.FixedPointRow {
	n := t.net.N
	re, im := make([]float64, n), make([]float64, n)
	for i := range n {
		re[i], im[i] = math.NaN(), math.NaN()
		if i < len(p.Eigenvalues) {
			re[i], im[i] = real(p.Eigenvalues[i]), imag(p.Eigenvalues[i])
		}
	}
	return schemas.FixedPointRow{Campaign: campaign, Task: t.unit.Task, Rule: t.unit.Rule, Seed: t.seed, Network: t.which,
		Input: input, U: clone(u), X: clone(p.X), Q: p.Q, Slow: slow, EigRe: re, EigIm: im,
		Index: int32(p.Unstable), Type: string(p.Kind), Count: int32(p.Count)}
}

// sensitivityStream is the PCG stream of the random probe directions.
const sensitivityStream = 0x73656e73 // "sens"

// Sensitivity measures the behavioural sensitivity G_S(W) = ∂S/∂W of one
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
// shift). When the dataset is committed under the unit's content key it
// returns it with CacheHit.
func (a *Activities) Sensitivity(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
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
	if out, ok, err := a.cached(ctx, &in, kinds, keys); err != nil || ok {
		return out, err
	}
	var st pipelines.SensitivityStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	if err := checkSensitivity(st); err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}
	t, err := a.loadNetwork(ctx, &in.Networks[0])
	if err != nil {
		return AnalysisOutput{}, err
	}
	b, err := t.evalBatch(sensitivityRepeats)
	if err != nil {
		return AnalysisOutput{}, err
	}
	row, err := sensitivityRow(ctx, in.CampaignID, t, b, st)
	if err != nil {
		return AnalysisOutput{}, fmt.Errorf("activities: %s: %w", in.Unit.ID, err)
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

// checkSensitivity checks the settings of the sensitivity stage.
func checkSensitivity(st pipelines.SensitivityStage) error {
	if st.Perturbations < 1 || !(st.Scale > 0) {
		return fmt.Errorf("perturbations = %d, scale = %v: need at least one perturbation and a positive scale", st.Perturbations, st.Scale)
	}
	return nil
}

// SensitivityRow measures the behavioural sensitivity of n as the
// sensitivity stage does (see Activities.Sensitivity) and returns its
// sensitivity row, labelled with campaign.
func SensitivityRow(ctx context.Context, campaign string, n *TrainedNetwork, st pipelines.SensitivityStage) (schemas.SensitivityRow, error) {
	if err := checkSensitivity(st); err != nil {
		return schemas.SensitivityRow{}, err
	}
	b, err := n.t.evalBatch(sensitivityRepeats)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	return sensitivityRow(ctx, campaign, n.t, b, st)
}

// sensitivityRow computes the sensitivity row of one network.
func sensitivityRow(ctx context.Context, campaign string, t *trained, b *sensitivity.Batch, st pipelines.SensitivityStage) (schemas.SensitivityRow, error) {
	loss := t.setup.Learner.Loss
	n := t.net.N
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	s, g, err := sensitivity.Gradient(ctx, t.net, b, loss)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	svd, err := sensitivity.Spectrum(g, n)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	dw := make([]float64, n*n)
	for k := range dw {
		dw[k] = t.net.W[k] - t.w0[k]
	}
	row := schemas.SensitivityRow{Campaign: campaign, Task: t.unit.Task, Rule: t.unit.Rule, Seed: t.seed, Network: t.which,
		Score: s, GradNorm: frobenius(g), SingularValues: svd.Values, AlignmentDW: math.NaN(), TopFraction: math.NaN()}
	// An untrained network (ΔW = 0) or a zero gradient has no alignment.
	if a, err := sensitivity.Alignment(g, dw); err == nil {
		row.AlignmentDW = a
	}
	if f, err := svd.TopFraction(dw, 1); err == nil && row.GradNorm > 0 {
		row.TopFraction = f
	}
	row.Epsilon = st.Scale * frobenius(t.net.W)
	row.ShiftTop, row.ShiftRandom, row.DeltaSTop, row.DeltaSRandom = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if row.GradNorm == 0 || row.Epsilon == 0 {
		return row, nil // no top direction, or nothing to scale the probes by
	}
	rng := rand.New(rand.NewPCG(t.unit.Seed, sensitivityStream))
	var sumDS, sumDist float64
	for p := range st.Perturbations {
		eff, err := sensitivity.PerturbationEffect(ctx, t.net, b, loss, svd.Direction(0), row.Epsilon, rng)
		if err != nil {
			return row, err
		}
		if p == 0 {
			row.DeltaSTop, row.ShiftTop = eff.Along.DeltaS, math.Sqrt(eff.Along.Distance)
		}
		sumDS += eff.Random.DeltaS
		sumDist += eff.Random.Distance
	}
	row.DeltaSRandom = sumDS / float64(st.Perturbations)
	row.ShiftRandom = math.Sqrt(sumDist / float64(st.Perturbations))
	return row, nil
}

func frobenius(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}
