package fixedpoints

import (
	"fmt"
	"math/rand/v2"

	"rulescape/core/rnn"
)

// sampleStream is the PCG stream of SampleInits, so that a caller's seed used
// elsewhere does not reproduce the same numbers here.
const sampleStream = 0x66697865647074 // "fixedpt"

// SampleInits draws s.Inits initial states from the states of the given
// trajectories (every row x^t, t = 0…T, of every trace is equally likely) and
// adds N(0, s.Noise²) to each coordinate that net does not clamp; clamped
// coordinates are set to their values. The draw depends only on s.Seed and
// the traces.
func SampleInits(net *rnn.Network, traces []*rnn.Trace, s Settings) ([][]float64, error) {
	s, err := s.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("fixedpoints: %w", err)
	}
	n := net.N
	var rows [][]float64
	for k, tr := range traces {
		if tr == nil {
			return nil, fmt.Errorf("fixedpoints: trace %d is nil", k)
		}
		if tr.N != n || len(tr.X) < (tr.T+1)*n {
			return nil, fmt.Errorf("fixedpoints: trace %d has N=%d and %d state values, want N=%d and (T+1)·N=%d",
				k, tr.N, len(tr.X), n, (tr.T+1)*n)
		}
		for t := 0; t <= tr.T; t++ {
			rows = append(rows, tr.X[t*n:(t+1)*n])
		}
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("fixedpoints: no trajectory states to sample from: pass at least one trace from rnn.Network.Run")
	}
	rng := rand.New(rand.NewPCG(s.Seed, sampleStream))
	out := make([][]float64, s.Inits)
	for k := range out {
		x := append([]float64(nil), rows[rng.IntN(len(rows))]...)
		for i := range x {
			x[i] += s.Noise * rng.NormFloat64()
		}
		net.ApplyClamps(x)
		out[k] = x
	}
	return out, nil
}
