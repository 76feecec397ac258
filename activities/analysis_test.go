package activities

import (
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/sensitivity"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// analysisPlan is testdata/analysis.yaml: gonogo, miconi and zero × seeds
// 1–2, with fixedpoints, rsa, landscape and sensitivity.
func analysisPlan(t *testing.T) *pipelines.Plan {
	t.Helper()
	return parsePlan(t, "analysis.yaml", nil)
}

// trainAll stores the plan, trains every unit of it through Unit and
// returns the plan's ref and the trained networks by unit ID.
func trainAll(t *testing.T, a *Activities, plan *pipelines.Plan) (PlanRef, map[string]AnalysisNetwork) {
	t.Helper()
	ref := storePlan(t, a.Store, plan)
	out := map[string]AnalysisNetwork{}
	for _, u := range plan.Train {
		r := mustUnit(t, t.Context(), a, unitInput(t, plan, ref, u.ID))
		if len(r.Datasets) != 2 || r.Datasets[1].Kind != string(schemas.Networks) {
			t.Fatalf("%s: datasets %+v", u.ID, r.Datasets)
		}
		out[u.ID] = AnalysisNetwork{Unit: u, Networks: r.Datasets[1]}
	}
	return ref, out
}

// networksOf returns the trained networks analysis unit id reads, in the
// order of its inputs.
func networksOf(t *testing.T, plan *pipelines.Plan, nets map[string]AnalysisNetwork, id string) []AnalysisNetwork {
	t.Helper()
	for _, u := range plan.Analysis {
		if u.ID == id {
			var out []AnalysisNetwork
			for _, i := range u.Inputs {
				n, ok := nets[i]
				if !ok {
					t.Fatalf("%s reads %s, which was not trained", id, i)
				}
				out = append(out, n)
			}
			return out
		}
	}
	t.Fatalf("no analysis unit %s in the plan", id)
	return nil
}

// runTwice runs analysis unit id of a stored plan through Unit, checks it
// is not a cache hit and writes datasets of the given kinds (with the
// stage's engine version in their metadata), runs it again and checks
// that is a hit with the same datasets, then forces it and checks it
// recomputes the same bytes.
func runTwice(t *testing.T, a *Activities, plan *pipelines.Plan, ref PlanRef, id string, kinds ...schemas.Kind) UnitOutput {
	t.Helper()
	ctx := t.Context()
	in := unitInput(t, plan, ref, id)
	out := mustUnit(t, ctx, a, in)
	if out.Unit != id || out.CacheHit || len(out.Datasets) != len(kinds) {
		t.Fatalf("%s: first run: unit %s, cache hit %v, %d datasets; want a miss with %d", id, out.Unit, out.CacheHit, len(out.Datasets), len(kinds))
	}
	for i, k := range kinds {
		d := out.Datasets[i]
		if d.Kind != string(k) || d.Stage != string(in.Stage) || !strings.Contains(d.Ref.Key, "/"+string(in.Stage)+"/"+string(k)+"/task=") {
			t.Errorf("%s: dataset %d is %+v, want kind %s of stage %s", id, i, d, k, in.Stage)
		}
	}
	again := mustUnit(t, ctx, a, in)
	if !again.CacheHit || !slices.Equal(again.Datasets, out.Datasets) {
		t.Fatalf("%s: second run: cache hit %v, datasets %+v; want a hit with %+v", id, again.CacheHit, again.Datasets, out.Datasets)
	}
	in.Force = true
	forced := mustUnit(t, ctx, a, in)
	if forced.CacheHit || !slices.Equal(forced.Datasets, out.Datasets) {
		t.Fatalf("%s: forced run: cache hit %v, datasets %+v; want a recomputation giving %+v", id, forced.CacheHit, forced.Datasets, out.Datasets)
	}
	return out
}

// TestAnalysisStages trains the four networks of testdata/analysis.yaml and
// runs each analysis stage on them through Unit, which finds the networks
// through the plan's resolver: every stage commits its datasets with rows
// checked against independent computations, a second call is a cache hit,
// and a forced call recomputes the same bytes.
func TestAnalysisStages(t *testing.T) {
	st := newStore(t)
	plan := analysisPlan(t)
	a := &Activities{Store: st, EngineVersion: "test", Workers: 1}
	ref, nets := trainAll(t, a, plan)
	ctx := t.Context()

	t.Run("fixedpoints", func(t *testing.T) {
		id := "fixedpoints/gonogo/miconi/seed=1"
		out := runTwice(t, a, plan, ref, id, schemas.FixedPoints)
		rows, info, err := store.ReadRows[schemas.FixedPointRow](ctx, st, out.Datasets[0].Ref)
		if err != nil {
			t.Fatal(err)
		}
		if info.Version != 3 {
			t.Errorf("fixed_points schema version %d, want 3", info.Version)
		}
		if v := stages.Current()[pipelines.StageFixedPoints]; info.EngineVersion != v {
			t.Errorf("fixed_points engine version %q, want the stage's %q", info.EngineVersion, v)
		}
		if len(rows) == 0 {
			t.Fatal("no fixed or slow points found")
		}
		tr, err := a.loadNetwork(ctx, &networksOf(t, plan, nets, id)[0])
		if err != nil {
			t.Fatal(err)
		}
		net := tr.Net
		inputs := map[string]bool{}
		for _, c := range tr.Setup.Task.FixedPointInputs() {
			inputs[c.Name] = true
		}
		counts := map[string]int{}
		for _, r := range rows {
			if !inputs[r.Input] || r.Task != "gonogo" || r.Rule != "miconi" || r.Seed != 1 || r.Network != "final" {
				t.Errorf("row labels %s/%s/%d/%s input %q do not name the unit", r.Task, r.Rule, r.Seed, r.Network, r.Input)
			}
			// q written out: F_i = −x_i + Σ_j W_ij tanh(x_j) + Σ_k Win_ik u_k + b_i over free units.
			q := 0.0
			for i := range net.N {
				if net.IsClamped(i) {
					continue
				}
				f := -r.X[i] + net.B[i]
				for j := range net.N {
					f += net.W[i*net.N+j] * math.Tanh(r.X[j])
				}
				for k := range net.M {
					f += net.Win[i*net.M+k] * r.U[k]
				}
				q += f * f / 2
			}
			if math.Abs(q-r.Q) > 1e-9+1e-6*r.Q {
				t.Errorf("point q = %g, written-out q = %g", r.Q, q)
			}
			if r.Slow != (r.Q >= 1e-6) || r.Q >= 1e-4 {
				t.Errorf("point q = %g slow = %v: want fixed below tol 1e-6, slow below 1e-4", r.Q, r.Slow)
			}
			unstable := 0
			for _, re := range r.EigRe {
				if re > 0 {
					unstable++
				}
			}
			if int(r.Index) != unstable || (r.Type == "stable") != (unstable == 0) || r.Count < 1 {
				t.Errorf("point index %d type %s count %d, eigenvalues give %d unstable", r.Index, r.Type, r.Count, unstable)
			}
			counts[r.Input] += int(r.Count)
			// Version 3: the Euler map of dt/τ = 1/30 (the preset) and the
			// measures in their documented shapes; the set's starts are
			// the 8 inits.
			if r.IndexMap < r.Index || r.SetStarts != 8 || len(r.ResponseNorm) != net.M || len(r.Response) != net.M*net.N ||
				len(r.ReadoutOverlap) != net.O*net.N || !(r.HenriciRel >= 0 && r.HenriciRel <= 1) || r.SetChao1 < float64(r.SetObserved) {
				t.Errorf("point: index_map %d (index %d), set_starts %d, %d response norms, %d response values, %d overlaps, henrici_rel %v, chao1 %v of %d",
					r.IndexMap, r.Index, r.SetStarts, len(r.ResponseNorm), len(r.Response), len(r.ReadoutOverlap), r.HenriciRel, r.SetChao1, r.SetObserved)
			}
		}
		for in, c := range counts {
			if c > 8 {
				t.Errorf("input %s: counts sum to %d, more than the 8 inits", in, c)
			}
		}
	})

	t.Run("sensitivity", func(t *testing.T) {
		for _, id := range []string{"sensitivity/gonogo/miconi/seed=1", "sensitivity/gonogo/zero/seed=2"} {
			out := runTwice(t, a, plan, ref, id, schemas.Sensitivity)
			rows, _, err := store.ReadRows[schemas.SensitivityRow](ctx, st, out.Datasets[0].Ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 1 {
				t.Fatalf("%s: %d rows, want 1", id, len(rows))
			}
			r := rows[0]
			tr, err := a.loadNetwork(ctx, &networksOf(t, plan, nets, id)[0])
			if err != nil {
				t.Fatal(err)
			}
			// S written out: minus the mean masked trial error over the batch.
			b, err := tr.EvalBatch(stages.SensitivityRepeats)
			if err != nil {
				t.Fatal(err)
			}
			var sum float64
			for _, it := range b.Items {
				var trace rnn.Trace
				tr.Net.Run(b.Dyn, it.X0, it.Trial.U, nil, it.Trial.T, &trace)
				var e, w float64
				for s := range it.Trial.T { // O = 1 for gonogo; mse loss
					if m := it.Trial.Mask[s]; m != 0 {
						d := trace.Y[s] - it.Trial.Target[s]
						e += m * d * d
						w += m
					}
				}
				sum += e / w
			}
			if want := -sum / float64(len(b.Items)); math.Abs(r.Score-want) > 1e-12*(1+math.Abs(want)) || tr.Setup.Learner.Loss != plasticity.LossMSE {
				t.Errorf("%s: score %g, written out −mean mse %g (loss %s)", id, r.Score, want, tr.Setup.Learner.Loss)
			}
			var ss float64
			for _, s := range r.SingularValues {
				ss += s * s
			}
			if len(r.SingularValues) != tr.Net.N || math.Abs(math.Sqrt(ss)-r.GradNorm) > 1e-9*(1+r.GradNorm) {
				t.Errorf("%s: %d singular values with √Σσ² = %g, grad norm %g", id, len(r.SingularValues), math.Sqrt(ss), r.GradNorm)
			}
			if want := sensitivity.DefaultScale * frobenius(tr.Net.W); math.Abs(r.Epsilon-want) > 1e-12*want { // the stage default
				t.Errorf("%s: epsilon %g, want scale·‖W‖ = %g", id, r.Epsilon, want)
			}
			// The default probe is linear: ΔS_top is its first-order value εσ₁.
			if first := r.Epsilon * r.SingularValues[0]; math.Abs(r.DeltaSTop-first) > 0.01*first {
				t.Errorf("%s: delta_s_top %g, first-order ε·σ₁ = %g: not within 1%%", id, r.DeltaSTop, first)
			}
			if strings.Contains(id, "zero") {
				// The zero rule does not learn: ΔW = 0 has no direction.
				if !math.IsNaN(r.AlignmentDW) || !math.IsNaN(r.TopFraction) {
					t.Errorf("%s: alignment %g, top fraction %g with ΔW = 0: want NaN", id, r.AlignmentDW, r.TopFraction)
				}
			} else if !(math.Abs(r.AlignmentDW) <= 1) || !(r.TopFraction >= 0 && r.TopFraction <= 1) {
				t.Errorf("%s: alignment %g, top fraction %g: want a cosine and a fraction", id, r.AlignmentDW, r.TopFraction)
			}
			if !(r.ShiftTop >= 0) || !(r.ShiftRandom >= 0) || math.IsNaN(r.DeltaSTop) || math.IsNaN(r.DeltaSRandom) {
				t.Errorf("%s: shifts %g, %g, ΔS %g, %g: want finite numbers", id, r.ShiftTop, r.ShiftRandom, r.DeltaSTop, r.DeltaSRandom)
			}
		}
	})

	t.Run("rsa", func(t *testing.T) {
		out := runTwice(t, a, plan, ref, "rsa/gonogo", schemas.RDMs, schemas.RSAPairs)
		rdms, _, err := store.ReadRows[schemas.RDMRow](ctx, st, out.Datasets[0].Ref)
		if err != nil {
			t.Fatal(err)
		}
		if len(rdms) != 4 {
			t.Fatalf("%d rdms rows, want one per network (4)", len(rdms))
		}
		k := int(rdms[0].K)
		if k != 2*stages.RSABins || rdms[0].Labels[0] != "go@0" || rdms[0].Labels[k-1] != "nogo@9" {
			t.Fatalf("k = %d, labels %v: want 2 conditions × %d bins", k, rdms[0].Labels, stages.RSABins)
		}
		upper := make([][]float64, len(rdms))
		for n, r := range rdms {
			for i := range k {
				if r.D[i*k+i] != 0 {
					t.Errorf("rdm %d: diagonal %d is %g", n, i, r.D[i*k+i])
				}
				for j := i + 1; j < k; j++ {
					if r.D[i*k+j] != r.D[j*k+i] || !(r.D[i*k+j] >= 0 && r.D[i*k+j] <= 2) {
						t.Errorf("rdm %d: d[%d,%d] = %g, d[%d,%d] = %g: want symmetric correlation distances", n, i, j, r.D[i*k+j], j, i, r.D[j*k+i])
					}
					upper[n] = append(upper[n], r.D[i*k+j])
				}
			}
		}
		pairs, _, err := store.ReadRows[schemas.RSAPairRow](ctx, st, out.Datasets[1].Ref)
		if err != nil {
			t.Fatal(err)
		}
		byMethod := map[string]int{}
		seen := 0
		for _, p := range pairs {
			byMethod[p.Method]++
			if strings.HasPrefix(p.Method, stages.SameSeedPrefix) {
				continue
			}
			if strings.HasPrefix(p.Method, stages.WithinPrefix) {
				if p.Permutations != 50 || !(p.PValue >= 1.0/51 && p.PValue <= 1) {
					t.Errorf("%s: p = %g over %d permutations", p.Method, p.PValue, p.Permutations)
				}
				continue
			}
			if !math.IsNaN(p.PValue) {
				t.Errorf("pair row %s has p-value %g, want null", p.Method, p.PValue)
			}
			if p.Method != "spearman" {
				continue
			}
			// Spearman written out: Pearson correlation of average ranks.
			ia, ib := -1, -1
			for n, r := range rdms {
				if r.Rule == p.ARule && r.Seed == p.ASeed {
					ia = n
				}
				if r.Rule == p.BRule && r.Seed == p.BSeed {
					ib = n
				}
			}
			if want := spearman(upper[ia], upper[ib]); math.Abs(p.Value-want) > 1e-9 {
				t.Errorf("spearman %s/%d vs %s/%d = %g, written out %g", p.ARule, p.ASeed, p.BRule, p.BSeed, p.Value, want)
			}
			seen++
		}
		// The summaries written out from the spearman pairs: the test uses
		// pairs of different seeds only; same-seed pairs of different
		// rules have their own row.
		var sums [3]float64
		var ns [3]int
		for _, p := range pairs {
			if p.Method != "spearman" {
				continue
			}
			k := 0 // within, across seeds
			switch {
			case p.ASeed == p.BSeed:
				k = 2
			case p.ARule != p.BRule:
				k = 1
			}
			sums[k] += p.Value
			ns[k]++
		}
		for _, p := range pairs {
			var want float64
			switch p.Method {
			case stages.WithinPrefix + "spearman":
				want = sums[0]/float64(ns[0]) - sums[1]/float64(ns[1])
			case stages.SameSeedPrefix + "spearman":
				want = sums[2] / float64(ns[2])
				if p.Permutations != 0 || !math.IsNaN(p.PValue) {
					t.Errorf("%s: p = %g over %d permutations, want null", p.Method, p.PValue, p.Permutations)
				}
			default:
				continue
			}
			if ns != [3]int{2, 2, 2} || math.Abs(p.Value-want) > 1e-12 {
				t.Errorf("%s = %g, written out %g (pairs within/between/same seed %v)", p.Method, p.Value, want, ns)
			}
		}
		want := map[string]int{"spearman": 6, stages.MethodCKA: 6, stages.MethodProcrustes: 6, stages.WithinPrefix + "spearman": 1, stages.WithinPrefix + stages.MethodCKA: 1,
			stages.SameSeedPrefix + "spearman": 1, stages.SameSeedPrefix + stages.MethodCKA: 1}
		for m, n := range want {
			if byMethod[m] != n {
				t.Errorf("%d rows of method %s, want %d (all: %v)", byMethod[m], m, n, byMethod)
			}
		}
		if seen != 6 {
			t.Errorf("checked %d spearman pairs, want 6", seen)
		}
	})
}

// spearman is the Pearson correlation of the average ranks of a and b.
func spearman(a, b []float64) float64 {
	ranks := func(x []float64) []float64 {
		idx := make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(p, q int) bool { return x[idx[p]] < x[idx[q]] })
		r := make([]float64, len(x))
		for i := 0; i < len(idx); {
			j := i
			for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
				j++
			}
			for k := i; k <= j; k++ {
				r[idx[k]] = float64(i+j)/2 + 1
			}
			i = j + 1
		}
		return r
	}
	ra, rb := ranks(a), ranks(b)
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma /= float64(len(ra))
	mb /= float64(len(rb))
	var sab, saa, sbb float64
	for i := range ra {
		sab += (ra[i] - ma) * (rb[i] - mb)
		saa += (ra[i] - ma) * (ra[i] - ma)
		sbb += (rb[i] - mb) * (rb[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}
