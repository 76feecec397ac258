package stages

import (
	"context"
	"math"

	"rulescape/core/fixedpoints"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// FixedPoints searches the fixed and slow points of n under each of its
// task's constant inputs, as the fixedpoints stage does, and returns its
// fixed_points rows (one per point, input by input, fixed points before
// slow ones), labelled with campaign.
//
// The initial states are sampled (fixedpoints.SampleInits, seeded by the
// network's seed) from the states of FixedPointRepeats trials per
// condition run without plasticity or perturbations; the stage's inits,
// max_iters and tol set Settings.Inits, MaxIter and TolQ (TolSlow stays
// max(1e-4, tol)); deflation, deflation_power and deflation_shift set
// Settings.Deflations, DeflationPower and DeflationShift, and the network's
// dt/τ Settings.Alpha (for index_map). Every row carries the measures of
// its point and the completeness estimate of its input's set (the set_*
// columns, docs/DATASETS.md). workers bounds the parallel searches (0 = all cores);
// the rows do not depend on it.
func FixedPoints(ctx context.Context, campaign string, n *Network, st pipelines.FixedPointsStage, workers int) ([]schemas.FixedPointRow, error) {
	b, err := n.EvalBatch(FixedPointRepeats)
	if err != nil {
		return nil, err
	}
	traces, _ := n.Simulate(b)
	s := fixedpoints.Settings{Inits: st.Inits, MaxIter: st.MaxIters, TolQ: st.Tol, Seed: n.Unit.Seed, Vectors: -1, Workers: workers,
		Deflations: st.Deflation, DeflationPower: st.DeflationPower, DeflationShift: st.DeflationShift, Alpha: n.Setup.Dyn.Alpha()}
	inits, err := fixedpoints.SampleInits(n.Net, traces, s)
	if err != nil {
		return nil, invalid(err)
	}
	lands, err := fixedpoints.FindInputs(ctx, n.Net, n.Setup.Task.FixedPointInputs(), inits, s)
	if err != nil {
		return nil, err
	}
	rows := []schemas.FixedPointRow{}
	for _, l := range lands {
		c := l.Completeness()
		for _, set := range []struct {
			points []fixedpoints.Point
			slow   bool
		}{{l.Fixed, false}, {l.Slow, true}} {
			for _, p := range set.points {
				r := fixedPointRow(campaign, n, l.Input, l.U, p, set.slow)
				r.SetStarts, r.SetObserved, r.SetF1, r.SetF2 = int32(c.Starts), int32(c.Observed), int32(c.F1), int32(c.F2)
				r.SetChao1, r.SetDeflated = c.Chao1, int32(c.Deflated)
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

// fixedPointRow is one point as a row. The eigenvalues over the free
// coordinates are padded with NaN to N values (clamped units have none).
func fixedPointRow(campaign string, n *Network, input string, u []float64, p fixedpoints.Point, slow bool) schemas.FixedPointRow {
	N := n.Net.N
	re, im := make([]float64, N), make([]float64, N)
	for i := range N {
		re[i], im[i] = math.NaN(), math.NaN()
		if i < len(p.Eigenvalues) {
			re[i], im[i] = real(p.Eigenvalues[i]), imag(p.Eigenvalues[i])
		}
	}
	overlap := make([]float64, 0, len(p.ReadoutOverlap)*N)
	for _, o := range p.ReadoutOverlap {
		for i := range N {
			v := math.NaN()
			if i < len(o) {
				v = o[i]
			}
			overlap = append(overlap, v)
		}
	}
	resp := make([]float64, 0, len(p.Response)*N)
	norms := make([]float64, len(p.Response))
	for k, r := range p.Response {
		resp = append(resp, r...)
		s := 0.0
		for _, v := range r {
			s += v * v
		}
		norms[k] = math.Sqrt(s)
	}
	return schemas.FixedPointRow{Campaign: campaign, Task: n.Unit.Task, Rule: n.Unit.Rule, Seed: n.Seed, Network: n.Which,
		Input: input, U: clone(u), X: clone(p.X), Q: p.Q, Slow: slow, EigRe: re, EigIm: im,
		Index: int32(p.Unstable), Type: string(p.Kind), Count: int32(p.Count),
		Deflated: int32(p.Deflated), IndexMap: int32(p.MapUnstable), Henrici: p.Henrici, HenriciRel: p.HenriciRel,
		ReadoutOverlap: overlap, Response: resp, ResponseNorm: norms}
}
