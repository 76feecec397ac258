package activities

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/store"
)

// rsaStream is the PCG stream of the permutation test's shuffles.
const rsaStream = 0x727361 // "rsa"

// RSA method names of rsa_pairs rows beyond the RDM comparisons.
const (
	MethodCKA        = "cka"
	MethodProcrustes = "procrustes"
	// withinPrefix starts the method of a summary row of the permutation
	// test, e.g. "within_vs_between:spearman".
	withinPrefix = "within_vs_between:"
)

// RSA compares the representations of every network of one task (all its
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
// the permutation test of within-rule against between-rule similarity
// (rsa.PermutationTest, the stage's permutations) is recorded for spearman
// and cka as one summary row each: method "within_vs_between:<measure>",
// a_rule = b_rule = "*", seeds 0 and networks "final", value =
// mean within − mean between, p_value and permutations set. Pair rows have
// p_value null. When both datasets are committed under the unit's content
// keys it returns them with CacheHit.
func (a *Activities) RSA(ctx context.Context, in AnalysisInput) (AnalysisOutput, error) {
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
	if out, ok, err := a.cached(ctx, &in, kinds, keys); err != nil || ok {
		return out, err
	}
	var st pipelines.RSAStage
	if err := decodeSettings(&in.Unit, &st); err != nil {
		return AnalysisOutput{}, err
	}
	if len(in.Networks) < 2 {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %d networks: RSA compares at least 2 — train more seeds or rules", in.Unit.ID, len(in.Networks)))
	}
	nets := make([]*trained, len(in.Networks))
	for i := range in.Networks {
		if nets[i], err = a.loadNetwork(ctx, &in.Networks[i]); err != nil {
			return AnalysisOutput{}, err
		}
	}
	rdmRows, pairs, err := rsaRows(ctx, in.CampaignID, in.Unit.Task, nets, st, a.Workers)
	if err != nil {
		return AnalysisOutput{}, permanent(fmt.Errorf("activities: %s: %w", in.Unit.ID, err))
	}

	meta, err := a.analysisMeta(&in)
	if err != nil {
		return AnalysisOutput{}, err
	}
	path := func(kind schemas.Kind, key string) store.DatasetPath {
		return store.DatasetPath{Campaign: in.CampaignID, Stage: string(in.Unit.Stage), Dataset: string(kind),
			Partitions: []store.Partition{{Name: "task", Value: in.Unit.Task}}, ContentKey: key, Format: schemas.Parquet}
	}
	// rdms first, rsa_pairs last: both must be committed for a cache hit.
	r1, err := store.WriteRows(ctx, a.Store, path(schemas.RDMs, keys[0]), meta, rdmRows)
	if err != nil {
		return AnalysisOutput{}, err
	}
	r2, err := store.WriteRows(ctx, a.Store, path(schemas.RSAPairs, keys[1]), meta, pairs)
	if err != nil {
		return AnalysisOutput{}, err
	}
	return AnalysisOutput{Unit: in.Unit.ID, Datasets: []Dataset{
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(schemas.RDMs), ContentKey: keys[0], Ref: r1},
		{Unit: in.Unit.ID, Stage: string(in.Unit.Stage), Kind: string(schemas.RSAPairs), ContentKey: keys[1], Ref: r2},
	}}, nil
}

// RSARows compares the representations of nets, all of one task, as the
// rsa stage does (see Activities.RSA) and returns its rdms rows (one per
// network) and rsa_pairs rows, labelled with campaign. workers bounds the
// parallel comparisons (0 = all cores); the rows do not depend on it.
func RSARows(ctx context.Context, campaign, task string, nets []*TrainedNetwork, st pipelines.RSAStage, workers int) ([]schemas.RDMRow, []schemas.RSAPairRow, error) {
	ts := make([]*trained, len(nets))
	for i, n := range nets {
		ts[i] = n.t
	}
	return rsaRows(ctx, campaign, task, ts, st, workers)
}

