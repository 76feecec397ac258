package sensitivity

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// smallNet returns an N-unit network with M = 2 inputs, O = 2 random readouts
// and two clamped units, with recurrent gain g.
func smallNet(t *testing.T, seed uint64, n int, g float64) *rnn.Network {
	t.Helper()
	net, err := rnn.Init(rand.New(rand.NewPCG(seed, 1)), rnn.InitConfig{N: n, G: g, Readout: rnn.ReadoutRandom, Clamps: []float64{1, -1}}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// randomBatch builds a batch by hand: random inputs, targets in [−1, 1], a
// mask covering the second half of the trial with unequal weights, x⁰ with
// clamps and ξ per the perturbation scheme.
func randomBatch(net *rnn.Network, seed uint64, trials, T int, p rnn.Perturbation) *Batch {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := &Batch{Dyn: rnn.Dynamics{Dt: 1, Tau: 5}}
	for h := range trials {
		tr := tasks.NewTrial(h%3, T, net.M, net.O)
		for k := range tr.U {
			tr.U[k] = rng.NormFloat64()
		}
		for k := range tr.Target {
			tr.Target[k] = 2*rng.Float64() - 1
		}
		for t := T / 2; t < T; t++ {
			tr.Mask[t] = 0.5 + rng.Float64()
		}
		x0 := make([]float64, net.N)
		net.InitState(rng, x0, 0.5)
		var xi []float64
		if p.Scheme != rnn.None && p.Scheme != "" {
			xi = make([]float64, T*net.N)
			p.Fill(rng, xi, T, net.N)
		}
		b.Items = append(b.Items, Item{Trial: tr, X0: x0, Xi: xi})
	}
	return b
}

func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(na), math.Sqrt(nb))
}

// fdGradient is the central finite difference of Score over every entry of W.
func fdGradient(t *testing.T, net *rnn.Network, b *Batch, loss plasticity.Loss, h float64) []float64 {
	t.Helper()
	ctx := context.Background()
	p := net.Clone()
	g := make([]float64, len(p.W))
	for k := range p.W {
		w := p.W[k]
		p.W[k] = w + h
		sp, err := Score(ctx, p, b, loss)
		if err != nil {
			t.Fatal(err)
		}
		p.W[k] = w - h
		sm, err := Score(ctx, p, b, loss)
		if err != nil {
			t.Fatal(err)
		}
		p.W[k] = w
		g[k] = (sp - sm) / (2 * h)
	}
	return g
}

// TestGradientMatchesFiniteDifferences is the acceptance test: the adjoint
// gradient equals central finite differences of S over all N² entries to
// relative error ≤ 1e-6, for both losses, with clamps and with perturbations.
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	gonogo := tasks.NewGoNoGo()
	if err := tasks.Configure(gonogo, []byte(`{"steps": 30, "stim_start": 3, "stim_end": 12, "response": 10}`)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		loss  plasticity.Loss
		batch func(net *rnn.Network) *Batch
	}{
		{"mse gaussian", plasticity.LossMSE, func(net *rnn.Network) *Batch {
			return randomBatch(net, 3, 5, 30, rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.5})
		}},
		{"abs gaussian", plasticity.LossAbs, func(net *rnn.Network) *Batch {
			return randomBatch(net, 4, 5, 30, rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.5})
		}},
		{"abs decoupled", plasticity.LossAbs, func(net *rnn.Network) *Batch {
			return randomBatch(net, 5, 4, 30, rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.1, Amp: 4, Start: 3})
		}},
		{"mse none", plasticity.LossMSE, func(net *rnn.Network) *Batch {
			return randomBatch(net, 6, 3, 30, rnn.Perturbation{})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			net := smallNet(t, 7, 8, 1.5)
			b := c.batch(net)
			s, g, err := Gradient(context.Background(), net, b, c.loss)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := Score(context.Background(), net, b, c.loss)
			if err != nil {
				t.Fatal(err)
			}
			if s != s2 {
				t.Errorf("Gradient's S = %v, Score = %v", s, s2)
			}
			fd := fdGradient(t, net, b, c.loss, 1e-5)
			t.Logf("relative error %.3g", relErr(g, fd))
			if e := relErr(g, fd); e > 1e-6 {
				t.Errorf("relative error %.3g vs central differences > 1e-6", e)
			}
			for _, i := range net.ClampIndex {
				for j := range net.N {
					if g[i*net.N+j] != 0 {
						t.Fatalf("G[%d][%d] = %v: rows of clamped units must be zero", i, j, g[i*net.N+j])
					}
				}
			}
		})
	}
	// A task batch from NewBatch: one readout unit, the task's own mask.
	t.Run("gonogo NewBatch", func(t *testing.T) {
		net, err := rnn.Init(rand.New(rand.NewPCG(9, 1)), rnn.InitConfig{N: 8, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewBatch(gonogo, net, rnn.Dynamics{Dt: 1, Tau: 4}, BatchSettings{Repeats: 3, Seed: 2, X0Range: 0.3,
			Perturb: rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.05, Amp: 3, Start: 2}})
		if err != nil {
			t.Fatal(err)
		}
		for _, loss := range []plasticity.Loss{plasticity.LossAbs, plasticity.LossMSE} {
			_, g, err := Gradient(context.Background(), net, b, loss)
			if err != nil {
				t.Fatal(err)
			}
			if e := relErr(g, fdGradient(t, net, b, loss, 1e-5)); e > 1e-6 {
				t.Errorf("%s: relative error %.3g vs central differences > 1e-6", loss, e)
			}
		}
	})
}

