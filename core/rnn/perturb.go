package rnn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Scheme names an exploration perturbation scheme.
type Scheme string

// The perturbation schemes of the model specification.
const (
	// Decoupled: each unit, at each step t ≥ Start, independently with
	// probability Prob receives Amp·U[−1,1] (Miconi 2017).
	Decoupled Scheme = "decoupled"
	// Gaussian: every unit at every step t ≥ Start receives Sigma·N(0,1).
	Gaussian Scheme = "gaussian"
	// None: no perturbation (a reward-gated rule cannot learn without one).
	None Scheme = "none"
)

// Perturbation configures the exploration noise ξ. The zero value is None.
type Perturbation struct {
	Scheme Scheme  // decoupled, gaussian or none (default none)
	Prob   float64 // decoupled: probability per unit per step (Miconi: 0.003)
	Amp    float64 // decoupled: amplitude A of A·U[−1,1] (Miconi: 16)
	Sigma  float64 // gaussian: standard deviation
	Start  int     // first step that can be perturbed (Miconi: 4)
}

// Validate reports an unknown scheme or an out-of-range parameter.
func (p Perturbation) Validate() error {
	switch p.Scheme {
	case "", None:
	case Decoupled:
		if !(p.Prob >= 0 && p.Prob <= 1) {
			return fmt.Errorf("rnn: perturbation prob = %v: must be in [0, 1]", p.Prob)
		}
		if !(p.Amp >= 0) || math.IsInf(p.Amp, 0) {
			return fmt.Errorf("rnn: perturbation amplitude = %v: must be finite and ≥ 0", p.Amp)
		}
	case Gaussian:
		if !(p.Sigma >= 0) || math.IsInf(p.Sigma, 0) {
			return fmt.Errorf("rnn: perturbation sigma = %v: must be finite and ≥ 0", p.Sigma)
		}
	default:
		return fmt.Errorf("rnn: unknown perturbation scheme %q: use decoupled, gaussian or none", p.Scheme)
	}
	if p.Start < 0 {
		return fmt.Errorf("rnn: perturbation start = %d: must be ≥ 0", p.Start)
	}
	return nil
}

// Fill writes ξ^0…ξ^{T−1} (T×N, row-major) into xi, drawing from rng. Entries
// that receive no perturbation are set to zero. The draws are a deterministic
// function of the state of rng.
func (p Perturbation) Fill(rng *rand.Rand, xi []float64, T, N int) {
	xi = xi[:T*N]
	clear(xi)
	start := min(max(p.Start, 0), T) * N
	switch p.Scheme {
	case Decoupled:
		if p.Prob <= 0 {
			return
		}
		if p.Prob >= 1 {
			for k := start; k < len(xi); k++ {
				xi[k] = p.Amp * (2*rng.Float64() - 1)
			}
			return
		}
		// Skip ahead by geometric gaps instead of one Bernoulli draw per entry:
		// the same distribution, ~1/p times fewer draws.
		logq := math.Log1p(-p.Prob)
		k := start
		for {
			gap := math.Floor(math.Log(1-rng.Float64()) / logq)
			if gap >= float64(len(xi)-k) {
				return
			}
			k += int(gap)
			xi[k] = p.Amp * (2*rng.Float64() - 1)
			k++
		}
	case Gaussian:
		for k := start; k < len(xi); k++ {
			xi[k] = p.Sigma * rng.NormFloat64()
		}
	}
}
