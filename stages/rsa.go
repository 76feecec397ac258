package stages

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"rulescape/core/rsa"
	"rulescape/pipelines"
	"rulescape/schemas"
)

// rsaStream is the PCG stream of the RSA permutation test's shuffles.
const rsaStream = 0x727361 // "rsa"

// Methods of rsa_pairs rows, and the prefixes of the summary rows of the
// rsa and landscape stages.
const (
	MethodSpearman   = "spearman"   // Spearman correlation of the RDMs
	MethodCKA        = "cka"        // linear CKA of the responses
	MethodProcrustes = "procrustes" // Procrustes shape distance
	// WithinPrefix starts the method of a summary row of the permutation
	// test of within-rule against between-rule similarity, e.g.
	// "within_vs_between:spearman".
	WithinPrefix = "within_vs_between:"
	// SameSeedPrefix starts the method of the summary row of the mean
	// similarity (rsa) or distance (landscape) of networks of different
	// rules trained from one seed, e.g. "same_seed_between:spearman".
	SameSeedPrefix = "same_seed_between:"
)

// RSARows are the rows of one rsa unit.
type RSARows struct {
	RDMs  []schemas.RDMRow     // the rdms dataset: one row per network
	Pairs []schemas.RSAPairRow // the rsa_pairs dataset
}

// RSA compares the representations of nets, all of one task, as the rsa
// stage does, and returns its rows, labelled with campaign.
//
// Each network runs RSARepeats trials per condition (no plasticity, no
// perturbations, seeded by its seed); its rates r^t, t = 1…T, are averaged
// per condition and over RSABins consecutive time bins
// (rsa.ConditionAverage), giving K = conditions × RSABins stimuli labelled
// "<condition>@<bin>" (epoch "all", space "r"). Its RDM uses the stage's
// metric. The pairs are compared by Spearman correlation of their RDMs
// (MethodSpearman), linear CKA of their responses (MethodCKA) and
// Procrustes shape distance (MethodProcrustes); their rows come method by
// method, each in the order (0,1), (0,2), …, (1,2), …, followed by the
// method's summaries.
//
// When the networks span at least two rules and some rule has two, the
// permutation test of within-rule against between-rule similarity (the
// stage's permutations) is recorded for spearman and cka as one summary
// row each: method WithinPrefix+measure, a_rule = b_rule = "*", seeds 0,
// value = mean within − mean between over pairs of different seeds,
// p_value and permutations set. Networks of one seed share W⁰ and their
// trial draws, so the test is stratified by seed, and the mean similarity
// of same-seed networks of different rules gets its own row
// SameSeedPrefix+measure (value that mean, p_value NaN) whenever there are
// such pairs. Pair rows have p_value NaN. workers bounds the parallel
// comparisons (0 = all cores); the rows do not depend on it. Every error
// is Invalid: the same networks give the same error.
func RSA(ctx context.Context, campaign, task string, nets []*Network, st pipelines.RSAStage, workers int) (RSARows, error) {
	if err := ctx.Err(); err != nil {
		return RSARows{}, err
	}
	rdms, pairs, err := rsaRows(campaign, task, nets, st, workers)
	if err != nil {
		return RSARows{}, invalid(err)
	}
	return RSARows{RDMs: rdms, Pairs: pairs}, nil
}

func rsaRows(campaign, task string, nets []*Network, st pipelines.RSAStage, workers int) ([]schemas.RDMRow, []schemas.RSAPairRow, error) {
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
	resps := make([]*rsa.Responses, len(nets))
	var labels []string
	for i, t := range nets {
		if t.Unit.Task != task {
			return nil, nil, fmt.Errorf("network %s is of task %s, not %s: RSA compares the networks of one task", t.Unit.ID, t.Unit.Task, task)
		}
		b, err := t.EvalBatch(RSARepeats)
		if err != nil {
			return nil, nil, err
		}
		traces, conds := t.Simulate(b)
		T := traces[0].T
		states := make([][]float64, len(traces))
		for k, tr := range traces {
			if tr.T != T {
				return nil, nil, fmt.Errorf("trials of %d and %d steps: RSA needs trials of equal length", T, tr.T)
			}
			states[k] = tr.R[tr.N:]
		}
		bin := max(T/RSABins, 1)
		r, err := rsa.ConditionAverage(states, conds, t.Net.N, bin)
		if err != nil {
			return nil, nil, fmt.Errorf("network %s: %w", t.Unit.ID, err)
		}
		if i == 0 {
			names := t.Setup.Task.Spec().Conditions
			for _, c := range r.Conditions {
				for k := range r.Bins {
					labels = append(labels, fmt.Sprintf("%s@%d", names[c], k))
				}
			}
		} else if r.Stimuli() != resps[0].Stimuli() {
			return nil, nil, fmt.Errorf("network %s has %d stimuli, %s has %d: the networks of a task must share its trials",
				t.Unit.ID, r.Stimuli(), nets[0].Unit.ID, resps[0].Stimuli())
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
			return nil, nil, fmt.Errorf("network %s: %w", nets[i].Unit.ID, err)
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
		rdmRows[i] = schemas.RDMRow{Campaign: campaign, Task: t.Unit.Task, Rule: t.Unit.Rule, Seed: t.Seed, Network: t.Which,
			Space: "r", Epoch: "all", Metric: st.Metric, K: int32(k), Labels: labels, D: full}
	}
	measures := []struct {
		method string
		sim    func() (*mat.SymDense, error)
		test   bool
	}{
		{MethodSpearman, func() (*mat.SymDense, error) { return rsa.CompareAll(rdms, rsa.Spearman, workers) }, true},
		{MethodCKA, func() (*mat.SymDense, error) { return rsa.LinearCKAAll(xs, workers) }, true},
		{MethodProcrustes, func() (*mat.SymDense, error) { return rsa.ProcrustesAll(xs, false, workers) }, false},
	}
	rules, seeds := make([]string, len(nets)), make([]int64, len(nets))
	for i, t := range nets {
		rules[i], seeds[i] = t.Unit.Rule, t.Seed
	}
	var pairs []schemas.RSAPairRow
	for _, m := range measures {
		s, err := m.sim()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", m.method, err)
		}
		for i := range nets {
			for j := i + 1; j < len(nets); j++ {
				pairs = append(pairs, schemas.RSAPairRow{Campaign: campaign, Task: task, Space: "r", Epoch: "all", Method: m.method,
					ARule: nets[i].Unit.Rule, ASeed: nets[i].Seed, ANetwork: nets[i].Which,
					BRule: nets[j].Unit.Rule, BSeed: nets[j].Seed, BNetwork: nets[j].Which,
					Value: s.At(i, j), PValue: math.NaN()})
			}
		}
		if !m.test {
			continue
		}
		rt, err := ruleTest(s, rules, seeds, st.Permutations, rsaStream)
		if err != nil {
			return nil, nil, fmt.Errorf("permutation test of %s: %w", m.method, err)
		}
		summary := func(method string, value, p float64, perms int) schemas.RSAPairRow {
			return schemas.RSAPairRow{Campaign: campaign, Task: task, Space: "r", Epoch: "all",
				Method: method, ARule: "*", BRule: "*", ANetwork: nets[0].Which, BNetwork: nets[0].Which,
				Value: value, PValue: p, Permutations: int32(perms)}
		}
		if rt.tested {
			pairs = append(pairs, summary(WithinPrefix+m.method, rt.observed, rt.p, rt.permutations))
		}
		if rt.sameSeedPairs > 0 {
			pairs = append(pairs, summary(SameSeedPrefix+m.method, rt.sameSeed, math.NaN(), 0))
		}
	}
	return rdmRows, pairs, nil
}