// The gradient is a sum over trials: the gradient of a batch is the
// count-weighted mean of the gradients of its halves, and it does not depend
// on how the trials are spread over goroutines.
func TestGradientAdditiveOverTrials(t *testing.T) {
	net := smallNet(t, 11, 10, 1.2)
	b := randomBatch(net, 12, 6, 20, rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 0.3})
	ctx := context.Background()
	s, g, err := Gradient(ctx, net, b, plasticity.LossMSE)
	if err != nil {
		t.Fatal(err)
	}
	s1, g1, err := Gradient(ctx, net, &Batch{Dyn: b.Dyn, Items: b.Items[:2]}, plasticity.LossMSE)
	if err != nil {
		t.Fatal(err)
	}
	s2, g2, err := Gradient(ctx, net, &Batch{Dyn: b.Dyn, Items: b.Items[2:]}, plasticity.LossMSE)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(s - (2*s1+4*s2)/6); d > 1e-14 {
		t.Errorf("S = %v, weighted halves give %v", s, (2*s1+4*s2)/6)
	}
	want := make([]float64, len(g))
	for k := range want {
		want[k] = (2*g1[k] + 4*g2[k]) / 6
	}
	if e := relErr(g, want); e > 1e-13 {
		t.Errorf("relative error %.3g between G and the weighted halves", e)
	}
	for _, procs := range []int{1, 3} {
		prev := runtime.GOMAXPROCS(procs)
		_, again, err := Gradient(ctx, net, b, plasticity.LossMSE)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		for k := range g {
			if g[k] != again[k] {
				t.Fatalf("GOMAXPROCS=%d: G[%d] = %v, with the default %v: must not depend on the goroutines", procs, k, again[k], g[k])
			}
		}
	}
}

// With the abs loss and outputs equal to their targets, the subgradient at 0
// is taken as 0: a network with a zero readout and zero targets has G = 0.
func TestGradientAbsAtZero(t *testing.T) {
	net := smallNet(t, 13, 6, 1)
	clear(net.Wout)
	b := randomBatch(net, 14, 2, 10, rnn.Perturbation{})
	for _, it := range b.Items {
		clear(it.Trial.Target)
	}
	s, g, err := Gradient(context.Background(), net, b, plasticity.LossAbs)
	if err != nil {
		t.Fatal(err)
	}
	if s != 0 {
		t.Errorf("S = %v, want 0", s)
	}
	for k, v := range g {
		if v != 0 {
			t.Fatalf("G[%d] = %v, want 0 (sign(0) = 0)", k, v)
		}
	}
}