// rsaRows is RSARows.
func rsaRows(ctx context.Context, campaign, task string, nets []*trained, st pipelines.RSAStage, workers int) ([]schemas.RDMRow, []schemas.RSAPairRow, error) {
	var metric rsa.Metric
	switch st.Metric {
	case "correlation", "":
		metric, st.Metric = rsa.Correlation, "correlation"
	case "euclidean":
		metric = rsa.SqEuclideanPerUnit
	default:
		return nil, nil, fmt.Errorf("metric %q: want correlation or euclidean", st.Metric)
	}
	if len(nets) < 2 {
		return nil, nil, fmt.Errorf("%d networks: RSA compares at least 2", len(nets))
	}
	_, stopHB := keepAlive(ctx, keepAliveEvery)
	defer stopHB()
	resps := make([]*rsa.Responses, len(nets))
	var labels []string
	for i, t := range nets {
		if t.unit.Task != task {
			return nil, nil, fmt.Errorf("network %s is of task %s, not %s: RSA compares the networks of one task", t.unit.ID, t.unit.Task, task)
		}
		b, err := t.evalBatch(rsaRepeats)
		if err != nil {
			return nil, nil, err
		}
		traces, conds := t.simulate(b)
		T := traces[0].T
		states := make([][]float64, len(traces))
		for k, tr := range traces {
			if tr.T != T {
				return nil, nil, fmt.Errorf("trials of %d and %d steps: RSA needs trials of equal length", T, tr.T)
			}
			states[k] = tr.R[tr.N:]
		}
		bin := max(T/rsaBins, 1)
		r, err := rsa.ConditionAverage(states, conds, t.net.N, bin)
		if err != nil {
			return nil, nil, fmt.Errorf("network %s: %w", t.unit.ID, err)
		}
		if i == 0 {
			names := conditionNames(t.setup.Task)
			for _, c := range r.Conditions {
				for k := range r.Bins {
					labels = append(labels, fmt.Sprintf("%s@%d", names[c], k))
				}
			}
		} else if r.Stimuli() != resps[0].Stimuli() {
			return nil, nil, fmt.Errorf("network %s has %d stimuli, %s has %d: the networks of a task must share its trials",
				t.unit.ID, r.Stimuli(), nets[0].unit.ID, resps[0].Stimuli())
		}
		resps[i] = r
	}

	k := resps[0].Stimuli()
	rdms := make([][]float64, len(resps))
	rdmRows := make([]schemas.RDMRow, len(resps))
	xs := make([]mat.Matrix, len(resps))
	for i, r := range resps {
		d, err := rsa.RDM(r, metric)
		if err != nil {
			return nil, nil, fmt.Errorf("network %s: %w", nets[i].unit.ID, err)
		}
		sq, err := rsa.Square(d, k)
		if err != nil {
			return nil, nil, err
		}
		full := make([]float64, k*k)
		for p := range k {
			for q := range k {
				full[p*k+q] = sq.At(p, q)
			}
		}
		rdms[i], xs[i] = d, r.Matrix()
		t := nets[i]
		rdmRows[i] = schemas.RDMRow{Campaign: campaign, Task: t.unit.Task, Rule: t.unit.Rule, Seed: t.seed, Network: t.which,
			Space: "r", Epoch: "all", Metric: st.Metric, K: int32(k), Labels: labels, D: full}
	}
	measures := []struct {
		method string
		sim    func() (*mat.SymDense, error)
		test   bool
	}{
		{"spearman", func() (*mat.SymDense, error) { return rsa.CompareAll(rdms, rsa.Spearman, workers) }, true},
		{MethodCKA, func() (*mat.SymDense, error) { return rsa.LinearCKAAll(xs, workers) }, true},
		{MethodProcrustes, func() (*mat.SymDense, error) { return rsa.ProcrustesAll(xs, false, workers) }, false},
	}
	ruleIDs := map[string]int{}
	groups := make([]int, len(nets))
	for i, t := range nets {
		if _, ok := ruleIDs[t.unit.Rule]; !ok {
			ruleIDs[t.unit.Rule] = len(ruleIDs)
		}
		groups[i] = ruleIDs[t.unit.Rule]
	}
	testable := len(ruleIDs) >= 2 && len(ruleIDs) < len(nets) && st.Permutations > 0
	var pairs []schemas.RSAPairRow
	for _, m := range measures {
		s, err := m.sim()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m.method, err)
		}
		for i := range nets {
			for j := i + 1; j < len(nets); j++ {
				pairs = append(pairs, schemas.RSAPairRow{Campaign: campaign, Task: task, Space: "r", Epoch: "all", Method: m.method,
					ARule: nets[i].unit.Rule, ASeed: nets[i].seed, ANetwork: nets[i].which,
					BRule: nets[j].unit.Rule, BSeed: nets[j].seed, BNetwork: nets[j].which,
					Value: s.At(i, j), PValue: math.NaN()})
			}
		}
		if m.test && testable {
			rng := rand.New(rand.NewPCG(0, rsaStream))
			p, err := rsa.PermutationTest(s, groups, st.Permutations, rng)
			if err != nil {
				return nil, nil, fmt.Errorf("permutation test of %s: %w", m.method, err)
			}
			pairs = append(pairs, schemas.RSAPairRow{Campaign: campaign, Task: task, Space: "r", Epoch: "all",
				Method: withinPrefix + m.method, ARule: "*", BRule: "*", ANetwork: nets[0].which, BNetwork: nets[0].which,
				Value: p.Observed, PValue: p.P, Permutations: int32(p.Permutations)})
		}
	}
	return rdmRows, pairs, nil
}