// ruleTestResult is the outcome of ruleTest.
type ruleTestResult struct {
	tested       bool    // the permutation test ran
	stratified   bool    // … stratified by seed
	observed     float64 // mean within-rule − mean between-rule similarity (pairs of different seeds when stratified)
	p            float64
	permutations int
	// sameSeed is the mean similarity of networks of different rules and
	// one seed (sameSeedPairs pairs).
	sameSeed      float64
	sameSeedPairs int
}

// ruleTest tests whether networks of one rule are more similar (s) than
// networks of different rules, with permutations shuffles from the PCG
// stream (0, stream). When some seed has networks of two rules — they share
// W⁰ and their trial draws — it is rsa.StratifiedPermutationTest with the
// seeds as blocks (pairs of different seeds only; labels shuffled within
// seeds); otherwise no two networks share a seed and it is
// rsa.PermutationTest. It does not test (tested = false) without
// permutations, with fewer than two rules, or when the networks give no
// within-rule or no between-rule pair to compare.
func ruleTest(s mat.Symmetric, rules []string, seeds []int64, permutations int, stream uint64) (ruleTestResult, error) {
	res := ruleTestResult{sameSeed: math.NaN()}
	labels, blocks := make([]int, len(rules)), make([]int, len(rules))
	ruleIDs, seedIDs := map[string]int{}, map[int64]int{}
	for i := range rules {
		if _, ok := ruleIDs[rules[i]]; !ok {
			ruleIDs[rules[i]] = len(ruleIDs)
		}
		if _, ok := seedIDs[seeds[i]]; !ok {
			seedIDs[seeds[i]] = len(seedIDs)
		}
		labels[i], blocks[i] = ruleIDs[rules[i]], seedIDs[seeds[i]]
	}
	sum := 0.0
	for i := range rules {
		for j := i + 1; j < len(rules); j++ {
			if blocks[i] == blocks[j] && labels[i] != labels[j] {
				sum += s.At(i, j)
				res.sameSeedPairs++
			}
		}
	}
	if res.sameSeedPairs > 0 {
		res.sameSeed = sum / float64(res.sameSeedPairs)
	}
	if permutations < 1 || len(ruleIDs) < 2 {
		return res, nil
	}
	rng := rand.New(rand.NewPCG(0, stream))
	if res.sameSeedPairs > 0 {
		// Testable when the pairs of different seeds include a
		// within-rule and a between-rule pair.
		if !crossSeedWithin(labels, blocks) {
			return res, nil
		}
		r, err := rsa.StratifiedPermutationTest(s, labels, blocks, permutations, rng)
		if err != nil {
			return res, err
		}
		res.tested, res.stratified = true, true
		res.observed, res.p, res.permutations = r.Observed, r.P, r.Permutations
		return res, nil
	}
	if len(ruleIDs) == len(rules) {
		return res, nil // one network per rule: no within-rule pair
	}
	r, err := rsa.PermutationTest(s, labels, permutations, rng)
	if err != nil {
		return res, err
	}
	res.tested = true
	res.observed, res.p, res.permutations = r.Observed, r.P, r.Permutations
	return res, nil
}

// crossSeedWithin reports whether two items of one label lie in different
// blocks and two items of different labels lie in different blocks.
func crossSeedWithin(labels, blocks []int) bool {
	within, between := false, false
	for i := range labels {
		for j := i + 1; j < len(labels); j++ {
			if blocks[i] != blocks[j] {
				if labels[i] == labels[j] {
					within = true
				} else {
					between = true
				}
			}
		}
	}
	return within && between
}
