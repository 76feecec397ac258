package activities

import (
	"math"
	"strings"
	"testing"

	"rulescape/core/dsa"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// TestDSAStage runs the dsa unit of testdata/analysis.yaml (with a dsa
// section added) through Unit: every network's operator is the one
// core/dsa fits to its condition-averaged rates written out here, the pair
// distances are those of the operators read back, the within- vs
// between-rule summary is the mean between − mean within distance over the
// pairs of different seeds, a second call is a cache hit and a forced one
// recomputes the same bytes.
func TestDSAStage(t *testing.T) {
	st := newStore(t)
	plan := parsePlan(t, "analysis.yaml", func(s string) string {
		return strings.Replace(s, "stages:\n", "stages:\n  dsa: {n_delays: 4, delay_interval: 2, rank: 6, restarts: 8, permutations: 50}\n", 1)
	})
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref, nets := trainAll(t, a, plan)
	ctx := t.Context()

	const id = "dsa/gonogo"
	networks := networksOf(t, plan, nets, id)
	if len(networks) != 4 {
		t.Fatalf("dsa unit has %d networks, want 4", len(networks))
	}
	out := runTwice(t, a, plan, ref, id, schemas.DSAOperators, schemas.DSAPairs)
	ops, info, err := store.ReadRows[schemas.DSAOperatorRow](ctx, st, out.Datasets[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != 1 || len(ops) != 4 {
		t.Fatalf("dsa_operators: schema version %d, %d rows; want 1, 4", info.Version, len(ops))
	}
	settings := dsa.Settings{Delays: 4, Interval: 2, Rank: 6}
	fitted := make([]*dsa.Operator, len(ops))
	for i, r := range ops {
		n, err := a.loadNetwork(ctx, &networks[i])
		if err != nil {
			t.Fatal(err)
		}
		if r.Rule != n.Unit.Rule || r.Seed != n.Seed || r.Delays != 4 || r.DelayInterval != 2 || r.Rank != 6 {
			t.Fatalf("row %d is %s/%d (%d delays, interval %d, rank %d), want %s/%d with the stage's settings", i, r.Rule, r.Seed, r.Delays, r.DelayInterval, r.Rank, n.Unit.Rule, n.Seed)
		}
		// The condition averages of the rsa batch's rates, written out.
		b, err := n.EvalBatch(stages.RSARepeats)
		if err != nil {
			t.Fatal(err)
		}
		traces, conds := n.Simulate(b)
		sum := map[int][]float64{}
		count := map[int]int{}
		for k, tr := range traces {
			c := conds[k]
			if sum[c] == nil {
				sum[c] = make([]float64, tr.T*tr.N)
			}
			for j, v := range tr.R[tr.N:] {
				sum[c][j] += v
			}
			count[c]++
		}
		var trajs [][]float64
		for c := 0; c < len(sum); c++ {
			for j := range sum[c] {
				sum[c][j] /= float64(count[c])
			}
			trajs = append(trajs, sum[c])
		}
		op, err := dsa.Fit(trajs, n.Net.N, settings)
		if err != nil {
			t.Fatal(err)
		}
		fitted[i] = op
		for k := range op.A {
			if math.Abs(op.A[k]-r.A[k]) > 1e-9 {
				t.Fatalf("network %d: a[%d] = %v, refitted %v", i, k, r.A[k], op.A[k])
			}
		}
		for k, e := range op.Eigen {
			if math.Abs(real(e)-r.EigenRe[k]) > 1e-9 || math.Abs(imag(e)-r.EigenIm[k]) > 1e-9 {
				t.Fatalf("network %d: eigenvalue %d = %v%+vi, refitted %v", i, k, r.EigenRe[k], r.EigenIm[k], e)
			}
		}
	}

	pairs, _, err := store.ReadRows[schemas.DSAPairRow](ctx, st, out.Datasets[1].Ref)
	if err != nil {
		t.Fatal(err)
	}
	idx := func(rule string, seed int64) int {
		for i, r := range ops {
			if r.Rule == rule && r.Seed == seed {
				return i
			}
		}
		t.Fatalf("pair names %s/%d, which has no operator", rule, seed)
		return -1
	}
	o := stages.DSAOptimizer(pipelines.DSAStage{Restarts: 8})
	within, between := map[string][]float64{}, map[string][]float64{}
	var methods []string
	for _, p := range pairs {
		if p.ARule == "*" {
			methods = append(methods, p.Method)
			continue
		}
		i, j := idx(p.ARule, p.ASeed), idx(p.BRule, p.BSeed)
		var want float64
		switch p.Method {
		case stages.MethodDSA, stages.MethodDSAFrobenius:
			c, err := dsa.Distance(fitted[i], fitted[j], o)
			if err != nil {
				t.Fatal(err)
			}
			want = c.Angular
			if p.Method == stages.MethodDSAFrobenius {
				want = c.Frobenius
			}
		case stages.MethodSpectral:
			if want, err = dsa.Spectral(fitted[i], fitted[j]); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unknown method %q", p.Method)
		}
		if math.Abs(p.Value-want) > 1e-9 || !math.IsNaN(p.PValue) {
			t.Errorf("%s %s/%d vs %s/%d = %v (p %v), recomputed %v (p null)", p.Method, p.ARule, p.ASeed, p.BRule, p.BSeed, p.Value, p.PValue, want)
		}
		if p.ASeed != p.BSeed {
			if p.ARule == p.BRule {
				within[p.Method] = append(within[p.Method], p.Value)
			} else {
				between[p.Method] = append(between[p.Method], p.Value)
			}
		}
	}
	if got := 6 * 3; len(pairs)-len(methods) != got {
		t.Errorf("%d pair rows, want %d (6 pairs × 3 methods)", len(pairs)-len(methods), got)
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	for _, m := range []string{stages.MethodDSA, stages.MethodSpectral} {
		found := false
		for _, p := range pairs {
			if p.Method != stages.WithinPrefix+m {
				continue
			}
			found = true
			if want := mean(between[m]) - mean(within[m]); math.Abs(p.Value-want) > 1e-12 || p.Permutations != 50 || !(p.PValue > 0 && p.PValue <= 1) {
				t.Errorf("%s = %v (p %v, %d permutations), want %v with a p-value over 50 permutations", p.Method, p.Value, p.PValue, p.Permutations, want)
			}
		}
		if !found {
			t.Errorf("no %s%s row among %v", stages.WithinPrefix, m, methods)
		}
	}
}
