package rnn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// InitRecurrent fills w (N×N) with G·N(0,1)/√N. With density in (0, 1), each
// weight is kept with probability density and the kept ones are scaled by
// 1/√density so that the spectral radius stays ≈ G. density ≤ 0 or ≥ 1 means dense.
func InitRecurrent(rng *rand.Rand, w []float64, n int, g, density float64) {
	scale := g / math.Sqrt(float64(n))
	sparse := density > 0 && density < 1
	if sparse {
		scale /= math.Sqrt(density)
	}
	for k := range w[:n*n] {
		v := rng.NormFloat64()
		if sparse && rng.Float64() >= density {
			v = 0
		}
		w[k] = scale * v
	}
}

// InitUniform fills w with U[−a, a] (W_in ~ U[−1,1] with a = 1).
func InitUniform(rng *rand.Rand, w []float64, a float64) {
	for k := range w {
		w[k] = a * (2*rng.Float64() - 1)
	}
}

// Readout names how W_out is built.
type Readout string

// Readout schemes.
const (
	// ReadoutUnits reads output o from the rate of one dedicated unit (Miconi
	// 2017 reads his output from unit 0): W_out[o][unit_o] = 1.
	ReadoutUnits Readout = "units"
	// ReadoutRandom draws W_out ~ N(0,1)/√N.
	ReadoutRandom Readout = "random"
)

// InitConfig describes how to build a fresh network.
type InitConfig struct {
	N       int     // recurrent units (Miconi: 200)
	G       float64 // gain of the initial recurrent weights (Miconi: 1.5)
	Density float64 // fraction of non-zero recurrent weights; 0 or 1 = dense
	InScale float64 // W_in ~ U[−InScale, InScale] (default 1)
	Readout Readout // units (default) or random
	Clamps  []float64
	// Clamps lists the values of clamped bias units (Miconi: +1, +1, −1). They
	// are the units placed right after the readout units.
}

// Validate reports a size or scheme out of range.
func (c InitConfig) Validate(m, o int) error {
	if c.N <= 0 {
		return fmt.Errorf("rnn: N = %d: the network needs at least one unit", c.N)
	}
	if !(c.G >= 0) || math.IsInf(c.G, 0) {
		return fmt.Errorf("rnn: G = %v: must be finite and ≥ 0", c.G)
	}
	if c.Density < 0 || c.Density > 1 {
		return fmt.Errorf("rnn: density = %v: must be in [0, 1]", c.Density)
	}
	switch c.Readout {
	case "", ReadoutUnits:
		if o+len(c.Clamps) > c.N {
			return fmt.Errorf("rnn: N = %d is too small for %d readout units and %d clamped units", c.N, o, len(c.Clamps))
		}
	case ReadoutRandom:
		if len(c.Clamps) > c.N {
			return fmt.Errorf("rnn: N = %d is too small for %d clamped units", c.N, len(c.Clamps))
		}
	default:
		return fmt.Errorf("rnn: unknown readout %q: use units or random", c.Readout)
	}
	return nil
}

// Init builds a network with M inputs and O outputs: W⁰ = G·N(0,1)/√N,
// W_in ~ U[−InScale, InScale], b = 0, W_out per Readout, and the clamped bias
// units. All draws come from rng, in that order.
func Init(rng *rand.Rand, c InitConfig, m, o int) (*Network, error) {
	if err := c.Validate(m, o); err != nil {
		return nil, err
	}
	net, err := NewNetwork(c.N, m, o)
	if err != nil {
		return nil, err
	}
	InitRecurrent(rng, net.W, c.N, c.G, c.Density)
	in := c.InScale
	if in == 0 {
		in = 1
	}
	InitUniform(rng, net.Win, in)
	first := 0
	switch c.Readout {
	case "", ReadoutUnits:
		for k := 0; k < o; k++ {
			net.Wout[k*c.N+k] = 1
		}
		first = o
	case ReadoutRandom:
		s := 1 / math.Sqrt(float64(c.N))
		for k := range net.Wout {
			net.Wout[k] = s * rng.NormFloat64()
		}
	}
	for k, v := range c.Clamps {
		net.ClampIndex = append(net.ClampIndex, first+k)
		net.ClampValue = append(net.ClampValue, v)
	}
	return net, nil
}

// InitState fills x0 with U[−a, a] and applies the clamps (Miconi: a = 0.1).
func (net *Network) InitState(rng *rand.Rand, x0 []float64, a float64) {
	InitUniform(rng, x0[:net.N], a)
	net.ApplyClamps(x0)
}
