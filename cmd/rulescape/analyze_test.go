package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"rulescape/activities"
	"rulescape/core/dsa"
	"rulescape/core/fixedpoints"
	"rulescape/core/rnn"
	"rulescape/core/sensitivity"
	"rulescape/core/train"
	"rulescape/internal/atomicfile"
	"rulescape/internal/devstack"
	"rulescape/internal/s3test"
	"rulescape/pipelines"
	"rulescape/schemas"
	"rulescape/stages"
	"rulescape/store"
)

// analyzeDir is the downloaded campaign the analyze tests read: what
// `rulescape datasets get` writes for testdata/analyze_campaign.yaml
// (its networks datasets and manifest.json).
const analyzeDir = "testdata/analyze"

// TestAnalyzeFixture regenerates testdata/analyze with
// RULESCAPE_UPDATE_ANALYZE=1: it runs the campaign's metaopt and train
// activities on a real gateway, writes the manifest, and downloads the
// networks datasets and the manifest as `datasets get` does.
func TestAnalyzeFixture(t *testing.T) {
	if os.Getenv("RULESCAPE_UPDATE_ANALYZE") != "1" {
		t.Skip("set RULESCAPE_UPDATE_ANALYZE=1 to regenerate testdata/analyze")
	}
	gw := s3test.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	st, err := store.New(ctx, store.Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, Region: gw.Region, Bucket: "analyze"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	file := "testdata/analyze_campaign.yaml"
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pipelines.Parse("analyze_campaign.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID()
	acts := &activities.Activities{Store: st, EngineVersion: engineVersion, Workers: 1}
	if _, err := acts.RunLocal(ctx, plan); err != nil {
		t.Fatal(err)
	}
	m, key, err := campaignManifest(ctx, st, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(analyzeDir); err != nil {
		t.Fatal(err)
	}
	for _, d := range m.Datasets {
		if d.Kind != string(schemas.Networks) {
			continue
		}
		local, err := localPath(analyzeDir, d.Ref.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := download(ctx, st, d.Ref, local); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	local, err := localPath(analyzeDir, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteBytes(local, raw); err != nil {
		t.Fatal(err)
	}
	t.Logf("campaign %s written to %s", id, analyzeDir)
}

// fixture is the downloaded test campaign.
type fixture struct {
	id       string
	manifest string            // path of manifest.json
	files    map[string]string // train unit ID → networks file
	m        *activities.Manifest
}

func loadFixture(t *testing.T) *fixture {
	t.Helper()
	ms, err := filepath.Glob(filepath.Join(analyzeDir, "campaigns", "*", "manifest.json"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("testdata: want one manifest under %s, found %v (%v) — regenerate with RULESCAPE_UPDATE_ANALYZE=1", analyzeDir, ms, err)
	}
	data, err := os.ReadFile(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	var m activities.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	f := &fixture{id: m.Campaign, manifest: ms[0], files: map[string]string{}, m: &m}
	for _, d := range m.Datasets {
		if d.Kind == string(schemas.Networks) {
			local, err := localPath(analyzeDir, d.Ref.Key)
			if err != nil {
				t.Fatal(err)
			}
			f.files[d.Unit] = local
		}
	}
	if len(f.files) != 4 {
		t.Fatalf("testdata: %d networks files, want 4", len(f.files))
	}
	return f
}

// units returns the fixture's train unit IDs in order.
func (f *fixture) units() []string {
	var us []string
	for u := range f.files {
		us = append(us, u)
	}
	sort.Strings(us)
	return us
}

// fixtureNetwork rebuilds a fixture network by hand, independently of the
// CLI: the row's weights and the setup of its train unit in the plan.
func fixtureNetwork(t *testing.T, f *fixture, unit string) (*rnn.Network, *pipelines.TrainUnit, *train.Setup, schemas.NetworkRow) {
	t.Helper()
	c, err := pipelines.Parse(f.m.File, []byte(f.m.Spec))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var u *pipelines.TrainUnit
	for i := range plan.Train {
		if plan.Train[i].ID == unit {
			u = &plan.Train[i]
		}
	}
	if u == nil {
		t.Fatalf("no unit %s in the plan", unit)
	}
	setup, err := u.Setup(zeroTheta(u))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.files[unit])
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := schemas.ReadAll[schemas.NetworkRow](bytes.NewReader(data), int64(len(data)))
	if err != nil || len(rows) != 1 {
		t.Fatalf("%s: %d rows (%v)", f.files[unit], len(rows), err)
	}
	r := rows[0]
	net := &rnn.Network{N: int(r.N), M: int(r.M), O: int(r.O), W: r.WFinal, Win: r.WIn, Wout: r.WOut, B: r.B, ClampValue: r.ClampValue}
	for _, i := range r.ClampIndex {
		net.ClampIndex = append(net.ClampIndex, int(i))
	}
	if len(net.ClampIndex) == 0 {
		net.ClampValue = nil
	}
	return net, u, setup, r
}

// zeroTheta is a zero Θ of a discovered rule's shape (nil for a named
// rule): the analyses run no plasticity.
func zeroTheta(u *pipelines.TrainUnit) [][]float64 {
	var theta [][]float64
	if u.Metaopt != "" {
		for range u.Params.K + 1 {
			theta = append(theta, make([]float64, u.Params.L+1))
		}
	}
	return theta
}

// analyzeJSON runs an analyze command with -o json and decodes its output.
func analyzeJSON(t *testing.T, v any, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"analyze", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("analyze %v: exit %d: %s", args, code, errOut)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("analyze %v: %v in %s", args, err, out)
	}
	return out
}

func frob(a []float64) float64 {
	var s float64
	for _, v := range a {
		s += v * v
	}
	return math.Sqrt(s)
}

func nearRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// TestAnalyzeSensitivityMatchesCore checks `analyze sensitivity` on a
// stored network against the core computed directly: S and G_S from
// core/sensitivity on the batch the stage documents, the singular values
// from gonum's SVD, the alignment with ΔW and the top probe written out.
// The --out file holds the same row.
func TestAnalyzeSensitivityMatchesCore(t *testing.T) {
	f := loadFixture(t)
	for _, unit := range []string{"train/gonogo/miconi/seed=1", "train/gonogo/discovered/seed=2"} {
		t.Run(unit, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sens.arrow")
			var got sensitivityJSON
			raw := analyzeJSON(t, &got, "sensitivity", "--network", f.files[unit], "--perturbations", "3", "--out", out)
			net, u, setup, row := fixtureNetwork(t, f, unit)
			ctx := t.Context()
			b, err := sensitivity.NewBatch(setup.Task, net, setup.Dyn, sensitivity.BatchSettings{Repeats: 4, Seed: u.Seed, X0Range: setup.X0Range})
			if err != nil {
				t.Fatal(err)
			}
			s, g, err := sensitivity.Gradient(ctx, net, b, setup.Learner.Loss)
			if err != nil {
				t.Fatal(err)
			}
			n := net.N
			var svd mat.SVD
			if !svd.Factorize(mat.NewDense(n, n, append([]float64(nil), g...)), mat.SVDFull) {
				t.Fatal("SVD failed")
			}
			sv := svd.Values(nil)
			var dot float64
			dw := make([]float64, n*n)
			for k := range dw {
				dw[k] = row.WFinal[k] - row.W0[k]
				dot += g[k] * dw[k]
			}
			eps := sensitivity.DefaultScale * frob(row.WFinal)
			var uu, vv mat.Dense
			svd.UTo(&uu)
			svd.VTo(&vv)
			p := net.Clone()
			for i := range n {
				for j := range n {
					p.W[i*n+j] += eps * uu.At(i, 0) * vv.At(j, 0)
				}
			}
			sp, err := sensitivity.Score(ctx, p, b, setup.Learner.Loss)
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				name      string
				got, want float64
			}{
				{"score", float64(got.Score), s},
				{"grad_norm", float64(got.GradNorm), frob(g)},
				{"alignment_dw", float64(got.AlignmentDW), dot / (frob(g) * frob(dw))},
				{"epsilon", float64(got.Epsilon), eps},
				{"delta_s_top", float64(got.DeltaSTop), sp - s},
				{"first_order_top", float64(got.FirstOrderTop), eps * sv[0]},
			}
			for k := range sv {
				checks = append(checks, struct {
					name      string
					got, want float64
				}{fmt.Sprintf("sigma_%d", k+1), float64(got.SingularValues[k]), sv[k]})
			}
			for _, c := range checks {
				if !nearRel(c.got, c.want, 1e-9) {
					t.Errorf("%s = %.12g, core gives %.12g", c.name, c.got, c.want)
				}
			}
			// At the default size the probe is linear: the reported ΔS_top
			// is its first-order value ε·σ₁ within 1%.
			if r := float64(got.DeltaSTop) / float64(got.FirstOrderTop); math.Abs(r-1) > 0.01 {
				t.Errorf("delta_s_top / first_order_top = %.5f at the default scale, want 1 within 1%%", r)
			}
			if got.Network.Unit != unit || got.Network.Campaign != f.id || got.Network.Network != "final" || got.Settings.Perturbations != 3 {
				t.Errorf("network/settings %+v %+v", got.Network, got.Settings)
			}
			// The --out file: one sensitivity row, the same values.
			rows := readRowsFile[schemas.SensitivityRow](t, out)
			if len(rows) != 1 || rows[0].Score != float64(got.Score) || rows[0].DeltaSTop != float64(got.DeltaSTop) ||
				rows[0].Campaign != f.id || rows[0].Rule != u.Rule || rows[0].Seed != int64(u.Seed) {
				t.Errorf("--out rows %+v, json %s", rows, raw)
			}
		})
	}
}

// TestAnalyzeInitial analyses W⁰ with --which initial: the score is that
// of the initial weights computed here, ΔW is zero (no alignment), and the
// rows say "initial".
func TestAnalyzeInitial(t *testing.T) {
	f := loadFixture(t)
	unit := "train/gonogo/miconi/seed=2"
	out := filepath.Join(t.TempDir(), "sens.parquet")
	var got sensitivityJSON
	raw := analyzeJSON(t, &got, "sensitivity", "--network", f.files[unit], "--which", "initial", "--perturbations", "1", "--out", out)
	net, u, setup, row := fixtureNetwork(t, f, unit)
	net.W = row.W0
	b, err := sensitivity.NewBatch(setup.Task, net, setup.Dyn, sensitivity.BatchSettings{Repeats: 4, Seed: u.Seed, X0Range: setup.X0Range})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sensitivity.Score(t.Context(), net, b, setup.Learner.Loss)
	if err != nil {
		t.Fatal(err)
	}
	if !nearRel(float64(got.Score), s, 1e-12) || got.Network.Network != "initial" || !strings.Contains(raw, `"alignment_dw":null`) {
		t.Errorf("score %v (W⁰ gives %v), network %q, json %s", got.Score, s, got.Network.Network, raw)
	}
	if rows := readRowsFile[schemas.SensitivityRow](t, out); len(rows) != 1 || rows[0].Network != "initial" || !math.IsNaN(rows[0].AlignmentDW) {
		t.Errorf("--out rows %+v", rows)
	}
}

// readRowsFile reads a --out file.
func readRowsFile[R schemas.Row[R]](t *testing.T, name string) []R {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	rows, info, err := schemas.ReadAll[R](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if info.EngineVersion != engineVersion || len(info.ParamsSHA256) != 64 {
		t.Errorf("%s: metadata %+v", name, info.Meta)
	}
	return rows
}

// TestAnalyzeFixedPointsMatchesCore checks every point `analyze
// fixedpoints` reports against the definition, computed here: q(x) =
// ½‖F(x)‖² over the free coordinates with F(x) = −x + Wφ(x) + W_in ū + b,
// below --tol for fixed points, and the index = the number of eigenvalues
// with positive real part of the free block of −I + W diag(φ'(x)); and the
// counts per input against fixedpoints.FindInputs run directly from the
// documented initial states.
func TestAnalyzeFixedPointsMatchesCore(t *testing.T) {
	f := loadFixture(t)
	unit := "train/gonogo/miconi/seed=2"
	out := filepath.Join(t.TempDir(), "fp.parquet")
	var got fixedPointsJSON
	analyzeJSON(t, &got, "fixedpoints", "--network", f.files[unit], "--inits", "16", "--max-iters", "300", "--tol", "1e-8", "--out", out)
	net, u, setup, _ := fixtureNetwork(t, f, unit)
	n := net.N
	inputs := map[string][]float64{}
	for _, in := range setup.Task.FixedPointInputs() {
		inputs[in.Name] = in.U
	}
	if len(got.Inputs) != len(inputs) || len(got.Points) == 0 {
		t.Fatalf("inputs %+v, %d points; want the task's %d inputs", got.Inputs, len(got.Points), len(inputs))
	}
	var free []int
	for i := range n {
		if !net.IsClamped(i) {
			free = append(free, i)
		}
	}
	for _, p := range got.Points {
		ub := inputs[p.Input]
		var q float64
		for _, i := range free {
			fi := -p.X[i] + net.B[i]
			for j := range n {
				fi += net.W[i*n+j] * math.Tanh(p.X[j])
			}
			for m := range net.M {
				fi += net.Win[i*net.M+m] * ub[m]
			}
			q += 0.5 * fi * fi
		}
		if !nearRel(q, p.Q, 1e-6) && math.Abs(q-p.Q) > 1e-14 {
			t.Errorf("%s: q = %g, recomputed %g", p.Input, p.Q, q)
		}
		if !p.Slow && q >= 1e-8 {
			t.Errorf("%s: fixed point with q = %g ≥ --tol 1e-8", p.Input, q)
		}
		jac := mat.NewDense(len(free), len(free), nil)
		for a, i := range free {
			for b, j := range free {
				v := net.W[i*n+j] * (1 - math.Pow(math.Tanh(p.X[j]), 2))
				if a == b {
					v--
				}
				jac.Set(a, b, v)
			}
		}
		var eig mat.Eigen
		if !eig.Factorize(jac, mat.EigenNone) {
			t.Fatal("eigen failed")
		}
		unstable := 0
		for _, v := range eig.Values(nil) {
			if real(v) > 0 {
				unstable++
			}
		}
		if int32(unstable) != p.Index || len(p.EigRe) != len(free) {
			t.Errorf("%s: index %d with %d eigenvalues, recomputed %d of %d", p.Input, p.Index, len(p.EigRe), unstable, len(free))
		}
	}
	// The same search run directly.
	b, err := sensitivity.NewBatch(setup.Task, net, setup.Dyn, sensitivity.BatchSettings{Repeats: 4, Seed: u.Seed, X0Range: setup.X0Range})
	if err != nil {
		t.Fatal(err)
	}
	var traces []*rnn.Trace
	for _, it := range b.Items {
		tr := &rnn.Trace{}
		net.Run(b.Dyn, it.X0, it.Trial.U, nil, it.Trial.T, tr)
		traces = append(traces, tr)
	}
	s := fixedpoints.Settings{Inits: 16, MaxIter: 300, TolQ: 1e-8, Seed: u.Seed, Vectors: -1}
	inits, err := fixedpoints.SampleInits(net, traces, s)
	if err != nil {
		t.Fatal(err)
	}
	lands, err := fixedpoints.FindInputs(t.Context(), net, setup.Task.FixedPointInputs(), inits, s)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lands {
		if g := got.Inputs[i]; g.Input != l.Input || g.Fixed != len(l.Fixed) || g.Slow != len(l.Slow) {
			t.Errorf("input %s: %d fixed, %d slow; direct search: %s %d fixed, %d slow", g.Input, g.Fixed, g.Slow, l.Input, len(l.Fixed), len(l.Slow))
		}
	}
	rows := readRowsFile[schemas.FixedPointRow](t, out)
	if len(rows) != len(got.Points) || rows[0].Network != "final" || rows[0].Campaign != f.id {
		t.Errorf("--out: %d rows, want %d", len(rows), len(got.Points))
	}
}

// TestAnalyzeFixedPointsDeflation runs analyze fixedpoints with deflation:
// the summary shows the completeness estimate of every input with points
// (Chao1 at least the points the plain descents observed), the settings
// are printed as the campaign keeps them (the default power and shift
// omitted), and deflation only adds points to the plain search's.
func TestAnalyzeFixedPointsDeflation(t *testing.T) {
	f := loadFixture(t)
	unit := "train/gonogo/miconi/seed=2"
	args := []string{"fixedpoints", "--network", f.files[unit], "--inits", "16", "--max-iters", "300"}
	var plain, defl fixedPointsJSON
	analyzeJSON(t, &plain, args...)
	raw := analyzeJSON(t, &defl, append(args, "--deflation", "2")...)
	if defl.Settings.Deflation != 2 || defl.Settings.DeflationPower != 0 || strings.Contains(raw, "deflation_power") {
		t.Errorf("settings %+v: want deflation 2 with the default power omitted", defl.Settings)
	}
	for i, in := range defl.Inputs {
		p := plain.Inputs[i]
		if in.Fixed < p.Fixed || in.Observed != p.Observed || in.Chao1 != p.Chao1 || int(in.Deflated) != in.Fixed-p.Fixed {
			t.Errorf("%s: with deflation %+v, without %+v", in.Input, in, p)
		}
		if in.Fixed > 0 && (in.Starts != 16 || in.Chao1 < float64(in.Observed)) {
			t.Errorf("%s: %d starts, Chao1 %v of %d observed", in.Input, in.Starts, in.Chao1, in.Observed)
		}
	}
	code, out, errOut := runCLI(t, append([]string{"analyze"}, append(args, "--deflation", "2")...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"up to 2 rounds of deflation", "ONCE", "TWICE", "CHAO1", "DEFL"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("\n%s", out)
}

// TestAnalyzeRSA compares the four fixture networks: the table is
// symmetric per measure, the Spearman similarities equal the rank
// correlation of the RDMs in --rdms-out computed here, the permutation
// tests are present (2 rules × 2 seeds), and the --out rows match.
func TestAnalyzeRSA(t *testing.T) {
	f := loadFixture(t)
	dir := t.TempDir()
	args := []string{"rsa", "--permutations", "50", "--out", filepath.Join(dir, "pairs.parquet"), "--rdms-out", filepath.Join(dir, "rdms.arrow")}
	for _, u := range f.units() {
		args = append(args, "--network", f.files[u])
	}
	var got rsaJSON
	analyzeJSON(t, &got, args...)
	if len(got.Networks) != 4 || len(got.Similarity) != 3 {
		t.Fatalf("%d networks, %d measures", len(got.Networks), len(got.Similarity))
	}
	rdms := readRowsFile[schemas.RDMRow](t, filepath.Join(dir, "rdms.arrow"))
	pairs := readRowsFile[schemas.RSAPairRow](t, filepath.Join(dir, "pairs.parquet"))
	// 6 pairs × 3 measures, the seed-stratified test and the same-seed
	// mean for spearman and cka (2 rules × 2 seeds: seeds are shared).
	if len(rdms) != 4 || len(pairs) != 3*6+2+2 {
		t.Fatalf("%d rdms rows, %d pair rows; want 4 and 22", len(rdms), len(pairs))
	}
	upper := func(d []float64, k int) []float64 {
		var v []float64
		for i := range k {
			for j := i + 1; j < k; j++ {
				v = append(v, d[i*k+j])
			}
		}
		return v
	}
	for i := range 4 {
		for j := range 4 {
			if i == j {
				continue
			}
			a, b := upper(rdms[i].D, int(rdms[i].K)), upper(rdms[j].D, int(rdms[j].K))
			want := stat.Correlation(ranks(a), ranks(b), nil)
			if v := float64(got.Similarity["spearman"][i][j]); !nearRel(v, want, 1e-9) {
				t.Errorf("spearman[%d][%d] = %v, rank correlation of the RDMs = %v", i, j, v, want)
			}
		}
	}
	tests := 0
	for _, p := range got.Pairs {
		if p.A < 0 && strings.HasPrefix(p.Method, "within_vs_between:") {
			tests++
			if p.Permutations != 50 || !(p.PValue > 0 && p.PValue <= 1) {
				t.Errorf("test %+v", p)
			}
		}
	}
	if tests != 2 {
		t.Errorf("%d permutation tests, want 2 (spearman, cka)", tests)
	}
}

// TestAnalyzeDSA runs analyze dsa on the fixture's four networks: the
// pair rows hold, per pair, the DSA distances and the spectral distance of
// the operators it writes (recomputed here with core/dsa), and the
// seed-stratified tests of dsa and spectral.
func TestAnalyzeDSA(t *testing.T) {
	f := loadFixture(t)
	dir := t.TempDir()
	args := []string{"dsa", "--n-delays", "4", "--delay-interval", "2", "--rank", "6", "--restarts", "6", "--permutations", "50",
		"--out", filepath.Join(dir, "pairs.parquet"), "--operators-out", filepath.Join(dir, "ops.arrow")}
	for _, u := range f.units() {
		args = append(args, "--network", f.files[u])
	}
	var got dsaJSON
	analyzeJSON(t, &got, args...)
	if len(got.Networks) != 4 || len(got.Distance) != 3 || len(got.Eigenvalues) != 4 {
		t.Fatalf("%d networks, %d measures, %d eigenvalue sets", len(got.Networks), len(got.Distance), len(got.Eigenvalues))
	}
	ops := readRowsFile[schemas.DSAOperatorRow](t, filepath.Join(dir, "ops.arrow"))
	pairs := readRowsFile[schemas.DSAPairRow](t, filepath.Join(dir, "pairs.parquet"))
	// 6 pairs × 3 measures, the seed-stratified test and the same-seed
	// mean for dsa and spectral.
	if len(ops) != 4 || len(pairs) != 3*6+2+2 {
		t.Fatalf("%d operator rows, %d pair rows; want 4 and 22", len(ops), len(pairs))
	}
	fitted := make([]*dsa.Operator, 4)
	for i, r := range ops {
		ev := make([]complex128, r.Rank)
		for k := range ev {
			ev[k] = complex(r.EigenRe[k], r.EigenIm[k])
		}
		fitted[i] = &dsa.Operator{Rank: int(r.Rank), A: r.A, Eigen: ev}
	}
	o := dsa.DefaultOptimizer()
	o.Restarts = 6
	for i := range 4 {
		for j := i + 1; j < 4; j++ {
			c, err := dsa.Distance(fitted[i], fitted[j], o)
			if err != nil {
				t.Fatal(err)
			}
			s, err := dsa.Spectral(fitted[i], fitted[j])
			if err != nil {
				t.Fatal(err)
			}
			for m, want := range map[string]float64{"dsa": c.Angular, "dsa_frobenius": c.Frobenius, "spectral": s} {
				if v := float64(got.Distance[m][i][j]); math.Abs(v-want) > 1e-9 || float64(got.Distance[m][j][i]) != v {
					t.Errorf("%s[%d][%d] = %v, recomputed %v", m, i, j, v, want)
				}
			}
		}
	}
	tests := 0
	for _, p := range got.Pairs {
		if p.A < 0 && strings.HasPrefix(p.Method, "within_vs_between:") {
			tests++
			if p.Permutations != 50 || !(p.PValue > 0 && p.PValue <= 1) {
				t.Errorf("test %+v", p)
			}
		}
	}
	if tests != 2 {
		t.Errorf("%d permutation tests, want 2 (dsa, spectral)", tests)
	}
}

// ranks returns the ranks of v, ties averaged.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// TestAnalyzeDefaults checks that the flags' defaults are the campaign's:
// the settings a campaign with empty stage sections plans.
func TestAnalyzeDefaults(t *testing.T) {
	c, err := pipelines.Parse("defaults.yaml", []byte(`name: defaults
tasks: [{name: gonogo}]
rules: [{name: miconi}]
seeds: 1-2
stages: {fixedpoints: {}, sensitivity: {}, rsa: {}, landscape: {}, dsa: {}}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	var fp pipelines.FixedPointsStage
	var sens pipelines.SensitivityStage
	var rs pipelines.RSAStage
	var land pipelines.LandscapeStage
	var ds pipelines.DSAStage
	found := map[pipelines.StageName]bool{}
	for _, u := range plan.Analysis {
		var v any
		switch u.Stage {
		case pipelines.StageFixedPoints:
			v = &fp
		case pipelines.StageSensitivity:
			v = &sens
		case pipelines.StageRSA:
			v = &rs
		case pipelines.StageLandscape:
			v = &land
		case pipelines.StageDSA:
			v = &ds
		default:
			continue
		}
		if err := json.Unmarshal(u.Settings, v); err != nil {
			t.Fatal(err)
		}
		found[u.Stage] = true
	}
	if len(found) != 5 {
		t.Fatalf("planned stages %v", found)
	}
	// The flags as registered, of every analysis: analyze landscape's
	// fixed-point flags are analyze fixedpoints' (the campaign's
	// fixedpoints defaults).
	for _, c := range []struct {
		cmd   *cobra.Command
		flags map[string]any
	}{
		{newAnalyzeFixedPoints(&app{}), map[string]any{"inits": fp.Inits, "max-iters": fp.MaxIters, "tol": fp.Tol}},
		{newAnalyzeSensitivity(&app{}), map[string]any{"perturbations": sens.Perturbations, "scale": sens.Scale}},
		{newAnalyzeRSA(&app{}), map[string]any{"permutations": rs.Permutations, "metric": rs.Metric}},
		{newAnalyzeLandscape(&app{}), map[string]any{"inits": fp.Inits, "max-iters": fp.MaxIters, "tol": fp.Tol,
			"pcs": land.PCs, "permutations": land.Permutations, "connect-steps": land.ConnectSteps}},
		{newAnalyzeDSA(&app{}), map[string]any{"n-delays": ds.Delays, "delay-interval": ds.DelayInterval, "rank": ds.Rank,
			"restarts": ds.Restarts, "permutations": ds.Permutations}},
	} {
		for name, want := range c.flags {
			if g := c.cmd.Flags().Lookup(name); g == nil || g.DefValue != fmt.Sprint(want) {
				t.Errorf("analyze %s --%s: default %v, campaign default %v", c.cmd.Name(), name, g, want)
			}
		}
	}
}

// TestAnalyzeErrors runs bad invocations: each exits 1 with one message
// naming the flag and the fix, and prints nothing on stdout.
func TestAnalyzeErrors(t *testing.T) {
	f := loadFixture(t)
	one := f.files["train/gonogo/miconi/seed=1"]
	dir := t.TempDir()
	// A networks file away from its manifest.
	lone := filepath.Join(dir, "lone.parquet")
	data, err := os.ReadFile(one)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lone, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A networks file of all four networks.
	all := filepath.Join(dir, "all.parquet")
	var rows []schemas.NetworkRow
	for _, u := range f.units() {
		data, err := os.ReadFile(f.files[u])
		if err != nil {
			t.Fatal(err)
		}
		rs, _, err := schemas.ReadAll[schemas.NetworkRow](bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, rs...)
	}
	if err := writeRowsFile(all, "--out", schemas.Meta{Campaign: f.id, ParamsSHA256: strings.Repeat("0", 64), EngineVersion: engineVersion}, rows); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string // substrings of the message
	}{
		{"no network", []string{"fixedpoints"}, []string{"no network given", "--network FILE"}},
		{"no such file", []string{"sensitivity", "--network", "nosuch.parquet"}, []string{`--network "nosuch.parquet": no such file, and not CAMPAIGN/UNIT`, "rulescape datasets get"}},
		{"directory", []string{"fixedpoints", "--network", dir}, []string{"is a directory: give a networks file in it"}},
		{"not a networks file", []string{"fixedpoints", "--network", f.manifest}, []string{"not a networks dataset", "campaigns/<id>/train/networks/"}},
		{"no manifest", []string{"fixedpoints", "--network", lone}, []string{"no manifest.json in its directory or above", "--manifest FILE", "rulescape datasets get " + f.id}},
		{"ambiguous rows", []string{"fixedpoints", "--network", all, "--manifest", f.manifest},
			[]string{"4 networks match the selection: this analysis takes one", "--rule", "gonogo/miconi/seed=2  (--task gonogo --rule miconi --seed 2"}},
		{"ambiguous rule", []string{"sensitivity", "--network", all, "--manifest", f.manifest, "--rule", "miconi"},
			[]string{"2 networks match --rule miconi", "--seed 1", "--seed 2"}},
		{"no match", []string{"fixedpoints", "--network", all, "--manifest", f.manifest, "--rule", "hebb"},
			[]string{"no network matches --rule hebb", "gonogo/discovered/seed=1"}},
		{"several files", []string{"sensitivity", "--network", one, "--network", f.files["train/gonogo/miconi/seed=2"]}, []string{"2 networks match"}},
		{"rsa of one", []string{"rsa", "--network", all, "--manifest", f.manifest, "--rule", "miconi", "--seed", "1"}, []string{"RSA compares at least 2"}},
		{"bad which", []string{"fixedpoints", "--network", one, "--which", "middle"}, []string{`--which = "middle": want final or initial`}},
		{"bad seed", []string{"fixedpoints", "--network", one, "--seed", "-3"}, []string{"--seed = -3"}},
		{"bad inits", []string{"fixedpoints", "--network", one, "--inits", "0"}, []string{"--inits = 0"}},
		{"bad tol", []string{"fixedpoints", "--network", one, "--tol", "-1"}, []string{"--tol = -1"}},
		{"bad deflation", []string{"fixedpoints", "--network", one, "--deflation", "-1"}, []string{"--deflation = -1: want 0 (off)"}},
		{"bad deflation power", []string{"fixedpoints", "--network", one, "--deflation", "2", "--deflation-power", "-1"}, []string{"--deflation-power = -1: want a positive power"}},
		{"bad scale", []string{"sensitivity", "--network", one, "--scale", "0"}, []string{"--scale = 0: want a positive"}},
		{"bad perturbations", []string{"sensitivity", "--network", one, "--perturbations", "0"}, []string{"--perturbations = 0"}},
		{"bad metric", []string{"rsa", "--network", all, "--manifest", f.manifest, "--metric", "cosine"}, []string{`--metric = "cosine": want correlation or euclidean`}},
		{"bad out", []string{"sensitivity", "--network", one, "--out", "sens.csv"}, []string{"--out sens.csv: want a .parquet or .arrow file"}},
		{"bad pcs", []string{"landscape", "--network", one, "--pcs", "0"}, []string{"--pcs = 0: want at least 1 principal axis", "default is 3"}},
		{"bad connect steps", []string{"landscape", "--network", one, "--connect-steps", "0"}, []string{"--connect-steps = 0: want at least 1 Euler step", "default is 4000"}},
		{"bad landscape permutations", []string{"landscape", "--network", one, "--permutations", "-5"}, []string{"--permutations = -5: want 0 (no test) or more"}},
		{"bad landscape inits", []string{"landscape", "--network", one, "--inits", "0"}, []string{"--inits = 0: want at least 1 initial state"}},
		{"bad pairs out", []string{"landscape", "--network", one, "--pairs-out", "pairs.csv"}, []string{"--pairs-out pairs.csv: want a .parquet or .arrow file"}},
		{"landscape unknown flag", []string{"landscape", "--network", one, "--pc", "2"}, []string{"unknown flag: --pc", "rulescape analyze landscape --help"}},
		{"bad flag value", []string{"fixedpoints", "--network", one, "--inits", "many"}, []string{"--inits", "rulescape analyze fixedpoints --help"}},
		{"dsa of one", []string{"dsa", "--network", all, "--manifest", f.manifest, "--rule", "miconi", "--seed", "1"}, []string{"DSA compares at least 2"}},
		{"bad dsa rank", []string{"dsa", "--network", all, "--manifest", f.manifest, "--rank", "0"}, []string{"--rank = 0: want at least 1 dimension"}},
		{"bad dsa delays", []string{"dsa", "--network", all, "--manifest", f.manifest, "--n-delays", "0"}, []string{"--n-delays = 0: want at least 1 state"}},
		{"dsa rank over dimension", []string{"dsa", "--network", all, "--manifest", f.manifest, "--n-delays", "2", "--rank", "30"},
			[]string{"--rank = 30 exceeds the embedding dimension --n-delays × units = 2 × 10 = 20: lower --rank or raise --n-delays", "10 units, 40 steps"}},
		{"dsa delays over trial", []string{"dsa", "--network", all, "--manifest", f.manifest, "--n-delays", "30", "--delay-interval", "2"},
			[]string{"--n-delays = 30 with --delay-interval = 2 spans 59 steps, but trials have 40", "lower --n-delays or --delay-interval"}},
		{"unknown flag", []string{"rsa", "--bogus"}, []string{"unknown flag: --bogus", "rulescape analyze rsa --help"}},
		{"bad campaign arg", []string{"rsa", "--campaign", "nosuch"}, []string{`--campaign: CAMPAIGN "nosuch" is neither a pipeline file nor a campaign ID`}},
		{"unit with campaign", []string{"rsa", "--campaign", "0123456789abcdef", "--network", "gonogo/miconi"}, []string{`--network "gonogo/miconi": with --campaign give a train unit`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, append([]string{"analyze"}, c.args...)...)
			if code != 1 || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and no output", code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
		})
	}
}

// TestAnalyzeStore reads the fixture's networks from a campaign in a real
// S3 store (the fixture's files uploaded at their keys, as the campaign
// committed them) by CAMPAIGN/UNIT and by --campaign: the results equal
// those from the downloaded files. An unknown campaign is one clear error.
func TestAnalyzeStore(t *testing.T) {
	f := loadFixture(t)
	gw := s3test.Start(t)
	ctx := t.Context()
	cfg := store.Config{Endpoint: gw.Endpoint, AccessKey: gw.AccessKey, SecretKey: gw.SecretKey, Region: gw.Region, Bucket: "analyze"}
	st, err := store.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	upload := func(local, key string) {
		data, err := os.ReadFile(local)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, key, data, "application/octet-stream"); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range f.m.Datasets {
		if d.Kind == string(schemas.Networks) {
			upload(f.files[d.Unit], d.Ref.Key)
		}
	}
	upload(f.manifest, "campaigns/"+f.id+"/manifest.json")
	// External services: the store from the environment; Temporal is not
	// dialled by analyze (the address is never used).
	t.Setenv(devstack.EnvTemporalAddr, "127.0.0.1:1")
	t.Setenv(store.EnvEndpoint, cfg.Endpoint)
	t.Setenv(store.EnvAccessKey, cfg.AccessKey)
	t.Setenv(store.EnvSecretKey, cfg.SecretKey)
	t.Setenv(store.EnvRegion, cfg.Region)
	t.Setenv(store.EnvBucket, cfg.Bucket)

	unit := "train/gonogo/discovered/seed=1"
	var fromFile, fromStore sensitivityJSON
	analyzeJSON(t, &fromFile, "sensitivity", "--network", f.files[unit], "--perturbations", "2")
	analyzeJSON(t, &fromStore, "sensitivity", "--network", f.id+"/"+unit, "--perturbations", "2")
	if !strings.HasPrefix(fromStore.Network.Source, "s3://analyze/campaigns/"+f.id+"/train/networks/") {
		t.Errorf("source %q", fromStore.Network.Source)
	}
	fromStore.Network.Source = fromFile.Network.Source
	a, _ := json.Marshal(fromFile)
	b, _ := json.Marshal(fromStore)
	if !bytes.Equal(a, b) {
		t.Errorf("from the store:\n%s\nfrom the file:\n%s", b, a)
	}

	var rsaFile, rsaStore rsaJSON
	args := []string{"rsa", "--permutations", "20"}
	for _, d := range f.m.Datasets { // the campaign's order, as --campaign takes them
		if d.Kind == string(schemas.Networks) {
			args = append(args, "--network", f.files[d.Unit])
		}
	}
	analyzeJSON(t, &rsaFile, args...)
	analyzeJSON(t, &rsaStore, "rsa", "--permutations", "20", "--campaign", f.id, "--task", "gonogo")
	if len(rsaStore.Networks) != 4 || len(rsaStore.Similarity) != 3 {
		t.Fatalf("rsa --campaign: %d networks, %d measures", len(rsaStore.Networks), len(rsaStore.Similarity))
	}
	for m, sim := range rsaFile.Similarity {
		for i := range sim {
			if rsaStore.Networks[i].Unit != rsaFile.Networks[i].Unit {
				t.Fatalf("network %d: %s from the store, %s from the files", i, rsaStore.Networks[i].Unit, rsaFile.Networks[i].Unit)
			}
			for j := range sim[i] {
				if g, w := float64(rsaStore.Similarity[m][i][j]), float64(sim[i][j]); !nearRel(g, w, 1e-12) {
					t.Errorf("%s[%d][%d] = %v from the store, %v from the files", m, i, j, g, w)
				}
			}
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"sensitivity", "--network", "0123456789abcdef/" + unit}, "campaign 0123456789abcdef has no manifest"},
		{[]string{"sensitivity", "--network", f.id + "/train/gonogo/hebb/seed=1"}, `has no network of unit "train/gonogo/hebb/seed=1"; its networks are:`},
		{[]string{"fixedpoints", "--campaign", f.id}, "4 networks match the selection"},
	} {
		code, out, errOut := runCLI(t, append([]string{"analyze"}, c.args...)...)
		if code != 1 || out != "" || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", c.args, code, out, errOut, c.want)
		}
	}
}

// bistableGain is the gain of the network bistableFile writes.
const bistableGain = 10

// bistableFile writes a networks file of the fixture network unit whose
// recurrent weights are W = g·vvᵀ over the free units, v = (1, …, 1)/√n_f,
// g = bistableGain (clamped units neither driving nor driven), and b = 0.
// Under no input its free dynamics ẋ = −x + W tanh(x) have exactly three
// fixed points: the origin, a saddle of index 1 (eigenvalue −1 + g along
// v, −1 across), and the attractors x_i = ±β on every free unit,
// β = g tanh(β). (A gain this strong sends the task's trajectories, where
// the search starts, quickly into both attractors' basins: at g = 3 or 4
// the search finds only the saddle.)
func bistableFile(t *testing.T, f *fixture, unit, dir string) (string, *rnn.Network) {
	t.Helper()
	net, _, _, row := fixtureNetwork(t, f, unit)
	n := net.N
	free := 0
	for i := range n {
		if !net.IsClamped(i) {
			free++
		}
	}
	w := make([]float64, n*n)
	for i := range n {
		for j := range n {
			if !net.IsClamped(i) && !net.IsClamped(j) {
				w[i*n+j] = bistableGain / float64(free)
			}
		}
	}
	row.WFinal, row.B = w, make([]float64, n)
	net.W, net.B = w, row.B
	file := filepath.Join(dir, "bistable.parquet")
	if err := writeRowsFile(file, "--out", schemas.Meta{Campaign: f.id, ParamsSHA256: strings.Repeat("0", 64), EngineVersion: engineVersion}, []schemas.NetworkRow{row}); err != nil {
		t.Fatal(err)
	}
	return file, net
}

// TestAnalyzeLandscapeMatchesActivities runs `analyze landscape` on the
// four fixture networks and checks its --out and --pairs-out rows against
// stages.FixedPoints and stages.Landscape called here on the networks
// rebuilt from the files with the same settings (and another --workers),
// its summary against the rows (counts by index, connections, explained
// variance), its distance matrices against the pair rows, and that the
// seed-stratified test is recorded (2 rules × 2 seeds).
func TestAnalyzeLandscapeMatchesActivities(t *testing.T) {
	f := loadFixture(t)
	dir := t.TempDir()
	out, pairsOut := filepath.Join(dir, "land.arrow"), filepath.Join(dir, "pairs.parquet")
	args := []string{"landscape", "--inits", "16", "--max-iters", "300", "--tol", "1e-8", "--pcs", "2", "--permutations", "30", "--connect-steps", "500",
		"--out", out, "--pairs-out", pairsOut}
	// miconi seed=2 made bistable, so that some landscapes differ and
	// have saddles to connect.
	units := f.units()
	files := map[string]string{}
	for _, u := range units {
		files[u] = f.files[u]
	}
	files["train/gonogo/miconi/seed=2"], _ = bistableFile(t, f, "train/gonogo/miconi/seed=2", dir)
	for _, u := range units {
		args = append(args, "--network", files[u])
	}
	args = append(args, "--manifest", f.manifest)
	var got landscapeJSON
	analyzeJSON(t, &got, args...)
	rows := readRowsFile[schemas.LandscapeRow](t, out)
	pairs := readRowsFile[schemas.LandscapePairRow](t, pairsOut)

	fpSt := pipelines.FixedPointsStage{Enabled: true, Inits: 16, MaxIters: 300, Tol: 1e-8}
	lSt := pipelines.LandscapeStage{Enabled: true, PCs: 2, Permutations: 30, ConnectSteps: 500}
	var nets []*stages.Network
	var fps [][]schemas.FixedPointRow
	for _, unit := range units {
		_, u, _, _ := fixtureNetwork(t, f, unit)
		// The fixture's rows carry the engine version that trained them,
		// not this one's: read them without readRowsFile's check.
		data, err := os.ReadFile(files[unit])
		if err != nil {
			t.Fatal(err)
		}
		nrows, _, err := schemas.ReadAll[schemas.NetworkRow](bytes.NewReader(data), int64(len(data)))
		if err != nil || len(nrows) != 1 {
			t.Fatalf("%s: %d rows (%v)", files[unit], len(nrows), err)
		}
		row := nrows[0]
		n, err := stages.LoadNetwork(u, zeroTheta(u), row, "final")
		if err != nil {
			t.Fatal(err)
		}
		fp, err := stages.FixedPoints(t.Context(), f.id, n, fpSt, 1)
		if err != nil {
			t.Fatal(err)
		}
		nets, fps = append(nets, n), append(fps, fp)
	}
	want, err := stages.Landscape(t.Context(), f.id, "gonogo", nets, fps, lSt, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantRows, wantPairs := want.Points, want.Pairs
	// %v prints every float in its shortest exact form, NaN included.
	if g, w := fmt.Sprintf("%v", rows), fmt.Sprintf("%v", wantRows); g != w {
		t.Errorf("--out rows:\n%s\nstages.Landscape:\n%s", g, w)
	}
	if g, w := fmt.Sprintf("%v", pairs), fmt.Sprintf("%v", wantPairs); g != w {
		t.Errorf("--pairs-out rows:\n%s\nstages.Landscape:\n%s", g, w)
	}

	// The summary, network by network, against the rows.
	if len(got.Networks) != 4 || len(got.Maps) != 4 {
		t.Fatalf("%d networks, %d maps", len(got.Networks), len(got.Maps))
	}
	k, nConns := 0, 0
	for i, m := range got.Maps {
		if got.Networks[i].Unit != units[i] {
			t.Errorf("network %d is %s, want %s", i, got.Networks[i].Unit, units[i])
		}
		counts := map[string]map[int32]int{}
		slow := map[string]int{}
		conns := map[string][]stages.Connection{}
		for range fps[i] {
			r := rows[k]
			k++
			if counts[r.Input] == nil {
				counts[r.Input] = map[int32]int{}
			}
			if r.Slow {
				slow[r.Input]++
			} else {
				counts[r.Input][r.Index]++
			}
			if !r.Slow && r.Index == 1 {
				conns[r.Input] = append(conns[r.Input], stages.Connection{Saddle: r.Point, Attractors: [2]int32{r.Connects[0], r.Connects[1]}})
			}
			for a, e := range m.Explained {
				if float64(e) != r.Explained[a] {
					t.Errorf("network %d: explained %v, rows %v", i, m.Explained, r.Explained)
				}
			}
		}
		if len(m.Inputs) != 3 {
			t.Fatalf("network %d: inputs %+v, want none, go, nogo", i, m.Inputs)
		}
		for _, in := range m.Inputs {
			total := 0
			for idx, c := range in.ByIndex {
				if c != counts[in.Input][int32(idx)] {
					t.Errorf("network %d, %s: %d fixed points of index %d, the rows have %d", i, in.Input, c, idx, counts[in.Input][int32(idx)])
				}
				total += c
			}
			want := 0
			for _, c := range counts[in.Input] {
				want += c
			}
			if total != want || in.Slow != slow[in.Input] {
				t.Errorf("network %d, %s: %d fixed, %d slow; rows: %d, %d", i, in.Input, total, in.Slow, want, slow[in.Input])
			}
			nConns += len(in.Connections)
			if fmt.Sprint(in.Connections) != fmt.Sprint(conns[in.Input]) {
				t.Errorf("network %d, %s: connections %v, rows %v", i, in.Input, in.Connections, conns[in.Input])
			}
		}
		// The fixed points counted from the search itself.
		for _, p := range fps[i] {
			if !p.Slow && (len(counts[p.Input]) == 0 || counts[p.Input][p.Index] == 0) {
				t.Errorf("network %d: fixed point of %s of index %d missing from the rows", i, p.Input, p.Index)
			}
		}
	}
	if k != len(rows) || nConns == 0 {
		t.Errorf("%d rows, %d fixed points, %d saddle connections (want some)", len(rows), k, nConns)
	}

	// The matrices against the pair rows; the summaries.
	var methods []string
	for m := range got.Distance {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	if fmt.Sprint(methods) != "[graph index topology]" {
		t.Fatalf("distance methods %v", methods)
	}
	summaries, differ := 0, 0
	for _, p := range pairs {
		if p.ARule == "*" {
			summaries++
			if p.Method == "within_vs_between:topology" && (p.Permutations != 30 || !(p.PValue > 0 && p.PValue <= 1)) {
				t.Errorf("test row %+v", p)
			}
			continue
		}
		a, b := -1, -1
		for i, n := range got.Networks {
			if n.Rule == p.ARule && n.Seed == p.ASeed {
				a = i
			}
			if n.Rule == p.BRule && n.Seed == p.BSeed {
				b = i
			}
		}
		if a < 0 || b < 0 {
			t.Fatalf("pair row %+v names no network", p)
		}
		if d := got.Distance[p.Method]; float64(d[a][b]) != p.Value || float64(d[b][a]) != p.Value {
			t.Errorf("%s[%d][%d] = %v, row %v", p.Method, a, b, d[a][b], p.Value)
		}
		if p.Method == stages.MethodTopology && p.Value > 0 {
			differ++
		}
	}
	if differ != 3 {
		t.Errorf("%d pairs of networks with different topology, want the 3 with the bistable network", differ)
	}
	// 6 pairs × 3 methods + the test + the same-seed mean.
	if len(pairs) != 6*3+2 || summaries != 2 || len(got.Pairs) != len(pairs) {
		t.Errorf("%d pair rows (%d summaries), %d in the JSON; want 20 (2)", len(pairs), summaries, len(got.Pairs))
	}
}

// TestAnalyzeLandscapeBistable maps a network whose landscape is known in
// closed form (bistableFile): under no input, 2 attractors at x = ±β on
// the free units (β = g tanh β) and 1 saddle at the origin whose two
// branches reach one attractor each. The points are those `analyze
// fixedpoints` reports with the same flags, in the same order; the text
// summary says the same.
func TestAnalyzeLandscapeBistable(t *testing.T) {
	f := loadFixture(t)
	file, net := bistableFile(t, f, "train/gonogo/miconi/seed=1", t.TempDir())
	beta := 1.0
	for range 200 { // β = g tanh(β), by fixed-point iteration
		beta = bistableGain * math.Tanh(beta)
	}
	var got landscapeJSON
	analyzeJSON(t, &got, "landscape", "--network", file, "--manifest", f.manifest)
	var fp fixedPointsJSON
	analyzeJSON(t, &fp, "fixedpoints", "--network", file, "--manifest", f.manifest)
	if len(got.Maps) != 1 || len(got.Pairs) != 0 || len(got.Distance) != 0 {
		t.Fatalf("%d maps, %d pairs, %d matrices; want 1, 0, 0", len(got.Maps), len(got.Pairs), len(got.Distance))
	}
	none := got.Maps[0].Inputs[0]
	if none.Input != "none" || fmt.Sprint(none.ByIndex) != "[2 1]" || none.Slow != 0 || len(none.Connections) != 1 {
		t.Fatalf("input %s: by index %v, %d slow, connections %v; want [2 1], 0, one saddle", none.Input, none.ByIndex, none.Slow, none.Connections)
	}
	var xs [][]float64 // the points of input none, in row order
	for _, p := range fp.Points {
		if p.Input == "none" {
			xs = append(xs, p.X)
		}
	}
	if len(xs) != len(none.Points) {
		t.Fatalf("%d points of input none, analyze fixedpoints finds %d", len(none.Points), len(xs))
	}
	sign := map[int32]float64{} // attractor → the sign of its x
	for k, p := range none.Points {
		if p.Point != int32(k) {
			t.Errorf("point %d is numbered %d", k, p.Point)
		}
		var want float64 // saddle: the origin
		if p.Index == 0 {
			want = math.Copysign(beta, xs[k][firstFree(net)])
			sign[p.Point] = want
		}
		for i, x := range xs[k] {
			if !net.IsClamped(i) && math.Abs(x-want) > 1e-6 {
				t.Errorf("point %d of index %d: x_%d = %v, want %v", k, p.Index, i, x, want)
			}
		}
	}
	c := none.Connections[0]
	if none.Points[c.Saddle].Index != 1 || c.Attractors[0] < 0 || c.Attractors[1] < 0 || sign[c.Attractors[0]]*sign[c.Attractors[1]] >= 0 {
		t.Errorf("saddle #%d connects %v; want one attractor each side (signs %v)", c.Saddle, c.Attractors, sign)
	}
	code, text, errOut := runCLI(t, "analyze", "landscape", "--network", file, "--manifest", f.manifest)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	line := fmt.Sprintf("%-16s %-36s %5d  #%d → #%d, #%d\n", "none", "2 stable, 1 index 1", 0, c.Saddle, c.Attractors[0], c.Attractors[1])
	if !strings.Contains(text, line) || !strings.Contains(text, "explained variance: PC1 ") {
		t.Errorf("summary lacks %q:\n%s", line, text)
	}
}

// firstFree is the first unclamped unit of net.
func firstFree(net *rnn.Network) int {
	for i := range net.N {
		if !net.IsClamped(i) {
			return i
		}
	}
	return -1
}
