package stages

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"rulescape/core/sensitivity"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// sensitivityStream is the PCG stream of the random probe directions.
const sensitivityStream = 0x73656e73 // "sens"

// Sensitivity measures the behavioural sensitivity G_S(W) = ∂S/∂W of n, as
// the sensitivity stage does, and returns its sensitivity row, labelled
// with campaign. S is the training loss on a frozen evaluation batch of
// SensitivityRepeats trials per condition (no plasticity, no
// perturbations, seeded by the network's seed).
//
// The row holds S, ‖G_S‖_F, the singular values of G_S, the cosine between
// G_S and ΔW = W − W⁰, the fraction of ‖ΔW‖² in the top singular subspace,
// and the effect of perturbations of Frobenius norm ε = scale·‖W‖_F along
// the top singular direction and along `perturbations` random directions
// (their mean ΔS, their RMS trajectory shift).
func Sensitivity(ctx context.Context, campaign string, n *Network, st pipelines.SensitivityStage) (schemas.SensitivityRow, error) {
	if st.Perturbations < 1 || !(st.Scale > 0) {
		return schemas.SensitivityRow{}, invalid(fmt.Errorf("perturbations = %d, scale = %v: need at least one perturbation and a positive scale", st.Perturbations, st.Scale))
	}
	b, err := n.EvalBatch(SensitivityRepeats)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	loss := n.Setup.Learner.Loss
	N := n.Net.N
	s, g, err := sensitivity.Gradient(ctx, n.Net, b, loss)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	svd, err := sensitivity.Spectrum(g, N)
	if err != nil {
		return schemas.SensitivityRow{}, err
	}
	dw := make([]float64, N*N)
	for k := range dw {
		dw[k] = n.Net.W[k] - n.W0[k]
	}
	row := schemas.SensitivityRow{Campaign: campaign, Task: n.Unit.Task, Rule: n.Unit.Rule, Seed: n.Seed, Network: n.Which,
		Score: s, GradNorm: sensitivity.Norm(g), SingularValues: svd.Values, AlignmentDW: math.NaN(), TopFraction: math.NaN()}
	// An untrained network (ΔW = 0) or a zero gradient has no alignment.
	if a, err := sensitivity.Alignment(g, dw); err == nil {
		row.AlignmentDW = a
	}
	if f, err := svd.TopFraction(dw, 1); err == nil && row.GradNorm > 0 {
		row.TopFraction = f
	}
	row.Epsilon = st.Scale * sensitivity.Norm(n.Net.W)
	row.ShiftTop, row.ShiftRandom, row.DeltaSTop, row.DeltaSRandom = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if row.GradNorm == 0 || row.Epsilon == 0 {
		return row, nil // no top direction, or nothing to scale the probes by
	}
	rng := rand.New(rand.NewPCG(n.Unit.Seed, sensitivityStream))
	var sumDS, sumDist float64
	for p := range st.Perturbations {
		eff, err := sensitivity.PerturbationEffect(ctx, n.Net, b, loss, svd.Direction(0), row.Epsilon, rng)
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