func TestGradientErrors(t *testing.T) {
	net := smallNet(t, 1, 6, 1)
	good := randomBatch(net, 2, 2, 10, rnn.Perturbation{})
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		loss plasticity.Loss
		edit func(b *Batch)
		want string
	}{
		{"loss", ctx, "huber", nil, "unknown loss"},
		{"empty", ctx, "", func(b *Batch) { b.Items = nil }, "empty batch"},
		{"x0", ctx, "", func(b *Batch) { b.Items[1].X0 = b.Items[1].X0[:3] }, "batch item 1: X0"},
		{"xi", ctx, "", func(b *Batch) { b.Items[0].Xi = make([]float64, 5) }, "Xi has 5"},
		{"mask", ctx, "", func(b *Batch) { b.Items[0].Trial.Mask[2] = -1 }, "mask entry 2"},
		{"dyn", ctx, "", func(b *Batch) { b.Dyn.Tau = 0 }, "tau"},
		{"cancelled", cancelled, "", nil, "stopped"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &Batch{Dyn: good.Dyn}
			for _, it := range good.Items {
				it.X0 = append([]float64(nil), it.X0...)
				it.Trial.Mask = append([]float64(nil), it.Trial.Mask...)
				b.Items = append(b.Items, it)
			}
			if c.edit != nil {
				c.edit(b)
			}
			_, _, err := Gradient(c.ctx, net, b, c.loss)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Gradient error = %v, want one containing %q", err, c.want)
			}
			if c.name != "cancelled" {
				if _, err := Score(c.ctx, net, b, c.loss); err == nil {
					t.Errorf("Score accepted the bad batch")
				}
			}
		})
	}
}

func TestNewBatch(t *testing.T) {
	task := tasks.NewGoNoGo()
	if err := tasks.Configure(task, []byte(`{"steps": 20, "stim_start": 2, "stim_end": 8, "response": 5}`)); err != nil {
		t.Fatal(err)
	}
	net, err := rnn.Init(rand.New(rand.NewPCG(1, 1)), rnn.InitConfig{N: 6, G: 1, Clamps: []float64{1, -1}}, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	dyn := rnn.Dynamics{Dt: 1, Tau: 10}
	set := BatchSettings{Repeats: 3, Seed: 4, X0Range: 0.1, Perturb: rnn.Perturbation{Scheme: rnn.Gaussian, Sigma: 1, Start: 5}}
	b, err := NewBatch(task, net, dyn, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Items) != 6 {
		t.Fatalf("%d items, want 2 conditions × 3 repeats", len(b.Items))
	}
	for h, it := range b.Items {
		if it.Trial.Condition != h/3 {
			t.Errorf("item %d has condition %d, want %d", h, it.Trial.Condition, h/3)
		}
		if it.X0[1] != 1 || it.X0[2] != -1 {
			t.Errorf("item %d: clamped units start at %v, %v, want 1, −1", h, it.X0[1], it.X0[2])
		}
		for k, v := range it.Xi[:5*net.N] {
			if v != 0 {
				t.Fatalf("item %d: ξ entry %d = %v before the start step", h, k, v)
			}
		}
	}
	again, err := NewBatch(task, net, dyn, set)
	if err != nil {
		t.Fatal(err)
	}
	for h := range b.Items {
		if !equal(b.Items[h].X0, again.Items[h].X0) || !equal(b.Items[h].Xi, again.Items[h].Xi) {
			t.Fatalf("item %d differs between two batches from the same seed", h)
		}
	}
	// Without perturbations the x⁰ stay the same (independent streams).
	set.Perturb = rnn.Perturbation{}
	quiet, err := NewBatch(task, net, dyn, set)
	if err != nil {
		t.Fatal(err)
	}
	if !equal(quiet.Items[4].X0, b.Items[4].X0) || quiet.Items[4].Xi != nil {
		t.Errorf("dropping ξ changed x⁰ or left ξ non-nil")
	}

	bad := []struct {
		name string
		set  BatchSettings
		dyn  rnn.Dynamics
		net  *rnn.Network
		want string
	}{
		{"repeats", BatchSettings{Repeats: -1}, dyn, net, "Repeats"},
		{"x0", BatchSettings{X0Range: math.NaN()}, dyn, net, "X0Range"},
		{"perturb", BatchSettings{Perturb: rnn.Perturbation{Scheme: "pink"}}, dyn, net, "pink"},
		{"dyn", BatchSettings{}, rnn.Dynamics{Dt: 1, Tau: 0.5}, net, "tau"},
		{"sizes", BatchSettings{}, dyn, smallNet(t, 1, 6, 1), "O=1"},
	}
	for _, c := range bad {
		if _, err := NewBatch(task, c.net, c.dyn, c.set); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
