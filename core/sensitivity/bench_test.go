package sensitivity

import (
	"context"
	"math/rand/v2"
	"testing"

	"rulescape/core/plasticity"
	"rulescape/core/rnn"
	"rulescape/core/tasks"
)

// BenchmarkGradient: Miconi-sized network (N = 200, three clamps, one readout
// unit), T = 1000, 16 trials with decoupled perturbations, abs loss.
func BenchmarkGradient(b *testing.B) {
	net, batch := benchBatch(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := Gradient(ctx, net, batch, plasticity.LossAbs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(batch.Items))/1e6, "ms/trial")
}

// BenchmarkScore is the forward pass alone on the same batch (serial), for
// comparison with BenchmarkGradient.
func BenchmarkScore(b *testing.B) {
	net, batch := benchBatch(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Score(ctx, net, batch, plasticity.LossAbs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(batch.Items))/1e6, "ms/trial")
}

func benchBatch(b *testing.B) (*rnn.Network, *Batch) {
	const n, T, trials = 200, 1000, 16
	net, err := rnn.Init(rand.New(rand.NewPCG(1, 1)), rnn.InitConfig{N: n, G: 1.5, Clamps: []float64{1, 1, -1}}, 2, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	batch := &Batch{Dyn: rnn.Dynamics{Dt: 1, Tau: 30}}
	p := rnn.Perturbation{Scheme: rnn.Decoupled, Prob: 0.003, Amp: 16, Start: 4}
	for h := range trials {
		tr := tasks.NewTrial(h%4, T, 2, 1)
		for t := 0; t < 200; t++ {
			tr.U[t*2+h%2] = 1
		}
		for t := T - 200; t < T; t++ {
			tr.Mask[t] = 1
			tr.Target[t] = float64(2*(h%2) - 1)
		}
		x0 := make([]float64, n)
		net.InitState(rng, x0, 0.1)
		xi := make([]float64, T*n)
		p.Fill(rng, xi, T, n)
		batch.Items = append(batch.Items, Item{Trial: tr, X0: x0, Xi: xi})
	}
	return net, batch
}
