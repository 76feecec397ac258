package plasticity

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// cpuTimer locks the benchmark to its thread and returns a function that
// reports the thread's CPU time per iteration as cpu-ns/op (on Linux). A
// trial runs in one goroutine, so on a shared machine this counts the
// trial's own work, not the time it waited for a core; call it after
// ResetTimer and defer the result.
func cpuTimer(b *testing.B) func() {
	runtime.LockOSThread()
	t0 := threadCPU()
	return func() {
		d := threadCPU() - t0
		runtime.UnlockOSThread()
		if d > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// dnmsBench builds Miconi's DNMS setting: N = 200, T = 1000, his rule and
// learner, decoupled perturbations.
func dnmsBench(b *testing.B) (*Learner, *tasks.Trial, []float64, []float64) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := rnn.Init(rng, rnn.InitConfig{N: 200, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		b.Fatal(err)
	}
	rule, _ := Named("miconi", 3, 3)
	cfg := Miconi2017()
	cfg.WarmupTrials = 0
	l, err := NewLearner(net, rnn.Dynamics{Dt: 1, Tau: 30}, rule, cfg, 4)
	if err != nil {
		b.Fatal(err)
	}
	tr := tasks.NewDNMS().Trial(1, nil)
	x0 := make([]float64, 200)
	net.InitState(rng, x0, 0.1)
	xi := make([]float64, tr.T*200)
	rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4}.Fill(rng, xi, tr.T, 200)
	return l, &tr, x0, xi
}

// BenchmarkTrialDNMS is one full learning trial (primal pass, eligibility as
// one matrix product, weight update) of Miconi's DNMS at N = 200, T = 1000.
func BenchmarkTrialDNMS(b *testing.B) {
	l, tr, x0, xi := dnmsBench(b)
	learnTrials(b, func() error { _, err := l.Learn(tr, x0, xi, nil); return err })
}

// BenchmarkTrialDNMSF32 is BenchmarkTrialDNMS on the float32 path
// (Learner32): the same network, trial and perturbations.
func BenchmarkTrialDNMSF32(b *testing.B) {
	l64, tr, x0, xi := dnmsBench(b)
	l, err := NewLearner32(l64.Net, l64.Dyn, l64.Rule, l64.Cfg, len(l64.Baseline))
	if err != nil {
		b.Fatal(err)
	}
	learnTrials(b, func() error { _, err := l.Learn(tr, x0, xi, nil); return err })
}

// learnTrials times b.N learning trials, reporting allocations and the
// thread's CPU time per trial.
func learnTrials(b *testing.B, learn func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	defer cpuTimer(b)()
	for i := 0; i < b.N; i++ {
		if err := learn(); err != nil {
			b.Fatal(err)
		}
	}
}

// gonogoBench builds the small setting of the quickstart and the atlas:
// go/no-go with T = 150 (cue at steps 10–59, response over the last 50),
// N = 30, Miconi's rule with the quickstart's learner (η = 1, clip 0.01,
// plain gain, mse loss, gate t ≥ 3) and decoupled perturbations.
func gonogoBench(b *testing.B) (*Learner, *tasks.Trial, []float64, []float64) {
	b.Helper()
	const n = 30
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := rnn.Init(rng, rnn.InitConfig{N: n, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		b.Fatal(err)
	}
	rule, _ := Named("miconi", 3, 3)
	cfg := Miconi2017()
	cfg.Eta, cfg.Clip, cfg.Gain, cfg.Loss, cfg.WarmupTrials = 1, 0.01, GainPlain, LossMSE, 0
	l, err := NewLearner(net, rnn.Dynamics{Dt: 1, Tau: 30}, rule, cfg, 2)
	if err != nil {
		b.Fatal(err)
	}
	task := tasks.NewGoNoGo()
	task.Steps, task.StimStart, task.StimEnd, task.Response = 150, 10, 60, 50
	tr := task.Trial(0, nil)
	x0 := make([]float64, n)
	net.InitState(rng, x0, 0.1)
	xi := make([]float64, tr.T*n)
	rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4}.Fill(rng, xi, tr.T, n)
	return l, &tr, x0, xi
}

// BenchmarkTrialGoNoGo is one learning trial of a small network: go/no-go
// at N = 30, T = 150, where per-trial overheads weigh most.
func BenchmarkTrialGoNoGo(b *testing.B) {
	l, tr, x0, xi := gonogoBench(b)
	learnTrials(b, func() error { _, err := l.Learn(tr, x0, xi, nil); return err })
}

// BenchmarkTrialGoNoGoF32 is BenchmarkTrialGoNoGo on the float32 path.
func BenchmarkTrialGoNoGoF32(b *testing.B) {
	l64, tr, x0, xi := gonogoBench(b)
	l, err := NewLearner32(l64.Net, l64.Dyn, l64.Rule, l64.Cfg, len(l64.Baseline))
	if err != nil {
		b.Fatal(err)
	}
	learnTrials(b, func() error { _, err := l.Learn(tr, x0, xi, nil); return err })
}

// BenchmarkTrialDNMSPerStep is the same trial with the eligibility updated
// element by element at every step, as in Miconi's reference code (with only
// the rule's non-zero terms evaluated): the baseline the matrix-product
// formulation is measured against.
func BenchmarkTrialDNMSPerStep(b *testing.B) {
	l, tr, x0, xi := dnmsBench(b)
	n := l.Net.N
	e := make([]float64, n*n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Net.Run(l.Dyn, x0, tr.U, xi, tr.T, &l.Trace)
		perStepEligibility(l.Rule, l.Trace.X, l.Trace.R, n, tr.T, l.Cfg.AlphaX, l.Dyn.Dt, 1, l.Cfg.GateStart, e)
		E := TrialError(l.Cfg.Loss, l.Trace.Y, tr.Target, tr.Mask, tr.T, 1)
		A := -E - l.Baseline[tr.Condition]
		for k := range e {
			l.Net.W[k] += max(-l.Cfg.Clip, min(l.Cfg.Clip, l.Cfg.Eta*A*e[k])) * l.Mask[k]
		}
	}
}

// perStepEligibility is the straightforward per-step, element-wise update
// e ← λ e + dt g Σ_kl θ_kl Δ_i^l r_j^k over the non-zero θ_kl, with the
// powers of Δ and r computed once per step.
func perStepEligibility(rule Rule, x, r []float64, n, T int, alphaX, dt, lambda float64, gateStart int, e []float64) {
	type term struct {
		k, l int
		th   float64
	}
	var terms []term
	for k := 0; k <= rule.K; k++ {
		for l := 0; l <= rule.L; l++ {
			if th := rule.At(k, l); th != 0 {
				terms = append(terms, term{k, l, th})
			}
		}
	}
	clear(e)
	xbar := append([]float64(nil), x[:n]...)
	dpow := make([][]float64, rule.L+1) // Δ_i^l of this step
	rpow := make([][]float64, rule.K+1) // r_j^k of this step
	for l := range dpow {
		dpow[l] = make([]float64, n)
	}
	for k := range rpow {
		rpow[k] = make([]float64, n)
	}
	for t := 0; t < T; t++ {
		next := x[(t+1)*n : (t+2)*n]
		rt := r[t*n : (t+1)*n]
		for i := 0; i < n; i++ {
			d := xbar[i] - next[i]
			xbar[i] = alphaX*xbar[i] + (1-alphaX)*next[i]
			for l := range dpow {
				dpow[l][i] = math.Pow(d, float64(l))
			}
			for k := range rpow {
				rpow[k][i] = math.Pow(rt[i], float64(k))
			}
		}
		g := 0.0
		if t >= gateStart {
			g = dt
		}
		for i := 0; i < n; i++ {
			row := e[i*n : (i+1)*n]
			for j := range row {
				h := 0.0
				for _, tm := range terms {
					h += tm.th * dpow[tm.l][i] * rpow[tm.k][j]
				}
				row[j] = lambda*row[j] + g*h
			}
		}
	}
}

// TestPerStepEligibilityAgrees keeps the benchmark baseline honest: it
// computes the same e^T as the matrix-product form.
func TestPerStepEligibilityAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, T = 9, 40
	net, _ := rnn.Init(rng, rnn.InitConfig{N: n, G: 1.5}, 2, 1)
	x0 := make([]float64, n)
	net.InitState(rng, x0, 0.5)
	u := make([]float64, T*2)
	rnn.InitUniform(rng, u, 1)
	var tr rnn.Trace
	net.Run(rnn.Dynamics{Dt: 1, Tau: 5}, x0, u, nil, T, &tr)
	rule, _ := NewRule(3, 3)
	rule.Set(3, 3, -1)
	rule.Set(1, 2, 0.5)
	rule.Set(0, 1, 0.25)
	want := make([]float64, n*n)
	perStepEligibility(rule, tr.X, tr.R, n, T, 0.05, 1, 1, 3, want)
	delta, xbar, c := make([]float64, T*n), make([]float64, n), make([]float64, T)
	Fluctuation(tr.X, n, T, 0.05, delta, xbar)
	Weights(c, T, 1, 1, nil, 3)
	got := make([]float64, n*n)
	var ws Workspace
	ws.Eligibility(rule, delta, tr.R, c, n, T, got)
	for k := range got {
		if math.Abs(got[k]-want[k]) > 1e-12*math.Max(1, math.Abs(want[k])) {
			t.Fatalf("e[%d] = %g, per-step gives %g", k, got[k], want[k])
		}
	}
}
