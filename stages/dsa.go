package stages

import (
	"context"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/dsa"
	"rulescape/core/rsa"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// dsaStream is the PCG stream of the DSA permutation tests.
const dsaStream = 0x647361 // "dsa"

// Methods of dsa_pairs rows.
const (
	MethodDSA          = "dsa"           // angular DSA distance (radians)
	MethodDSAFrobenius = "dsa_frobenius" // ‖A − C B Cᵀ‖_F at the DSA optimum
	MethodSpectral     = "spectral"      // Wasserstein distance of the eigenvalues
)

// DSAMethods are the methods of a pair of networks in dsa_pairs, in the
// order of its rows.
var DSAMethods = []string{MethodDSA, MethodDSAFrobenius, MethodSpectral}

// DSARows are the rows of one dsa unit.
type DSARows struct {
	Operators []schemas.DSAOperatorRow // the dsa_operators dataset: one row per network
	Pairs     []schemas.DSAPairRow     // the dsa_pairs dataset
}

// DSASettings returns the core/dsa settings of a dsa stage.
func DSASettings(st pipelines.DSAStage) dsa.Settings {
	return dsa.Settings{Delays: st.Delays, Interval: st.DelayInterval, Rank: st.Rank}
}

// DSAOptimizer returns the optimiser of a dsa stage: st.Restarts starts,
// the default iterations and seed (so distances do not depend on the
// campaign's seeds).
func DSAOptimizer(st pipelines.DSAStage) dsa.Optimizer {
	o := dsa.DefaultOptimizer()
	o.Restarts = st.Restarts
	return o
}

// DSA compares the dynamics of nets, all of one task, by Dynamical
// Similarity Analysis, as the dsa stage does, and returns its rows,
// labelled with campaign.
//
// Each network runs RSARepeats trials per condition (no plasticity, no
// perturbations, seeded by its seed: the batch of the rsa stage); its
// rates r^t, t = 1…T, averaged per condition at full time resolution, are
// the trajectories core/dsa fits an operator to (the stage's n_delays,
// delay_interval and rank). Every pair of networks gets its angular DSA
// distance (MethodDSA), the Frobenius distance at the same orthogonal map
// (MethodDSAFrobenius) and the spectral distance (MethodSpectral), pair by
// pair in the order (0,1), (0,2), …, (1,2), … — of these, the ones the
// stage's distances ask for (dsa: the first two; spectral: the last). When the networks span at
// least two rules, the seed-stratified permutation test of within-rule
// against between-rule distance (the stage's permutations; similarity =
// −distance) is recorded for dsa and spectral as method
// WithinPrefix+measure, a_rule = b_rule = "*", value = mean between-rule −
// mean within-rule distance over pairs of different seeds, with p_value and
// permutations; the mean distance of networks of different rules trained
// from one seed is the row SameSeedPrefix+measure (p_value NaN). workers
// bounds the parallel work (0 = all cores); the rows do not depend on it.
// Errors of the settings and inputs are Invalid; when ctx is done it
// returns ctx's error.
func DSA(ctx context.Context, campaign, task string, nets []*Network, st pipelines.DSAStage, workers int) (DSARows, error) {
	if err := ctx.Err(); err != nil {
		return DSARows{}, err
	}
	ops, pairs, err := dsaRows(ctx, campaign, task, nets, st, workers)
	if err != nil {
		if ctx.Err() != nil {
			return DSARows{}, ctx.Err()
		}
		return DSARows{}, invalid(err)
	}
	return DSARows{Operators: ops, Pairs: pairs}, nil
}

func dsaRows(ctx context.Context, campaign, task string, nets []*Network, st pipelines.DSAStage, workers int) ([]schemas.DSAOperatorRow, []schemas.DSAPairRow, error) {
	if err := st.Validate(); err != nil {
		return nil, nil, err
	}
	if len(nets) < 2 {
		return nil, nil, fmt.Errorf("%d networks: DSA compares at least 2", len(nets))
	}
	settings := DSASettings(st)
	n := len(nets)
	ops := make([]*dsa.Operator, n)
	rows := make([]schemas.DSAOperatorRow, n)
	for i, t := range nets {
		if t.Unit.Task != task {
			return nil, nil, fmt.Errorf("network %s is of task %s, not %s: DSA compares the networks of one task", t.Unit.ID, t.Unit.Task, task)
		}
		trajs, err := dsaTrajectories(t)
		if err != nil {
			return nil, nil, err
		}
		op, err := dsa.Fit(trajs, t.Net.N, settings)
		if err != nil {
			return nil, nil, fmt.Errorf("network %s: %s", t.Unit.ID, strings.TrimPrefix(err.Error(), "dsa: "))
		}
		ops[i] = op
		re, im := make([]float64, op.Rank), make([]float64, op.Rank)
		for k, e := range op.Eigen {
			re[k], im[k] = real(e), imag(e)
		}
		rows[i] = schemas.DSAOperatorRow{Campaign: campaign, Task: t.Unit.Task, Rule: t.Unit.Rule, Seed: t.Seed, Network: t.Which,
			Delays: int32(st.Delays), DelayInterval: int32(st.DelayInterval), Rank: int32(op.Rank), Effective: int32(op.Effective),
			R2: op.R2, EigenRe: re, EigenIm: im, Singular: op.Singular, A: op.A}
	}
	type measure struct {
		method string
		d      *mat.SymDense
	}
	var measures []measure // in the order of DSAMethods
	if st.Computes(pipelines.DistanceDSA) {
		ang, frob, err := dsa.DistanceAll(ctx, ops, DSAOptimizer(st), workers)
		if err != nil {
			return nil, nil, err
		}
		measures = append(measures, measure{MethodDSA, ang}, measure{MethodDSAFrobenius, frob})
	}
	if st.Computes(pipelines.DistanceSpectral) {
		spec, err := dsa.SpectralAll(ctx, ops, workers)
		if err != nil {
			return nil, nil, err
		}
		measures = append(measures, measure{MethodSpectral, spec})
	}
	rules, seeds := make([]string, n), make([]int64, n)
	for i, t := range nets {
		rules[i], seeds[i] = t.Unit.Rule, t.Seed
	}
	var pairs []schemas.DSAPairRow
	for i := range n {
		for j := i + 1; j < n; j++ {
			for _, m := range measures {
				pairs = append(pairs, schemas.DSAPairRow{Campaign: campaign, Task: task, Method: m.method,
					ARule: rules[i], ASeed: seeds[i], ANetwork: nets[i].Which, BRule: rules[j], BSeed: seeds[j], BNetwork: nets[j].Which,
					Value: m.d.At(i, j), PValue: math.NaN()})
			}
		}
	}
	summary := func(method string, value, p float64, perms int) schemas.DSAPairRow {
		return schemas.DSAPairRow{Campaign: campaign, Task: task, Method: method, ARule: "*", BRule: "*",
			ANetwork: nets[0].Which, BNetwork: nets[0].Which, Value: value, PValue: p, Permutations: int32(perms)}
	}
	for _, m := range measures {
		if m.method == MethodDSAFrobenius {
			continue
		}
		sim := mat.NewSymDense(n, nil)
		for i := range n {
			for j := i + 1; j < n; j++ {
				sim.SetSym(i, j, -m.d.At(i, j))
			}
		}
		rt, err := ruleTest(sim, rules, seeds, st.Permutations, dsaStream)
		if err != nil {
			return nil, nil, fmt.Errorf("permutation test of %s: %w", m.method, err)
		}
		if rt.tested {
			// observed = mean within − mean between similarity = between − within distance.
			pairs = append(pairs, summary(WithinPrefix+m.method, rt.observed, rt.p, rt.permutations))
		}
		if rt.sameSeedPairs > 0 {
			// Mean distance = −mean similarity; 0 − x avoids a negative zero.
			pairs = append(pairs, summary(SameSeedPrefix+m.method, 0-rt.sameSeed, math.NaN(), 0))
		}
	}
	return rows, pairs, nil
}

// dsaTrajectories returns the condition-averaged rates of t, one T × N
// trajectory per condition, from the rsa stage's batch.
func dsaTrajectories(t *Network) ([][]float64, error) {
	b, err := t.EvalBatch(RSARepeats)
	if err != nil {
		return nil, err
	}
	traces, conds := t.Simulate(b)
	T := traces[0].T
	states := make([][]float64, len(traces))
	for k, tr := range traces {
		if tr.T != T {
			return nil, fmt.Errorf("network %s: trials of %d and %d steps: DSA needs trials of equal length", t.Unit.ID, T, tr.T)
		}
		states[k] = tr.R[tr.N:]
	}
	r, err := rsa.ConditionAverage(states, conds, t.Net.N, 1)
	if err != nil {
		return nil, fmt.Errorf("network %s: %w", t.Unit.ID, err)
	}
	out := make([][]float64, len(r.Conditions))
	for c := range out {
		out[c] = r.Data[c*r.Bins*r.Units : (c+1)*r.Bins*r.Units]
	}
	return out, nil
}

// DSASummary summarizes the rows of a dsa unit.
type DSASummary struct {
	// Eigenvalues holds per network its operator's eigenvalues as
	// [re, im] pairs, by descending modulus.
	Eigenvalues [][][2]Float `json:"eigenvalues"`
	// R2 holds per network the fraction of variance its one-step fit
	// explains.
	R2 []Float `json:"r2"`
	// Distance holds per method (dsa, dsa_frobenius, spectral) the
	// networks×networks matrix of distances (diagonal 0).
	Distance map[string]Matrix `json:"distance"`
	Pairs    []PairInfo        `json:"pairs"`
}

// SummarizeDSA summarizes the rows DSA returned for n networks (of the
// methods the rows have: a stage with distances: [spectral] has spectral
// only).
func SummarizeDSA(n int, rows DSARows) (DSASummary, error) {
	prs := make([]pairRow, len(rows.Pairs))
	has := map[string]bool{}
	for i, p := range rows.Pairs {
		prs[i] = pairRow{method: p.Method, summary: p.ARule == "*", value: p.Value, p: p.PValue, perms: p.Permutations}
		has[p.Method] = true
	}
	var methods []string
	for _, m := range DSAMethods {
		if has[m] {
			methods = append(methods, m)
		}
	}
	if len(methods) == 0 {
		methods = DSAMethods
	}
	dist, pairs, err := pairMatrices(n, methods, false, 0, prs)
	if err != nil {
		return DSASummary{}, fmt.Errorf("dsa: %w", err)
	}
	s := DSASummary{Distance: dist, Pairs: pairs}
	for _, r := range rows.Operators {
		ev := make([][2]Float, len(r.EigenRe))
		for k := range ev {
			ev[k] = [2]Float{Float(r.EigenRe[k]), Float(r.EigenIm[k])}
		}
		s.Eigenvalues = append(s.Eigenvalues, ev)
		s.R2 = append(s.R2, Float(r.R2))
	}
	return s, nil
}
